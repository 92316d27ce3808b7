// @ts-check
// SAH pool backend: a pool of pre-opened SyncAccessHandles, one per pool file, each file's
// user-visible path kept in its header (header.mjs) and its data at DATA_OFFSET. All state is
// in memory while mounted: this worker holds every handle, so nobody else can change the files.
//
// The backend speaks paths relative to the mount ("/app.db"), the form sqlite-wasm stores, and
// knows nothing of Emscripten. It reports every header write to the flush policy in order.

import * as H from "./header.mjs";

/** @typedef {import("./types").Backend} Backend */
/** @typedef {import("./types").FileObject} FileObject */

/** Thrown by I/O while the pool is paused or unmounted; maps to EBUSY. */
export class PoolPausedError extends Error {
  name = "NoModificationAllowedError";
  constructor() {
    super("the pool is paused or unmounted: its SyncAccessHandles are released");
  }
}

/**
 * One pool file. Also the "file" object the flush policy and the FS glue work with.
 * @implements {FileObject}
 */
export class Slot {
  /**
   * @param {string} name
   * @param {FileSystemSyncAccessHandle | null} sah
   * @param {number} [mtime]
   */
  constructor(name, sah, mtime) {
    this.name = name; // random OPFS name inside .opaque/
    this.sah = sah;
    this.path = ""; // "" = free
    this.flags = 0;
    /** @type {import("./types").FileKind} */
    this.kind = "file";
    this.size = 0; // data size, cached: we are the only writer
    this.mtime = mtime || Date.now();
    this.openCount = 0;
    this.unlinked = false; // unlinked while open: freed at last close
    /** @type {import("./types").FileKind} what the slot held when its header was last cleared */
    this.freedKind = "file";
    // Ground truth for tests and stats: counted at the handle, not by the policy.
    this.writes = 0;
    this.flushes = 0;
    this.unflushed = false;
    this.quarantined = false;
    this.sequence = 0; // of the header as last read or written
    /** @type {((op: "write" | "truncate" | "flush" | "header", slot: Slot) => void) | null} */
    this.tracer = null;
  }

  get isDirectory() {
    return (this.flags & H.FLAG_DIRECTORY) !== 0;
  }

  read(view, pos) {
    return this.handle().read(view, { at: H.DATA_OFFSET + pos });
  }

  /** The SyncAccessHandle; while the pool is paused there is none, and I/O fails with EBUSY. */
  handle() {
    if (this.sah === null) throw new PoolPausedError();
    return this.sah;
  }

  write(view, pos) {
    this.tracer?.("write", this);
    const n = this.handle().write(view, { at: H.DATA_OFFSET + pos });
    this.writes++;
    this.unflushed = true;
    if (n > 0) {
      this.size = Math.max(this.size, pos + n);
      this.mtime = Date.now();
    }
    return n;
  }

  truncate(size) {
    this.tracer?.("truncate", this);
    this.handle().truncate(H.DATA_OFFSET + size);
    this.writes++;
    this.unflushed = true;
    this.size = size;
    this.mtime = Date.now();
  }

  flush() {
    this.tracer?.("flush", this);
    this.handle().flush();
    this.flushes++;
    this.unflushed = false;
  }

  writeHeader(path, flags, sequence) {
    this.tracer?.("header", this);
    this.handle().write(H.encodeHeader(path, flags, sequence), { at: 0 });
    this.sequence = sequence;
    this.writes++;
    this.unflushed = true;
    this.setHeaderFields(path, flags);
  }

  setHeaderFields(path, flags) {
    this.path = path;
    this.flags = flags;
    this.kind = path.endsWith("-journal") ? "journal" : path.endsWith("-wal") ? "wal" : "file";
  }
}

