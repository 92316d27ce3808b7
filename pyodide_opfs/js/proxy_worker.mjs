// @ts-check
// The proxy worker: a module worker that performs the asynchronous OPFS calls for the proxy
// backend. The Pyodide worker (proxy_client.mjs) blocks on a SharedArrayBuffer while this
// worker serves its request (layout and ops: proxy_protocol.mjs). It waits for requests with
// Atomics.waitAsync, so its event loop keeps running: release timers fire while it is idle.
//
// Files and directories are real OPFS entries under the root directory, under their own names.
// A file's SyncAccessHandle is held from open until the client closes it, then kept for
// `releaseDelay` ms (a reopen within it costs nothing), then closed so that other tabs and
// workers can open the file. While another context holds a handle, OPFS fails with
// NoModificationAllowedError: acquiring, removing and moving are retried with backoff for
// `busyTimeout` ms, then reported as EBUSY.
//
// Started with postMessage({type: "init", sab, root, busyTimeout, releaseDelay}); answers
// {type: "ready"} or {type: "error", name, message}.

import * as P from "./proxy_protocol.mjs";
import { MAX_PATH_BYTES } from "./header.mjs";

/** An error that names its errno directly (the client maps DOMException names itself). */
class FsError extends Error {
  constructor(name, message = "") {
    super(message);
    this.name = name;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function splitPath(path) {
  const i = path.lastIndexOf("/");
  return { parent: i <= 0 ? "/" : path.slice(0, i), name: path.slice(i + 1) };
}

function isHidden(name) {
  return name.startsWith(P.HIDDEN_PREFIX);
}

function randomName() {
  return P.HIDDEN_PREFIX + Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
}

/** A file this worker has a SyncAccessHandle on. */
class Entry {
  constructor(id, path, fh, sah, size, mtime, counter) {
    this.id = id;
    this.path = path; // hidden name once unlinked while open
    this.fh = fh;
    this.sah = sah;
    this.size = size;
    this.mtime = mtime;
    this.counter = counter; // {path, writes, flushes, unflushed}: counted at the handle
    this.held = true; // the client has it open
    this.zombie = false; // unlinked while open: removed at release
    this.timer = null;
  }
}

export class ProxyServer {
  constructor(sab, root, { busyTimeout = 5000, releaseDelay = 50 } = {}) {
    this.v = P.views(sab);
    this.dataBytes = this.v.data.length;
    this.root = root;
    this.busyTimeout = busyTimeout;
    this.releaseDelay = releaseDelay;
    this.dirs = new Map([["/", root]]); // path -> FileSystemDirectoryHandle
    this.byId = new Map();
    this.byPath = new Map();
    this.counters = new Map(); // path -> counter (kept after close: totals per path)
    this.nextId = 1;
    this.trace = null;
    this.hang = false;
    this.pendingBytes = null; // a JSON reply longer than DATA, fetched with OP_MORE
    // The last request seen: read now, before "ready" is posted. Read after it, it races with
    // the client's first request (which may already be there) and that request is never served.
    this.seen = Atomics.load(this.v.ctrl, P.REQ_SEQ);
    this.timing = {}; // op name -> {n, ms, batchMs}: time spent serving (diagnostics)
  }

  // --- the request loop ---

  async serve() {
    const ctrl = this.v.ctrl;
    let seen = this.seen;
    for (;;) {
      if (Atomics.load(ctrl, P.REQ_SEQ) === seen) {
        const w = Atomics.waitAsync(ctrl, P.REQ_SEQ, seen);
        if (w.async) await w.value;
      }
      const seq = Atomics.load(ctrl, P.REQ_SEQ);
      if (seq === seen) continue;
      seen = seq;
      Atomics.store(ctrl, P.SEEN_SEQ, seq);
      if (this.hang) await new Promise(() => {}); // never answers again
      try {
        await this.handle();
      } catch (e) {
        // A bug here: answer anyway (EIO) rather than leave the client waiting for its timeout.
        console.error("pyodide_opfs proxy: request failed", e);
        this.v.ctrl[P.STATUS] = 1;
        this.replyText(JSON.stringify({ name: "EIO", message: `proxy worker: ${e?.stack ?? e}` }));
      }
      Atomics.store(ctrl, P.RESP_SEQ, seq);
      Atomics.notify(ctrl, P.RESP_SEQ);
    }
  }

  async handle() {
    const { ctrl, str } = this.v;
    const op = ctrl[P.OP];
    ctrl[P.STATUS] = 0;
    ctrl[P.DATA_LEN] = 0;
    ctrl[P.RES0] = 0;
    const path = ctrl[P.STR_LEN] ? P.getString(str, 0, ctrl[P.STR_LEN]) : "";
    const t0 = performance.now();
    const failures = await this.applyBatch();
    ctrl[P.BATCH_ERR] = 0;
    const t1 = performance.now();
    try {
      // A failed queued write means the op must not run: it may be the commit point (a journal's
      // unlink) that depends on those bytes. The op fails with the write's error instead.
      if (failures.length) {
        const f = failures[0];
        throw Object.assign(new Error(`an earlier write failed: ${f.message}`), { name: f.name });
      }
      await this.run(op, path);
    } catch (e) {
      ctrl[P.STATUS] = 1;
      this.replyText(JSON.stringify({ name: e?.name ?? "Error", message: String(e?.message ?? e) }));
    }
    const t2 = performance.now();
    const name = P.OP_NAMES[op] ?? String(op);
    const t = (this.timing[name] ??= { n: 0, ms: 0, batchMs: 0 });
    t.n++;
    t.ms += t2 - t1;
    t.batchMs += t1 - t0;
    if (failures.length) {
      // Failed queued writes: reported in STR (the request's strings are consumed).
      ctrl[P.BATCH_ERR] = 1;
      const n = P.putString(str, JSON.stringify(failures));
      ctrl[P.STR_LEN] = n < 0 ? 0 : n;
    }
  }

  async run(op, path) {
    const { ctrl, num } = this.v;
    switch (op) {
      case P.OP_NOP:
        return;
      case P.OP_STAT: {
        const st = await this.stat(path);
        ctrl[P.RES0] = st.kind;
        num[P.SIZE] = st.size;
        num[P.MTIME] = st.mtime;
        return;
      }
      case P.OP_LIST:
        return this.replyText(JSON.stringify(await this.list(path)));
      case P.OP_OPEN: {
        const e = await this.open(path, ctrl[P.ARG0] === 1);
        ctrl[P.RES0] = e.id;
        num[P.SIZE] = e.size;
        num[P.MTIME] = e.mtime;
        return;
      }
      case P.OP_READ: {
        const e = this.entry(ctrl[P.ARG0]);
        const n = e.sah.read(this.v.data.subarray(0, Math.min(num[P.LEN], this.dataBytes)), { at: num[P.POS] });
        ctrl[P.DATA_LEN] = n;
        return;
      }
      case P.OP_TRUNCATE: {
        const e = this.entry(ctrl[P.ARG0]);
        this.traceEvent("truncate", e);
        e.sah.truncate(num[P.SIZE]);
        e.size = num[P.SIZE];
        e.mtime = Date.now();
        e.counter.writes++;
        e.counter.unflushed = true;
        return;
      }
      case P.OP_FLUSH: {
        const e = this.entry(ctrl[P.ARG0]);
        this.traceEvent("flush", e);
        e.sah.flush();
        e.counter.flushes++;
        e.counter.unflushed = false;
        return;
      }
      case P.OP_MKDIR:
        return this.mkdir(path);
      case P.OP_RMDIR:
        return this.rmdir(path);
      case P.OP_UNLINK:
        return this.unlink(path);
      case P.OP_RENAME: {
        const [from, to] = path.split("\0");
        return this.rename(from, to);
      }
      case P.OP_STATS:
        return this.replyText(JSON.stringify({ files: [...this.counters.values()], timing: this.timing }));
      case P.OP_TRACE: {
        const events = this.trace ?? [];
        this.trace = ctrl[P.ARG0] === 1 ? [] : null;
        return this.replyText(JSON.stringify(events));
      }
      case P.OP_MORE:
        if (!this.pendingBytes) throw new FsError("EINVAL", "no reply to continue");
        return this.replyBytes(this.pendingBytes, num[P.POS]);
      case P.OP_SHUTDOWN:
        return this.shutdown();
      case P.OP_HANG:
        this.hang = true;
        return;
      default:
        throw new FsError("EINVAL", `unknown proxy op ${op}`);
    }
  }

  /** JSON text into DATA; TOTAL says how long it is, OP_MORE fetches what did not fit. */
  replyText(text) {
    const bytes = new TextEncoder().encode(text);
    this.replyBytes(bytes, 0);
    this.pendingBytes = bytes.length > this.dataBytes ? bytes : null;
  }

  replyBytes(bytes, offset) {
    const n = Math.max(0, Math.min(bytes.length - offset, this.dataBytes));
    this.v.data.set(bytes.subarray(offset, offset + n), 0);
    this.v.ctrl[P.DATA_LEN] = n;
    this.v.num[P.TOTAL] = bytes.length;
  }

  // --- the batch: queued writes and closes ---

  async applyBatch() {
    const { ctrl, data, dataView } = this.v;
    const len = ctrl[P.BATCH_LEN];
    const failures = [];
    const failed = new Set();
    let off = 0;
    while (off < len) {
      const kind = dataView.getInt32(off, true);
      const id = dataView.getInt32(off + 4, true);
      const n = dataView.getInt32(off + 8, true);
      const pos = dataView.getFloat64(off + 16, true);
      const body = off + P.RECORD_BYTES;
      off = body + P.align8(n);
      if (kind === P.REC_WRITE) {
        if (failed.has(id)) continue; // later writes to a file whose write failed are lost too
        try {
          this.write(this.entry(id), data.subarray(body, body + n), pos);
        } catch (e) {
          failed.add(id);
          const entry = this.byId.get(id);
          failures.push({ id, name: e?.name ?? "Error", message: String(e?.message ?? e), size: entry ? entry.size : 0 });
        }
      } else if (kind === P.REC_CLOSE) {
        try {
          await this.release(id);
        } catch (e) {
          console.warn("pyodide_opfs proxy: close failed", e);
        }
      }
    }
    return failures;
  }

  write(e, view, pos) {
    this.traceEvent("write", e);
    const before = e.size;
    let n;
    try {
      n = e.sah.write(view, { at: pos });
    } catch (err) {
      if (err?.name !== "QuotaExceededError") throw err;
      n = -1;
    }
    e.counter.writes++;
    e.counter.unflushed = true;
    e.mtime = Date.now();
    if (n < view.length) {
      // A full quota: a short write or QuotaExceededError. Undo what grew the file: the file
      // keeps exactly what it had, and the client says ENOSPC.
      if (e.sah.getSize() > before) e.sah.truncate(before);
      e.size = e.sah.getSize();
      throw new FsError("ENOSPC", `storage quota exceeded writing ${e.counter.path} (${Math.max(n, 0)} of ${view.length} bytes written)`);
    }
    if (pos + n > e.size) e.size = pos + n;
  }

  // --- handles ---

  entry(id) {
    const e = this.byId.get(id);
    if (!e || !e.sah) throw new FsError("EBADF", `no open proxy file #${id}`);
    return e;
  }

  counterFor(path) {
    let c = this.counters.get(path);
    if (!c) this.counters.set(path, (c = { path, writes: 0, flushes: 0, unflushed: false }));
    return c;
  }

  /** A SyncAccessHandle, waiting while another context holds the file. */
  acquire(fh, path) {
    return this.withBusyRetry(`open ${path}`, () => fh.createSyncAccessHandle());
  }

  async withBusyRetry(what, fn) {
    const started = performance.now();
    let delay = 2;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (e?.name !== "NoModificationAllowedError") throw e;
        const waited = performance.now() - started;
        if (waited >= this.busyTimeout) {
          throw new FsError(
            "EBUSY",
            `${what}: the file is in use by another tab or worker (waited ${(waited / 1000).toFixed(1)} s): ${e.message}`,
          );
        }
        await sleep(Math.min(delay, this.busyTimeout - waited));
        delay = Math.min(delay * 2, 50);
      }
    }
  }

