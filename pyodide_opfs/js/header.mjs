// @ts-check
// Pool-file header: the on-disk layout of sqlite-wasm's `opfs-sahpool` (SQLite 3.50+), so that
// JS and Python apps can share pool directories. This module is the one place that knows it.
//
//   bytes 0-511    path, UTF-8, NUL-padded; first byte 0 = free slot
//   bytes 512-515  flags, u32 big-endian (SQLite open flags; 0x80 = digest v2)
//   bytes 516-523  digest over bytes 0-515: two u32, little-endian
//   bytes 524-527  ours: header sequence number, u32 little-endian, outside the digest (sqlite-wasm
//                  neither reads nor writes it). Breaks the tie when a crash in the middle of a
//                  rename leaves two headers naming one path: the higher sequence is the newer.
//   bytes 4096-    file data (the header owns the first sector so data I/O stays aligned)

export const PATH_SIZE = 512;
export const MAX_PATH_BYTES = 511; // one byte stays for the NUL terminator
export const OFFSET_FLAGS = 512;
export const OFFSET_DIGEST = 516;
export const CORPUS_SIZE = 516; // what the digest covers: path area + flags
export const OFFSET_SEQUENCE = 524;
export const HEADER_SIZE = 528; // bytes we read and write
export const DATA_OFFSET = 4096;

export const FLAG_DIGEST_V2 = 0x80; // SQLITE_OPEN_MEMORY, reused by sqlite-wasm as a format marker
export const OPEN_DELETEONCLOSE = 0x8;
export const OPEN_MAIN_DB = 0x100;
export const OPEN_MAIN_JOURNAL = 0x800;
export const OPEN_SUPER_JOURNAL = 0x4000;
export const OPEN_WAL = 0x80000;
// sqlite-wasm clears any named slot without one of these at install: every file we store carries one.
export const PERSISTENT_TYPES = OPEN_MAIN_DB | OPEN_MAIN_JOURNAL | OPEN_SUPER_JOURNAL | OPEN_WAL;
// Ours: the entry is a directory (so empty directories survive a reload). Not a SQLite flag;
// sqlite-wasm ignores unknown bits and sees such an entry as a zero-length file.
export const FLAG_DIRECTORY = 0x40000000;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Flags to store for a path: the SQLite type its name implies, plus the digest marker.
 * @param {string} path
 * @param {boolean} [isDirectory]
 */
export function flagsForPath(path, isDirectory = false) {
  let type = OPEN_MAIN_DB;
  if (path.endsWith("-journal")) type = OPEN_MAIN_JOURNAL;
  else if (path.endsWith("-wal")) type = OPEN_WAL;
  return type | FLAG_DIGEST_V2 | (isDirectory ? FLAG_DIRECTORY : 0);
}

/**
 * sqlite-wasm's digest v2 (murmur-like) over bytes 0-515; (0, 0) without the v2 flag.
 * @param {Uint8Array} corpus
 * @param {number} flags
 * @returns {[number, number]}
 */
export function computeDigest(corpus, flags) {
  if (!(flags & FLAG_DIGEST_V2)) return [0, 0];
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < CORPUS_SIZE; i++) {
    const v = corpus[i];
    h1 = Math.imul(h1 ^ v, 2654435761);
    h2 = Math.imul(h2 ^ v, 104729);
  }
  return [h1 >>> 0, h2 >>> 0];
}

/**
 * UTF-8 byte length of a stored path, or -1 when it does not fit the header.
 * @param {string} path
 */
export function pathByteLength(path) {
  const n = encoder.encode(path).length;
  return n > MAX_PATH_BYTES ? -1 : n;
}

/**
 * Encode a header; path "" with flags 0 is a free slot. Throws RangeError on a long path.
 * @param {string} path
 * @param {number} flags
 * @param {number} [sequence]
 * @returns {Uint8Array}
 */
export function encodeHeader(path, flags, sequence = 0) {
  const bytes = new Uint8Array(HEADER_SIZE);
  const { written } = encoder.encodeInto(path, bytes.subarray(0, PATH_SIZE));
  if (written > MAX_PATH_BYTES || encoder.encode(path).length !== written) {
    throw new RangeError(`path over ${MAX_PATH_BYTES} bytes: ${path.slice(0, 40)}...`);
  }
  const view = new DataView(bytes.buffer);
  view.setUint32(OFFSET_FLAGS, flags >>> 0, false);
  const [h1, h2] = computeDigest(bytes, flags);
  view.setUint32(OFFSET_DIGEST, h1, true);
  view.setUint32(OFFSET_DIGEST + 4, h2, true);
  view.setUint32(OFFSET_SEQUENCE, sequence >>> 0, true);
  return bytes;
}

/**
 * Decode a header. Returns {state, path, flags, sequence, reason}; state is "used", "free" or "bad".
 * "bad" is never cleared by us: the caller quarantines the slot (sqlite-wasm would wipe it).
 * @param {Uint8Array} bytes
 * @returns {import("./types").DecodedHeader}
 */
export function decodeHeader(bytes) {
  if (bytes.length < HEADER_SIZE) return { state: "bad", path: "", flags: 0, sequence: 0, reason: "short header" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  const flags = view.getUint32(OFFSET_FLAGS, false);
  const sequence = view.getUint32(OFFSET_SEQUENCE, true);
  const [h1, h2] = computeDigest(bytes, flags);
  if (view.getUint32(OFFSET_DIGEST, true) !== h1 || view.getUint32(OFFSET_DIGEST + 4, true) !== h2) {
    return { state: "bad", path: "", flags, sequence, reason: "digest mismatch" };
  }
  let end = bytes.indexOf(0);
  if (end < 0 || end > MAX_PATH_BYTES) end = MAX_PATH_BYTES;
  if (end === 0) return { state: "free", path: "", flags, sequence, reason: "" };
  let path;
  try {
    path = decoder.decode(bytes.subarray(0, end));
  } catch {
    return { state: "bad", path: "", flags, sequence, reason: "path is not UTF-8" };
  }
  if ((flags & OPEN_DELETEONCLOSE) || !(flags & PERSISTENT_TYPES)) {
    return { state: "bad", path, flags, sequence, reason: "flags without a persistent file type" };
  }
  return { state: "used", path, flags, sequence, reason: "" };
}