/** @implements {Backend} */
export class SAHPoolBackend {
  /**
   * @param {import("./types").PoolFile[]} files every file of the pool directory's .opaque/, opened
   * @param {import("./types").DurabilityPolicy} policy
   * @param {import("./types").Errors} errors
   */
  constructor(files, policy, errors) {
    this.policy = policy;
    this.errors = errors;
    /** @type {Slot[]} */
    this.slots = [];
    /** @type {Slot[]} */
    this.free = [];
    /** @type {import("./types").QuarantinedSlot[]} slots we will not touch */
    this.quarantined = [];
    /** @type {Map<string, {kind: "file" | "dir", slot: Slot | null}>} */
    this.entries = new Map();
    /** @type {Map<string, Set<string>>} dir path -> names */
    this.children = new Map();
    /** @type {((op: "write" | "truncate" | "flush" | "header", slot: Slot) => void) | null} */
    this.tracer = null;
    /** @type {(() => void) | null} called after each slot claim (spare-slot refill) */
    this.onClaim = null;
    /** @type {(() => void) | null} called when a freed slot holds storage quota to give back */
    this.onRelease = null;
    /** @type {Set<Slot>} freed slots whose handle still holds the quota of their old data */
    this.recyclable = new Set();
    this.entries.set("/", { kind: "dir", slot: null });
    this.children.set("/", new Set());
    this.sequence = 0; // highest header sequence number seen or written
    this.paused = false;
    this.addFiles(files);
  }

  // --- pool management ---

  /** Read the headers of newly acquired pool files and index them. */
  addFiles(files) {
    const header = new Uint8Array(H.HEADER_SIZE);
    const used = [];
    for (const { name, sah, mtime } of files) {
      const slot = new Slot(name, sah, mtime);
      slot.tracer = this.tracer ?? null;
      this.slots.push(slot);
      let fileSize = sah.getSize();
      if (fileSize === 0) {
        // A new pool file: give it a free header and its first sector, as sqlite-wasm does.
        sah.write(H.encodeHeader("", 0, 0), { at: 0 });
        sah.truncate(H.DATA_OFFSET);
        sah.flush();
        fileSize = H.DATA_OFFSET;
      }
      header.fill(0);
      sah.read(header, { at: 0 });
      const h = H.decodeHeader(header);
      this.sequence = Math.max(this.sequence, h.sequence);
      if (h.state === "free") this.free.push(slot);
      else if (h.state === "bad") this.quarantine(slot, h.reason, h.path);
      else if (fileSize < H.DATA_OFFSET) this.quarantine(slot, `truncated pool file (${fileSize} bytes)`, h.path);
      else used.push([slot, h, fileSize]);
    }
    // Newest header first: two headers naming one path mean a crash between the two steps of a
    // rename over an existing entry (rename.. below). The newer one is the rename's result.
    used.sort((a, b) => b[1].sequence - a[1].sequence);
    for (const [slot, h, fileSize] of used) {
      const kind = h.flags & H.FLAG_DIRECTORY ? "dir" : "file";
      const existing = this.entries.get(h.path);
      if (existing?.slot && existing.kind === kind && existing.slot.sequence > h.sequence) {
        // Finish the interrupted rename: the older entry is the one it replaced.
        console.info(`pyodide_opfs: completing an interrupted rename over ${h.path} (freeing ${slot.name})`);
        this.clearHeader(slot);
        this.release(slot);
        continue;
      }
      const problem = this.conflict(h.path, h.flags & H.FLAG_DIRECTORY ? "dir" : "file");
      if (problem) {
        this.quarantine(slot, problem, h.path);
        continue;
      }
      slot.setHeaderFields(h.path, h.flags);
      slot.sequence = h.sequence;
      slot.size = fileSize - H.DATA_OFFSET;
      this.index(h.path, slot.isDirectory ? "dir" : "file", slot);
    }
  }

  /** Why a stored path cannot join the tree, or "" if it can. */
  conflict(path, kind) {
    if (!isCanonicalPath(path)) return "path is not a canonical absolute path";
    const existing = this.entries.get(path);
    if (existing && (existing.slot || existing.kind !== kind)) return "duplicate path (older copy)";
    for (let p = parentOf(path); p !== "/"; p = parentOf(p)) {
      if (this.entries.get(p)?.kind === "file") return `parent ${p} is a file`;
    }
    return "";
  }