  /** The client closed the file: keep the handle for releaseDelay ms, then close it. */
  async release(id) {
    const e = this.byId.get(id);
    if (!e) return;
    e.held = false;
    if (e.zombie) {
      this.closeEntry(e);
      const { parent, name } = splitPath(e.path);
      await (await this.dir(parent)).removeEntry(name);
    } else if (this.releaseDelay <= 0) {
      this.closeEntry(e);
    } else {
      e.timer = setTimeout(() => this.closeEntry(e), this.releaseDelay);
    }
  }

  closeEntry(e) {
    clearTimeout(e.timer);
    e.timer = null;
    if (e.sah) {
      try {
        e.sah.close();
      } catch (err) {
        console.warn("pyodide_opfs proxy: close failed", e.path, err);
      }
      e.sah = null;
    }
    this.byId.delete(e.id);
    if (this.byPath.get(e.path) === e) this.byPath.delete(e.path);
  }

  // --- directories ---

  async dir(path) {
    let handle = this.dirs.get(path);
    if (handle) return handle;
    const { parent, name } = splitPath(path);
    const up = await this.dir(parent);
    try {
      handle = await up.getDirectoryHandle(name);
    } catch (e) {
      if (e?.name === "TypeMismatchError") throw new FsError("ENOTDIR");
      if (e?.name === "NotFoundError") throw new FsError("ENOENT");
      throw e;
    }
    this.dirs.set(path, handle);
    return handle;
  }

