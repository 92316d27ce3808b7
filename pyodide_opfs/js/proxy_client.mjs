// @ts-check
// The proxy backend, client side: the path-based backend that emscripten_fs.mjs calls,
// synchronous, in the Pyodide worker. Every operation that needs OPFS is one round trip to the
// proxy worker (proxy_worker.mjs) through a SharedArrayBuffer (proxy_protocol.mjs): write the
// request, Atomics.notify, Atomics.wait with a bounded timeout. A proxy that does not answer in
// time is an EIO (and the mount stays broken: remount), never a hang.
//
// Round trips are the cost (an OPFS call in the proxy is 0.3-1.5 ms, a round trip ~0.05 ms),
// so the client avoids them where it can do so safely:
//  - writes are queued in the shared buffer and travel with the next request (see the batch in
//    proxy_protocol.mjs); a queued write that fails is reported at the file's next read, write,
//    truncate, flush or close (as a writeback error is on Linux), and the flush policy
//    (flush_policy.mjs) flushes files before anything that depends on them;
//  - a close is sent at once (another tab may be waiting for the file), except for a -journal
//    or -wal whose database is open here (nobody else can want it, see below): that close goes
//    with the next request (SQLite's unlink or truncate of it, as a rule);
//  - while a file is open the proxy holds its SyncAccessHandle, so nobody else can change it:
//    its size and time are answered here;
//  - a stat result is reused by the stat of the same path that immediately follows it (the
//    lookup + may-create pair of an O_CREAT open), within STAT_REUSE_MS and with no request in
//    between;
//  - a database's -journal and -wal files are only ever created by whoever has the database
//    open (SQLite opens the database first, and the SyncAccessHandle we hold keeps every other
//    context from opening it): so while the database is open here, a -journal or -wal that was
//    seen absent (or was unlinked) here is known absent without asking. This saves the two
//    existence checks SQLite makes at the start of every transaction;
//  - queued writes and closes still pending when the worker's event loop runs are sent then.

import * as P from "./proxy_protocol.mjs";
import { DOM_EXCEPTION_ERRNO } from "./errno.mjs";
import { MAX_PATH_BYTES } from "./header.mjs";

const STAT_REUSE_MS = 20;
// OPFS (Chromium) takes names and paths of any length; new entries keep to the SAH pool's limit
// (a path under the mount of at most MAX_PATH_BYTES bytes of UTF-8), so that a tree fits either
// backend. Existing longer paths (made by other OPFS code) can still be opened.
const encoder = new TextEncoder();
const SIDECARS = ["-journal", "-wal"];
const MIN_CHUNK = 4096; // a write smaller than this is not split across two batches
// Errors that are ordinary answers: no hint in last_error, no console warning.
const QUIET = new Set(["ENOENT", "EEXIST", "ENOTEMPTY", "ENOTDIR", "EISDIR"]);

/** @returns {import("./types").FileKind} */
function kindOf(path) {
  return path.endsWith("-journal") ? "journal" : path.endsWith("-wal") ? "wal" : "file";
}

/** The database path a -journal / -wal path belongs to, or "". */
function baseOf(path) {
  for (const suffix of SIDECARS) if (path.endsWith(suffix)) return path.slice(0, -suffix.length);
  return "";
}