  quarantine(slot, reason, path) {
    slot.quarantined = true;
    this.quarantined.push({ name: slot.name, reason, path });
    console.warn(`pyodide_opfs: pool file ${slot.name} quarantined (${reason})`);
  }

  get capacity() {
    return this.slots.length;
  }

  get fileCount() {
    return this.slots.length - this.free.length - this.quarantined.length;
  }

  /** Stored paths of files (not directories), sorted. */
  fileNames() {
    const out = [];
    for (const [path, e] of this.entries) if (e.kind === "file") out.push(path);
    return out.sort();
  }

  /** Clear every stored file and directory; quarantined slots are left as they are. */
  wipe() {
    this.policy.beforeMetadata();
    for (const slot of this.slots) {
      if (!slot.path || slot.quarantined) continue;
      this.clearHeader(slot);
      if (slot.openCount > 0) slot.unlinked = true;
      else this.release(slot);
    }
    this.entries.clear();
    this.children.clear();
    this.entries.set("/", { kind: "dir", slot: null });
    this.children.set("/", new Set());
  }

  /** Take up to n free slots out of the pool (the caller closes and deletes them). */
  takeFree(n) {
    return this.removeSlots(this.free.splice(Math.max(0, this.free.length - n)));
  }

  /**
   * Take the free slots marked by release() out of the pool; the caller closes their handles
   * (which gives their quota back to the origin), reopens them and adds them again. One free
   * slot always stays, so a file can be created meanwhile.
   */
  takeRecyclable() {
    const taken = this.free.filter((s) => this.recyclable.has(s));
    if (taken.length === this.free.length) taken.pop();
    this.recyclable.clear();
    const gone = new Set(taken);
    this.free = this.free.filter((s) => !gone.has(s));
    return this.removeSlots(taken);
  }

  /** Take a quarantined slot out of the pool by its OPFS name (the caller deletes it). */
  takeQuarantined(name) {
    const i = this.quarantined.findIndex((q) => q.name === name);
    if (i < 0) return [];
    this.quarantined.splice(i, 1);
    return this.removeSlots(this.slots.filter((s) => s.name === name));
  }

  removeSlots(taken) {
    const gone = new Set(taken);
    this.slots = this.slots.filter((s) => !gone.has(s));
    for (const s of taken) this.policy.forget(s);
    return taken.map((s) => ({ name: s.name, sah: s.sah }));
  }

  /** Flush, then close every handle (unmount, pause); I/O fails with EBUSY until reattached. */
  detachHandles() {
    let failure = null;
    try {
      this.policy.flushAll();
    } catch (e) {
      failure = e; // still release every handle, then report it
    }
    for (const s of this.slots) {
      try {
        s.sah?.close();
      } catch (e) {
        console.warn("pyodide_opfs: close failed", s.name, e);
      }
      s.sah = null;
    }
    if (failure) throw failure;
  }

  /** Give every slot its handle back after a pause: files = [{name, sah}] for every slot. */
  reattachHandles(files) {
    const byName = new Map(files.map((f) => [f.name, f.sah]));
    const missing = this.slots.filter((s) => !byName.has(s.name)).map((s) => s.name);
    if (missing.length) throw new Error(`pool files missing after pause: ${missing.join(", ")}`);
    for (const s of this.slots) s.sah = byName.get(s.name);
  }

  /** OPFS names of every slot (what a pause must re-acquire). */
  slotNames() {
    return this.slots.map((s) => s.name);
  }

  /**
   * Record every handle call as {op, path, othersUnflushed}: the paths of the other files with
   * unflushed writes at that moment (how the tests check write ordering). Off: null.
   */
  setTrace(events) {
    const tracer = events
      ? (op, slot) =>
          events.push({
            op,
            path: slot.path,
            othersUnflushed: this.slots.filter((s) => s !== slot && s.unflushed && s.path).map((s) => s.path),
          })
      : null;
    for (const s of this.slots) s.tracer = tracer;
    this.tracer = tracer;
  }