  forgetDirs(path) {
    for (const p of [...this.dirs.keys()]) if (p === path || p.startsWith(path + "/")) this.dirs.delete(p);
  }

  /** "file", "dir" or null for `name` in directory handle `dir`. */
  async kindOf(dir, name) {
    try {
      await dir.getFileHandle(name);
      return "file";
    } catch (e) {
      if (e?.name === "TypeMismatchError") return "dir";
      if (e?.name === "NotFoundError") return null;
      throw e;
    }
  }

  // --- operations ---

  async stat(path) {
    const none = { kind: P.STAT_NONE, size: 0, mtime: 0 };
    if (path === "/") return { kind: P.STAT_DIR, size: 4096, mtime: 0 };
    const { parent, name } = splitPath(path);
    if (isHidden(name)) return none;
    const e = this.byPath.get(path);
    if (e) return { kind: P.STAT_FILE, size: e.size, mtime: e.mtime };
    let dir;
    try {
      dir = await this.dir(parent);
    } catch (err) {
      if (err.name === "ENOENT" || err.name === "ENOTDIR") return none;
      throw err;
    }
    let fh;
    try {
      fh = await dir.getFileHandle(name);
    } catch (err) {
      // A directory's name: TypeMismatchError (Chromium 156).
      if (err?.name === "TypeMismatchError") return { kind: P.STAT_DIR, size: 4096, mtime: 0 };
      if (err?.name === "NotFoundError") return none;
      throw err;
    }
    const file = await fh.getFile();
    return { kind: P.STAT_FILE, size: file.size, mtime: file.lastModified };
  }