function bytesOf(view) {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/** An open file: what the FS glue and the flush policy call read/write/flush on. */
/** @typedef {import("./types").FileObject} FileObject */
/** @typedef {import("./types").Backend} Backend */

/** @implements {FileObject} */
export class ProxyFile {
  constructor(client, id, path, size, mtime) {
    this.client = client;
    this.id = id;
    this.path = path;
    this.kind = kindOf(path);
    this.size = size;
    this.mtime = mtime;
    this.opens = 0;
    this.unlinked = false; // unlinked while open: the proxy removes it at the last close
    this.error = null; // a queued write failed: {name, message}, reported once
  }

  read(view, pos) {
    this.client.checkError(this, "read");
    return this.client.read(this, bytesOf(view), pos);
  }

  write(view, pos) {
    this.client.checkError(this, "write");
    const n = this.client.write(this, bytesOf(view), pos);
    if (n > 0) {
      this.size = Math.max(this.size, pos + n);
      this.mtime = Date.now();
    }
    return n;
  }

  flush() {
    this.client.flush(this);
  }

  setPath(path) {
    this.path = path;
    this.kind = kindOf(path);
  }
}

/** @implements {Backend} */
export class ProxyBackend {
  /**
   * @param sab the SharedArrayBuffer the proxy worker serves
   * @param policy FlushPolicy
   * @param errors ErrnoFactory
   * @param timeoutMs the longest wait for one reply
   */
  constructor(sab, policy, errors, timeoutMs) {
    this.v = P.views(sab);
    this.dataBytes = this.v.data.length;
    this.policy = policy;
    this.errors = errors;
    this.timeoutMs = timeoutMs;
    this.files = new Map(); // path -> ProxyFile (open, not unlinked)
    this.byId = new Map(); // id -> ProxyFile (every open one)
    this.closing = new Set(); // files with no opens left, whose close is not sent yet
    this.batchLen = 0;
    this.strLen = 0; // request string bytes of the request being prepared
    this.lastStat = null; // {path, result, at}
    this.absent = new Set(); // -journal/-wal paths known absent while their database is open here
    this.broken = ""; // why the proxy is considered dead ("" while fine)
    this.drainScheduled = false;
    this.roundTrips = 0;
    this.byOp = {}; // op name -> round trips
    this.queuedWrites = 0;
  }

  // --- transport ---

  /** Errno error for a reply {name, message}: errno names pass, DOMException names map. */
  fail(name, message, context) {
    const codes = this.errors.codes;
    let errno = /^E[A-Z0-9]+$/.test(name) && codes[name] !== undefined ? name : DOM_EXCEPTION_ERRNO[name] ?? "EIO";
    if (name === "UnsupportedEnvironmentError") errno = "EIO";
    if (QUIET.has(errno)) return this.errors.error(errno);
    const text = `${context}: ${/^E[A-Z0-9]+$/.test(name) ? "" : name + ": "}${message || errno}`;
    return this.errors.error(errno, text);
  }

  /** Before writing a request's arguments: queue pending closes (may send a batch first). */
  begin() {
    if (this.broken) throw this.errors.error("EIO", this.broken);
    this.lastStat = null;
    for (const f of this.closing) {
      if (this.batchLen + P.RECORD_BYTES > this.dataBytes) this.send(P.OP_NOP);
      this.record(P.REC_CLOSE, f.id, 0, 0);
      this.forgetSidecars(f.path);
      this.byId.delete(f.id);
      if (this.files.get(f.path) === f) this.files.delete(f.path);
      this.policy.forget(f);
    }
    this.closing.clear();
  }

  record(kind, id, len, pos) {
    const dv = this.v.dataView;
    const at = this.batchLen;
    dv.setInt32(at, kind, true);
    dv.setInt32(at + 4, id, true);
    dv.setInt32(at + 8, len, true);
    dv.setInt32(at + 12, 0, true);
    dv.setFloat64(at + 16, pos, true);
    this.batchLen = at + P.RECORD_BYTES;
  }

  /** ENAMETOOLONG for a new path over MAX_PATH_BYTES. */
  checkPath(path) {
    if (encoder.encode(path).length > MAX_PATH_BYTES) {
      throw this.errors.error("ENAMETOOLONG", `path over ${MAX_PATH_BYTES} bytes: ${path.slice(0, 40)}...`);
    }
  }

  setPath(text) {
    const n = P.putString(this.v.str, text);
    if (n < 0) throw this.errors.error("ENAMETOOLONG", `path over ${P.STR_BYTES} bytes`);
    this.strLen = n;
  }

  /** One round trip: the batch and the op go, the reply comes back (or EIO at the timeout). */
  send(op, context = "") {
    const { ctrl, str } = this.v;
    if (this.broken) throw this.errors.error("EIO", this.broken);
    ctrl[P.OP] = op;
    ctrl[P.BATCH_LEN] = this.batchLen;
    ctrl[P.STR_LEN] = this.strLen;
    this.strLen = 0;
    const seq = (Atomics.load(ctrl, P.REQ_SEQ) + 1) | 0;
    Atomics.store(ctrl, P.REQ_SEQ, seq);
    Atomics.notify(ctrl, P.REQ_SEQ);
    this.roundTrips++;
    const name = P.OP_NAMES[op] ?? String(op);
    this.byOp[name] = (this.byOp[name] ?? 0) + 1;
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const seen = Atomics.load(ctrl, P.RESP_SEQ);
      if (seen === seq) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        const pickedUp = Atomics.load(ctrl, P.SEEN_SEQ) === seq ? "picked up the request but" : "never picked up the request and";
        this.broken =
          `the proxy worker ${pickedUp} did not answer within ${(this.timeoutMs / 1000).toFixed(1)} s ` +
          `(${name}${context ? " " + context : ""}); it has crashed or hangs. Unmount and mount again.`;
        this.batchLen = 0;
        throw this.errors.error("EIO", this.broken);
      }
      Atomics.wait(ctrl, P.RESP_SEQ, seen, left);
    }
    this.batchLen = 0;
    if (ctrl[P.BATCH_ERR]) {
      for (const f of JSON.parse(P.getString(str, 0, ctrl[P.STR_LEN]))) {
        const file = this.byId.get(f.id);
        if (!file) continue;
        file.error = { name: f.name, message: f.message };
        file.size = f.size;
      }
    }
    if (ctrl[P.STATUS] !== 0) {
      const { name: errName, message } = JSON.parse(this.text());
      throw this.fail(errName, message, `${name}${context ? " " + context : ""}`);
    }
  }

  /** The JSON text of the reply (continued with OP_MORE when longer than DATA). */
  text() {
    const { ctrl, num, data } = this.v;
    const total = num[P.TOTAL];
    const parts = [data.slice(0, ctrl[P.DATA_LEN])];
    let got = parts[0].length;
    while (got < total) {
      num[P.POS] = got;
      this.send(P.OP_MORE);
      parts.push(data.slice(0, ctrl[P.DATA_LEN]));
      got += ctrl[P.DATA_LEN];
    }
    const all = new Uint8Array(got);
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return new TextDecoder().decode(all);
  }

  /** Send what is queued once the worker's event loop runs (Python yielded or returned). */
  scheduleDrain() {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setTimeout(() => {
      this.drainScheduled = false;
      if (!this.broken && (this.batchLen || this.closing.size)) {
        try {
          this.begin();
          this.send(P.OP_NOP, "(queued writes and closes)");
        } catch (e) {
          console.warn("pyodide_opfs: sending queued writes failed", e);
        }
      }
    }, 0);
  }

  /** Send everything queued now (before stats, at unmount). */
  drain() {
    this.begin();
    this.send(P.OP_NOP);
  }

  // --- what is known absent (see the top of this file) ---

  noteAbsent(path) {
    const base = baseOf(path);
    if (base && this.files.has(base)) this.absent.add(path);
  }

  knownAbsent(path) {
    return this.absent.has(path) && this.files.has(baseOf(path));
  }

  forgetSidecars(base) {
    for (const suffix of SIDECARS) this.absent.delete(base + suffix);
  }

  // --- file data ---

  checkError(file, context) {
    const e = file.error;
    if (!e) return;
    file.error = null;
    throw this.fail(e.name, e.message, `${context} ${file.path} (an earlier write failed)`);
  }

  read(file, bytes, pos) {
    const { ctrl, num, data } = this.v;
    let done = 0;
    while (done < bytes.length) {
      const n = Math.min(bytes.length - done, this.dataBytes);
      this.begin();
      ctrl[P.ARG0] = file.id;
      num[P.POS] = pos + done;
      num[P.LEN] = n;
      this.send(P.OP_READ, file.path);
      const got = ctrl[P.DATA_LEN];
      bytes.set(data.subarray(0, got), done); // shared buffer -> WASM heap
      done += got;
      if (got < n) break;
    }
    this.checkError(file, "read");
    return done;
  }

  /**
   * Queue a write; returns the bytes accepted (all, or 0 when it failed at once). A write that
   * grows a plain file (not a -journal or -wal) is sent at once, with the queue, so that a full
   * quota is reported by the write that hit it: 0 is returned and the FS glue undoes what grew
   * and raises ENOSPC, leaving exactly the bytes that were accepted. Other writes stay queued;
   * one that fails (a journal or WAL append over the quota, an I/O error) is reported by the
   * file's next operation, and the flush policy flushes a journal or WAL before anything that
   * depends on it, so SQLite sees the error before it writes database pages or returns COMMIT.
   */
  write(file, bytes, pos) {
    this.lastStat = null;
    const now = file.kind === "file" && pos + bytes.length > file.size;
    let done = 0;
    while (done < bytes.length) {
      const left = bytes.length - done;
      const room = this.dataBytes - this.batchLen - P.RECORD_BYTES;
      if (room < Math.min(left, MIN_CHUNK)) {
        this.begin();
        this.send(P.OP_NOP, `(write ${file.path})`);
        if (file.error) return this.writeFailed(file, now);
        continue;
      }
      const n = Math.min(left, room);
      this.record(P.REC_WRITE, file.id, n, pos + done);
      this.v.data.set(bytes.subarray(done, done + n), this.batchLen); // WASM heap -> shared buffer
      this.batchLen = P.align8(this.batchLen + n);
      this.queuedWrites++;
      done += n;
    }
    if (now) {
      this.begin();
      this.send(P.OP_NOP, `(write ${file.path})`);
      if (file.error) return this.writeFailed(file, now);
    } else {
      this.scheduleDrain();
    }
    return bytes.length;
  }

  /** A write failed in the proxy while this write call ran. */
  writeFailed(file, growingPlainFile) {
    if (!growingPlainFile || file.error.name !== "ENOSPC") this.checkError(file, "write");
    file.error = null; // reported by the short count: the glue truncates back and says ENOSPC
    return 0;
  }

  flush(file) {
    this.checkError(file, "flush");
    this.begin();
    this.v.ctrl[P.ARG0] = file.id;
    this.send(P.OP_FLUSH, file.path);
    this.checkError(file, "flush");
  }

  // --- backend interface (emscripten_fs.mjs) ---

  /** @returns {import("./types").Stat | null} */
  stat(path) {
    const open = this.files.get(path);
    if (open) return { kind: /** @type {const} */ ("file"), size: open.size, mtime: open.mtime };
    if (this.knownAbsent(path)) return null;
    const last = this.lastStat;
    if (last && last.path === path && performance.now() - last.at < STAT_REUSE_MS) return last.result;
    this.begin();
    this.setPath(path);
    this.send(P.OP_STAT, path);
    const { ctrl, num } = this.v;
    const kind = ctrl[P.RES0];
    /** @type {import("./types").Stat | null} */
    const result =
      kind === P.STAT_NONE ? null : { kind: kind === P.STAT_DIR ? "dir" : "file", size: num[P.SIZE], mtime: num[P.MTIME] };
    this.lastStat = { path, result, at: performance.now() };
    if (!result) this.noteAbsent(path);
    return result;
  }

  list(path) {
    this.begin();
    this.setPath(path);
    this.send(P.OP_LIST, path);
    return JSON.parse(this.text());
  }

  open(path, create) {
    this.absent.delete(path);
    this.begin();
    this.setPath(path);
    this.v.ctrl[P.ARG0] = create ? 1 : 0;
    this.send(P.OP_OPEN, path);
    const { ctrl, num } = this.v;
    const file = new ProxyFile(this, ctrl[P.RES0], path, num[P.SIZE], num[P.MTIME]);
    this.files.set(path, file);
    this.byId.set(file.id, file);
    return file;
  }

  createFile(path) {
    this.checkPath(path);
    this.policy.beforeMetadata();
    const file = this.open(path, true);
    // The glue opens it right away; if nobody does, its close goes with the next request.
    this.closing.add(file);
    this.scheduleDrain();
    return file;
  }

  openFile(path) {
    let file = this.files.get(path);
    if (!file) file = this.open(path, false);
    file.opens++;
    this.closing.delete(file);
    return file;
  }

  retain(file) {
    file.opens++;
  }

  closeFile(file) {
    if (--file.opens > 0) return;
    this.closing.add(file);
    if (this.files.has(baseOf(file.path))) {
      this.scheduleDrain(); // a -journal / -wal of a database open here: no hurry (see the top)
      return;
    }
    this.begin();
    this.send(P.OP_NOP, `(close ${file.path})`);
  }

  mkdir(path) {
    this.checkPath(path);
    this.absent.delete(path);
    this.policy.beforeMetadata();
    this.begin();
    this.setPath(path);
    this.send(P.OP_MKDIR, path);
  }

  rmdir(path) {
    this.policy.beforeMetadata();
    this.begin();
    this.setPath(path);
    this.send(P.OP_RMDIR, path);
  }

  unlink(path) {
    this.policy.beforeMetadata();
    this.begin(); // a closed-but-unsent file goes first: the proxy then removes it outright
    this.setPath(path);
    this.send(P.OP_UNLINK, path);
    const file = this.files.get(path);
    if (file) {
      file.unlinked = true; // the proxy keeps it (hidden) until its last close
      this.files.delete(path);
      this.forgetSidecars(path);
    }
    this.noteAbsent(path);
  }

  rename(from, to) {
    this.checkPath(to);
    this.absent.clear();
    this.policy.beforeMetadata();
    this.begin();
    this.setPath(from + "\0" + to);
    this.send(P.OP_RENAME, `${from} -> ${to}`);
    const replaced = this.files.get(to);
    if (replaced) {
      replaced.unlinked = true;
      this.files.delete(to);
    }
    for (const [path, file] of [...this.files]) {
      if (path !== from && !path.startsWith(from + "/")) continue;
      this.files.delete(path);
      file.setPath(to + path.slice(from.length));
      this.files.set(file.path, file);
    }
  }

  truncate(file, size) {
    this.checkError(file, "truncate");
    this.begin();
    this.v.ctrl[P.ARG0] = file.id;
    this.v.num[P.SIZE] = size;
    this.send(P.OP_TRUNCATE, file.path);
    file.size = size;
    file.mtime = Date.now();
  }

  // --- diagnostics and shutdown ---

  /** Counted in the proxy: {files: [{path, writes, flushes, unflushed}] (at the handle, per
   * path), timing: {op: {n, ms, batchMs}} (time spent serving each kind of request)}. */
  stats() {
    this.drain();
    this.send(P.OP_STATS);
    return JSON.parse(this.text());
  }

  trace(start) {
    this.drain();
    this.v.ctrl[P.ARG0] = start ? 1 : 0;
    this.send(P.OP_TRACE);
    return JSON.parse(this.text());
  }

  /** Close every handle in the proxy (after the policy flushed everything). */
  shutdown() {
    this.begin();
    this.send(P.OP_SHUTDOWN);
    this.files.clear();
    this.byId.clear();
  }

  /** Tests: the proxy answers this request, then no other (a hung proxy). */
  hang() {
    this.drain();
    this.send(P.OP_HANG);
  }

  rpcStats() {
    return { roundTrips: this.roundTrips, byOp: { ...this.byOp }, queuedWrites: this.queuedWrites };
  }
}