  stats() {
    return this.slots.map((s) => ({
      name: s.name,
      path: s.path,
      writes: s.writes,
      flushes: s.flushes,
      unflushed: s.unflushed,
    }));
  }

  // --- index ---

  index(path, kind, slot) {
    // Parents that exist only because a stored path names them are implicit directories.
    const parent = parentOf(path);
    if (!this.entries.has(parent)) this.index(parent, "dir", null);
    const existing = this.entries.get(path);
    if (existing && existing.kind === "dir" && kind === "dir") {
      if (slot) existing.slot = slot; // an implicit directory gets its own entry
      return;
    }
    this.entries.set(path, { kind, slot });
    this.children.get(parent).add(baseName(path));
    if (kind === "dir" && !this.children.has(path)) this.children.set(path, new Set());
  }

  unindex(path) {
    this.entries.delete(path);
    this.children.delete(path);
    this.children.get(parentOf(path))?.delete(baseName(path));
  }

  // --- backend interface used by the FS glue ---

  /** While paused every operation fails with EBUSY (the handles belong to someone else). */
  checkLive() {
    if (this.paused) throw this.errors.error("EBUSY", "the pool is paused: call `await pool.unpause()` first");
  }

  /** @returns {import("./types").Stat | null} */
  stat(path) {
    this.checkLive();
    const e = this.entries.get(path);
    if (!e) return null;
    if (e.kind === "dir") return { kind: "dir", size: 4096, mtime: e.slot ? e.slot.mtime : 0 };
    return { kind: "file", size: e.slot.size, mtime: e.slot.mtime };
  }

  list(path) {
    this.checkLive();
    return [...(this.children.get(path) ?? [])];
  }

  claim(path, isDirectory) {
    this.checkLive();
    const bytes = H.pathByteLength(path);
    if (bytes < 0) {
      throw this.errors.error("ENAMETOOLONG", `stored path over ${H.MAX_PATH_BYTES} bytes: ${path.slice(0, 60)}...`);
    }
    const slot = this.free.pop();
    this.onClaim?.();
    if (!slot) {
      throw this.errors.error(
        "ENOSPC",
        `SAH pool is full (${this.capacity} files): cannot create ${path}. ` +
          "Call `await pool.add_capacity(n)` or mount with a larger capacity / spare_slots.",
      );
    }
    this.policy.beforeMetadata();
    if (slot.sah.getSize() !== H.DATA_OFFSET) slot.sah.truncate(H.DATA_OFFSET);
    slot.size = 0;
    slot.mtime = Date.now();
    slot.unlinked = false;
    slot.writeHeader(path, H.flagsForPath(path, isDirectory), ++this.sequence);
    return slot;
  }

  createFile(path) {
    const slot = this.claim(path, false);
    this.policy.created(slot);
    this.index(path, "file", slot);
    return slot;
  }

  mkdir(path) {
    const slot = this.claim(path, true);
    this.policy.metadataWritten(slot);
    this.index(path, "dir", slot);
  }

  openFile(path) {
    this.checkLive();
    const e = this.entries.get(path);
    if (!e || e.kind !== "file") throw this.errors.error(e ? "EISDIR" : "ENOENT");
    e.slot.openCount++;
    return e.slot;
  }

  retain(slot) {
    slot.openCount++;
  }

  closeFile(slot) {
    slot.openCount--;
    if (slot.openCount === 0 && slot.unlinked) this.release(slot);
  }

  /** os.utime(): the time is kept in memory (the header has no field for it). */
  setMtime(path, mtime) {
    const e = this.entries.get(path);
    if (e?.slot) e.slot.mtime = mtime;
  }