  async list(path) {
    const dir = await this.dir(path);
    const names = [];
    for await (const name of dir.keys()) if (!isHidden(name)) names.push(name);
    return names;
  }

  async open(path, create) {
    const held = this.byPath.get(path);
    if (held) {
      clearTimeout(held.timer);
      held.timer = null;
      held.held = true;
      return held;
    }
    const { parent, name } = splitPath(path);
    const dir = await this.dir(parent);
    let fh;
    try {
      fh = await dir.getFileHandle(name, { create });
    } catch (e) {
      if (e?.name === "TypeMismatchError") throw new FsError("EISDIR");
      throw e;
    }
    // The handle and the modification time in parallel: one OPFS latency instead of two.
    const [sah, file] = await Promise.allSettled([this.acquire(fh, path), create ? null : fh.getFile()]);
    if (sah.status === "rejected") throw sah.reason;
    if (file.status === "rejected") {
      sah.value.close();
      throw file.reason;
    }
    const e = new Entry(
      this.nextId++, path, fh, sah.value, sah.value.getSize(), file.value ? file.value.lastModified : Date.now(),
      this.counterFor(path),
    );
    this.byId.set(e.id, e);
    this.byPath.set(path, e);
    return e;
  }

  async mkdir(path) {
    const { parent, name } = splitPath(path);
    const dir = await this.dir(parent);
    try {
      this.dirs.set(path, await dir.getDirectoryHandle(name, { create: true }));
    } catch (e) {
      if (e?.name === "TypeMismatchError") throw new FsError("EEXIST");
      throw e;
    }
  }

