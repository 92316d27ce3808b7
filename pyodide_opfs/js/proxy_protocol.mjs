// @ts-check
// The proxy backend's wire format: one SharedArrayBuffer shared by the Pyodide worker (the
// client, proxy_client.mjs, synchronous) and the proxy worker (proxy_worker.mjs, asynchronous).
// Both sides import this module, so the layout and the op codes live here only.
//
// Layout (byte offsets):
//   0    CTRL  Int32Array[16]    sequence numbers, op, status, int arguments and results
//   64   NUM   Float64Array[8]   positions, sizes, times (files may exceed 2 GiB)
//   128  STR   Uint8Array[STR_BYTES]   request strings (UTF-8 paths; rename: "from\0to")
//   ...  DATA  Uint8Array[dataBytes]   request: the batch; response: read data or JSON
//
// One request at a time. The client writes the arguments, stores REQ_SEQ = n and notifies; the
// proxy (blocked in Atomics.waitAsync on REQ_SEQ, so its event loop keeps running) first applies
// the batch (queued writes and closes, see below), then runs the op, writes the results and
// stores RESP_SEQ = n and notifies. The client waits on RESP_SEQ with a bounded timeout.
//
// The batch: writes do not cost a round trip each. The client appends them to DATA as records
// (RECORD_BYTES header, then the bytes, padded to 8) and they travel with the next request of
// any kind; closes travel the same way. The proxy applies the records in order before the op;
// if one fails, the op is not run and its error is the reply (closes are still applied).
// So everything the flush policy orders is applied in the order it was issued, and a failed
// write is reported no later than the flush or metadata change that depends on it.

export const CTRL_BYTES = 64;
export const NUM_OFFSET = 64;
export const NUM_BYTES = 64;
export const STR_OFFSET = 128;
export const STR_BYTES = 64 * 1024;
export const DATA_OFFSET = STR_OFFSET + STR_BYTES;
export const DEFAULT_DATA_BYTES = 1024 * 1024;

// CTRL slots
export const REQ_SEQ = 0; // written by the client
export const RESP_SEQ = 1; // written by the proxy
export const OP = 2;
export const STATUS = 3; // 0 ok, 1 error (DATA holds JSON {name, message}, DATA_LEN its length)
export const STR_LEN = 4; // request string bytes
export const BATCH_LEN = 5; // request batch bytes at the start of DATA
export const ARG0 = 6; // file id, or a flag
export const RES0 = 7; // int result (file id, stat kind)
export const DATA_LEN = 8; // response bytes in DATA
export const BATCH_ERR = 9; // 1: queued writes failed; STR holds JSON [{id, name, message, size}]
export const SEEN_SEQ = 10; // the last request the proxy picked up (diagnostics of a timeout)

// NUM slots
export const POS = 0;
export const LEN = 1;
export const SIZE = 2;
export const MTIME = 3;
export const TOTAL = 4; // total length of a JSON reply (longer ones continue with OP_MORE)

// Ops
export const OP_NOP = 0; // apply the batch only
export const OP_STAT = 1; // STR path -> RES0 kind (0 none, 1 file, 2 dir), SIZE, MTIME
export const OP_LIST = 2; // STR path -> JSON [names]
export const OP_OPEN = 3; // STR path, ARG0 create -> RES0 id, SIZE, MTIME
export const OP_READ = 4; // ARG0 id, POS, LEN -> DATA, DATA_LEN
export const OP_TRUNCATE = 5; // ARG0 id, SIZE
export const OP_FLUSH = 6; // ARG0 id
export const OP_MKDIR = 7; // STR path
export const OP_RMDIR = 8; // STR path
export const OP_UNLINK = 9; // STR path
export const OP_RENAME = 10; // STR "from\0to"
export const OP_STATS = 11; // -> JSON [{path, writes, flushes, unflushed}]
export const OP_TRACE = 12; // ARG0 1 start / 0 stop -> JSON [{op, path, othersUnflushed}]
export const OP_MORE = 13; // POS offset -> the rest of the last JSON reply
export const OP_SHUTDOWN = 14; // flush nothing, close every handle now
export const OP_HANG = 15; // tests: answer this, then never again (a hung proxy)
export const OP_NAMES = [
  "nop", "stat", "list", "open", "read", "truncate", "flush", "mkdir", "rmdir", "unlink", "rename",
  "stats", "trace", "more", "shutdown", "hang",
];

// Batch records: Int32 kind, Int32 id, Int32 len, Int32 0, Float64 pos; then len bytes.
export const RECORD_BYTES = 24;
export const REC_WRITE = 1;
export const REC_CLOSE = 2;

export const STAT_NONE = 0;
export const STAT_FILE = 1;
export const STAT_DIR = 2;

/** Entries whose names start with this are files unlinked while open (removed at last close);
 * both sides hide them. */
export const HIDDEN_PREFIX = ".pyodide-opfs-unlinked-";

export function align8(n) {
  return (n + 7) & ~7;
}

/** Views of the shared buffer (the same on both sides). */
export function views(sab) {
  return {
    ctrl: new Int32Array(sab, 0, CTRL_BYTES / 4),
    num: new Float64Array(sab, NUM_OFFSET, NUM_BYTES / 8),
    str: new Uint8Array(sab, STR_OFFSET, STR_BYTES),
    data: new Uint8Array(sab, DATA_OFFSET),
    dataView: new DataView(sab, DATA_OFFSET),
  };
}

export function bufferBytes(dataBytes) {
  return DATA_OFFSET + dataBytes;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encode a string into a shared view (TextEncoder.encodeInto rejects shared memory: copy). */
export function putString(view, text, at = 0) {
  const bytes = encoder.encode(text);
  if (at + bytes.length > view.length) return -1;
  view.set(bytes, at);
  return bytes.length;
}

/** Decode bytes of a shared view (TextDecoder rejects shared memory: copy first). */
export function getString(view, at, length) {
  return decoder.decode(view.slice(at, at + length));
}