  /** Free a slot whose header is already cleared. */
  release(slot) {
    // A SyncAccessHandle gives the quota its file grew into back only when it is closed, not
    // when it is truncated: mark the slot so that its handle is reopened (takeRecyclable).
    // Journals are left out: the next transaction reuses the slot (and its quota) at once.
    if (slot.size > 0 && slot.freedKind !== "journal") {
      this.recyclable.add(slot);
      this.onRelease?.();
    }
    slot.unlinked = false;
    slot.setHeaderFields("", 0);
    slot.size = 0;
    slot.sah.truncate(H.DATA_OFFSET);
    this.policy.forget(slot);
    this.free.push(slot);
  }

  unlink(path) {
    this.checkLive();
    const e = this.entries.get(path);
    if (!e) throw this.errors.error("ENOENT");
    this.policy.beforeMetadata();
    this.clearHeader(e.slot);
    this.unindex(path);
    if (e.slot.openCount > 0) e.slot.unlinked = true; // POSIX: data lives until the last close
    else this.release(e.slot);
  }

  rmdir(path) {
    this.checkLive();
    const e = this.entries.get(path);
    if (!e || e.kind !== "dir") throw this.errors.error(e ? "ENOTDIR" : "ENOENT");
    if (this.children.get(path)?.size) throw this.errors.error("ENOTEMPTY");
    if (e.slot) {
      this.policy.beforeMetadata();
      this.clearHeader(e.slot);
      this.release(e.slot);
    }
    this.unindex(path);
  }

  clearHeader(slot) {
    slot.freedKind = slot.kind; // what it held, for release()
    slot.writeHeader("", 0, ++this.sequence);
    this.policy.metadataWritten(slot);
  }

  /**
   * Rename a file or directory. Each header is rewritten and flushed before the next step, so a
   * crash leaves every file under its old or its new name; a file replaced by a rename is
   * released only after the renamed file's header is durable. A directory rename rewrites the
   * header of every entry below it and is atomic per entry, not as a whole.
   */
  rename(from, to) {
    this.checkLive();
    const src = this.entries.get(from);
    if (!src) throw this.errors.error("ENOENT");
    const dst = this.entries.get(to);
    if (dst && dst.kind === "dir" && this.children.get(to)?.size) throw this.errors.error("ENOTEMPTY");
    const moves = [[from, src]];
    if (src.kind === "dir") {
      for (const [p, e] of this.entries) if (p.startsWith(from + "/")) moves.push([p, e]);
    }
    for (const [p] of moves) {
      if (H.pathByteLength(to + p.slice(from.length)) < 0) {
        throw this.errors.error("ENAMETOOLONG", `stored path over ${H.MAX_PATH_BYTES} bytes`);
      }
    }
    this.policy.beforeMetadata();
    for (const [p, e] of moves) {
      if (!e.slot) continue;
      const newPath = to + p.slice(from.length);
      e.slot.writeHeader(newPath, H.flagsForPath(newPath, e.slot.isDirectory), ++this.sequence);
      this.policy.metadataWritten(e.slot);
    }
    if (dst) {
      this.unindex(to);
      if (dst.slot) {
        this.clearHeader(dst.slot);
        if (dst.slot.openCount > 0) dst.slot.unlinked = true;
        else this.release(dst.slot);
      }
    }
    // Re-index: children maps move with their directories.
    const moved = moves.map(([p, e]) => [p, to + p.slice(from.length), e, this.children.get(p)]);
    for (const [p] of moved) this.unindex(p);
    for (const [, np, e, kids] of moved) {
      this.entries.set(np, e);
      this.children.get(parentOf(np))?.add(baseName(np));
      if (e.kind === "dir") this.children.set(np, kids ?? new Set());
    }
  }

  truncate(slot, size) {
    slot.truncate(size);
  }
}

/** "/a/b": absolute, no empty, "." or ".." segments (what the tree and sqlite-wasm agree on). */
export function isCanonicalPath(path) {
  if (path === "/" || !path.startsWith("/") || path.endsWith("/")) return false;
  return path.slice(1).split("/").every((seg) => seg && seg !== "." && seg !== ".." && !seg.includes("\0"));
}

export function parentOf(path) {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

export function baseName(path) {
  return path.slice(path.lastIndexOf("/") + 1);
}