  async rmdir(path) {
    const { parent, name } = splitPath(path);
    const dir = await this.dir(parent);
    await this.dir(path); // ENOENT / ENOTDIR
    await this.removeEmptyDir(dir, name, `rmdir ${path}`);
    this.forgetDirs(path);
  }

  /** Remove an empty directory; ENOTEMPTY otherwise. (A directory whose children have open
   * handles fails with NoModificationAllowedError, not InvalidModificationError.) */
  async removeEmptyDir(parentDir, name, what) {
    try {
      await parentDir.removeEntry(name);
    } catch (e) {
      if (e?.name === "InvalidModificationError") throw new FsError("ENOTEMPTY");
      if (e?.name !== "NoModificationAllowedError") throw e;
      const dir = await parentDir.getDirectoryHandle(name);
      for await (const _ of dir.keys()) throw new FsError("ENOTEMPTY");
      await this.withBusyRetry(what, () => parentDir.removeEntry(name));
    }
  }

  async unlink(path) {
    const { parent, name } = splitPath(path);
    const dir = await this.dir(parent);
    const e = this.byPath.get(path);
    if (e?.held) {
      await this.hide(e, dir, parent); // POSIX: the data lives until the last close
      return;
    }
    if (e) this.closeEntry(e);
    await this.withBusyRetry(`unlink ${path}`, () => dir.removeEntry(name));
    const c = this.counters.get(path);
    if (c) c.unflushed = false; // gone: nothing left to flush
  }

  /** Move an open file out of the way under a hidden name, keeping it open (unlink while open). */
  async hide(e, dir, parent) {
    const hidden = (parent === "/" ? "/" : parent + "/") + randomName();
    await this.moveEntry(e, dir, splitPath(hidden).name, hidden);
    e.zombie = true;
  }

  /** Move a file we have an entry for: its handle must be closed for move(), then reacquired. */
  async moveEntry(e, dstDir, dstName, to) {
    clearTimeout(e.timer);
    e.timer = null;
    const wasHeld = e.held;
    if (e.sah) e.sah.close();
    e.sah = null;
    try {
      await this.withBusyRetry(`rename ${e.path}`, () => e.fh.move(dstDir, dstName));
    } finally {
      if (wasHeld) {
        e.sah = await this.acquire(e.fh, to); // the handle follows the move
      }
    }
    if (this.byPath.get(e.path) === e) this.byPath.delete(e.path);
    if (!wasHeld) {
      this.byId.delete(e.id);
      return;
    }
    e.path = to;
    this.byPath.set(to, e);
  }

  moveCounter(from, to) {
    const c = this.counters.get(from);
    if (!c) return;
    this.counters.delete(from);
    c.path = to;
    this.counters.set(to, c);
  }

  /**
   * Rename a file (one OPFS move(), atomic, replacing a file at the target) or a directory.
   * OPFS has no directory move: the target directory is created, the children are moved into
   * it one by one (recursively), and the emptied source is removed. Not atomic: a crash in the
   * middle leaves the children split between the two names (none is lost).
   */
  async rename(from, to) {
    const src = splitPath(from);
    const dst = splitPath(to);
    const srcDir = await this.dir(src.parent);
    const dstDir = await this.dir(dst.parent);
    const e = this.byPath.get(from);
    const kind = e ? "file" : await this.kindOf(srcDir, src.name);
    if (!kind) throw new FsError("ENOENT");
    const target = this.byPath.get(to);
    const targetKind = target ? "file" : await this.kindOf(dstDir, dst.name);
    if (kind === "file") {
      if (targetKind === "dir") throw new FsError("EISDIR");
      if (target?.held) await this.hide(target, dstDir, dst.parent);
      else if (target) this.closeEntry(target);
      if (e) await this.moveEntry(e, dstDir, dst.name, to);
      else {
        const fh = await srcDir.getFileHandle(src.name);
        await this.withBusyRetry(`rename ${from}`, () => fh.move(dstDir, dst.name));
      }
      this.moveCounter(from, to);
      return;
    }
    if (targetKind === "file") throw new FsError("ENOTDIR");
    if (targetKind === "dir") {
      await this.removeEmptyDir(dstDir, dst.name, `rename ${from} -> ${to}`); // POSIX replaces an empty one
      this.forgetDirs(to);
    }
    const oldDir = await this.dir(from);
    // Every path below must fit the limit of new paths (see proxy_client.mjs) before anything moves.
    const below = [];
    await this.walk(oldDir, "", below);
    const encoder = new TextEncoder();
    const tooLong = below.find((rel) => encoder.encode(to + rel).length > MAX_PATH_BYTES);
    if (tooLong) throw new FsError("ENAMETOOLONG", `rename ${from} -> ${to}: ${to + tooLong} would be over ${MAX_PATH_BYTES} bytes`);
    const newDir = await dstDir.getDirectoryHandle(dst.name, { create: true });
    await this.moveChildren(oldDir, from, newDir, to);
    await srcDir.removeEntry(src.name);
    this.forgetDirs(from);
  }

  /** Relative paths ("/a", "/a/b") of everything below a directory. */
  async walk(dir, rel, out) {
    for await (const [name, handle] of dir.entries()) {
      out.push(rel + "/" + name);
      if (handle.kind === "directory") await this.walk(handle, rel + "/" + name, out);
    }
  }

  async moveChildren(oldDir, oldPath, newDir, newPath) {
    const children = [];
    for await (const [name, handle] of oldDir.entries()) children.push([name, handle]);
    for (const [name, handle] of children) {
      const op = oldPath + "/" + name;
      const np = newPath + "/" + name;
      if (handle.kind === "file") {
        const e = this.byPath.get(op);
        if (e) await this.moveEntry(e, newDir, name, np);
        else await this.withBusyRetry(`rename ${op}`, () => handle.move(newDir, name));
        this.moveCounter(op, np);
      } else {
        const sub = await newDir.getDirectoryHandle(name, { create: true });
        await this.moveChildren(handle, op, sub, np);
        await oldDir.removeEntry(name);
      }
    }
  }

  /** Close every handle now (unmount). */
  async shutdown() {
    for (const e of [...this.byId.values()]) {
      const zombie = e.zombie;
      this.closeEntry(e);
      if (zombie) {
        const { parent, name } = splitPath(e.path);
        try {
          await (await this.dir(parent)).removeEntry(name);
        } catch (err) {
          console.warn("pyodide_opfs proxy: could not remove", e.path, err);
        }
      }
    }
  }

  // --- diagnostics ---

  traceEvent(op, e) {
    if (!this.trace) return;
    const others = [];
    for (const c of this.counters.values()) if (c !== e.counter && c.unflushed) others.push(c.path);
    this.trace.push({ op, path: e.counter.path, othersUnflushed: others });
  }
}

// --- boot ---

function environmentProblem(sab) {
  if (typeof SharedArrayBuffer === "undefined" || !(sab instanceof SharedArrayBuffer)) {
    return "no SharedArrayBuffer in the proxy worker: serve the page with the headers " +
      "`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`";
  }
  if (typeof Atomics.waitAsync !== "function") return "this browser has no Atomics.waitAsync (needed by the proxy worker)";
  if (!globalThis.navigator?.storage?.getDirectory) return "no Origin Private File System (navigator.storage.getDirectory) in the proxy worker";
  if (!globalThis.FileSystemFileHandle?.prototype?.createSyncAccessHandle) {
    return "no FileSystemFileHandle.createSyncAccessHandle in the proxy worker";
  }
  return "";
}

let server = null;

async function start({ sab, root, busyTimeout, releaseDelay }) {
  try {
    const problem = environmentProblem(sab);
    if (problem) throw new FsError("UnsupportedEnvironmentError", problem);
    let dir = await navigator.storage.getDirectory();
    for (const part of String(root || "").split("/").filter(Boolean)) dir = await dir.getDirectoryHandle(part, { create: true });
    server = new ProxyServer(sab, dir, { busyTimeout, releaseDelay });
    postMessage({ type: "ready" });
    await server.serve();
  } catch (e) {
    postMessage({ type: "error", name: e?.name ?? "Error", message: String(e?.message ?? e) });
  }
}

if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) {
  self.addEventListener("message", (/** @type {MessageEvent} */ event) => {
    const msg = event.data;
    if (msg?.type === "init" && !server) start(msg);
  });
}
