// @ts-check
// When data is made durable. This module is the one place that decides when to call flush().
//
// Why it exists: no sync from SQLite ever reaches an Emscripten filesystem (Emscripten's
// fdatasync is a no-op and SQLite syncs with it); only Python's os.fsync arrives. So the
// filesystem infers commit points and ordering barriers from what it does see: writes,
// truncates, unlinks, renames, closes. Writes reach OPFS at once (they survive a tab or browser
// crash); flush() is what makes them survive power loss, and what orders them.
//
// Files are the backends' file objects: { path, kind, flush(), read(view, pos) }, where kind is
// "journal" (name ends in -journal), "wal" (-wal) or "file".
//
// Rules (each names the failure it prevents):
//  R1 ordering   Before the first write to a file while another file has unflushed writes, flush
//                that other file. Prevents a database page reaching disk before the rollback
//                journal that can undo it (and, in WAL mode, a checkpoint overwriting pages
//                before the WAL frames they come from are durable, or a WAL restart before the
//                checkpointed pages are durable). With R1 at most one file is ever dirty.
//  R2 metadata   A metadata change (create, unlink, rename, mkdir, rmdir) first flushes every
//                dirty file; the header it rewrites is flushed right after it is written (unlink
//                and rename). Prevents a DELETE-mode commit point (the journal's unlink) from
//                becoming durable before the database pages, and an os.replace() exposing a
//                file whose data is not yet durable. A new file's header only becomes dirty:
//                R1 flushes it before anything depends on it.
//  R3 truncate   A shrinking truncate flushes other dirty files first and the file itself after.
//                Prevents losing a TRUNCATE-mode commit (the journal truncated to 0) or
//                reviving a hot journal after it.
//  R4 persist    A write of all zeros at offset 0 of a -journal file is flushed at once. That is
//                the PERSIST-mode commit point (and EXCLUSIVE locking with DELETE, which SQLite
//                runs as PERSIST): unflushed, a power loss revives the hot journal and rolls the
//                committed transaction back.
//  R5 wal-commit A write that completes a WAL commit frame (frame header bytes 4-7 non-zero =
//                database size after commit) is flushed at once. That is the WAL commit point;
//                nothing else happens after it, so without this no WAL commit would ever flush.
//                When a transaction overwrote frames it had spilled earlier, SQLite then
//                rewrites the headers (checksums) of those frames up to the commit frame
//                (walRewriteChecksums): the rewrite of the commit frame's header, at or before
//                the last flushed commit frame, is flushed at once too, or recovery after a
//                power loss would find a broken checksum chain and drop the transaction.
//  R6 close      close() flushes the file if dirty. Prevents data written by a program that
//                never calls fsync from staying unflushed for the life of the worker.
//  R7 fsync      os.fsync() flushes the file.
// MEMORY and OFF journals write only the database file: its pages reach OPFS on every write
// (they survive a crash of the tab or browser) but are flushed only by R1, R3, R6, R7.

const WAL_HEADER_SIZE = 32;
const WAL_FRAME_HEADER_SIZE = 24;

/** @typedef {import("./types").DurabilityPolicy} DurabilityPolicy */
/** @implements {DurabilityPolicy} */
export class FlushPolicy {
  constructor() {
    /** @type {Set<import("./types").FileObject>} */
    this.dirty = new Set();
    /** @type {WeakMap<import("./types").FileObject, {pageSize: number, commitPos: number, commitEnd: number, lastCommitPos: number}>} */
    this.wal = new WeakMap(); // wal file -> { pageSize, commitEnd }
  }

  flush(file) {
    file.flush();
    this.dirty.delete(file);
  }

  /** Flush every dirty file except `keep`, oldest first. */
  flushOthers(keep = null) {
    for (const file of [...this.dirty]) if (file !== keep) this.flush(file);
  }

  flushAll() {
    this.flushOthers(null);
  }

  // --- data operations (called by the Emscripten glue) ---

  beforeWrite(file) {
    if (this.dirty.size && !(this.dirty.size === 1 && this.dirty.has(file))) this.flushOthers(file); // R1
  }

  afterWrite(file, view, pos) {
    this.dirty.add(file);
    if (file.kind === "journal") {
      if (pos === 0 && isAllZero(view)) this.flush(file); // R4
    } else if (file.kind === "wal") {
      this.trackWal(file, view, pos); // R5
    }
  }

  beforeTruncate(file, newSize, oldSize) {
    if (newSize < oldSize) this.flushOthers(file); // R3
    else this.beforeWrite(file); // growing is a write (R1)
  }

  afterTruncate(file, newSize, oldSize) {
    this.dirty.add(file);
    if (newSize < oldSize) this.flush(file); // R3
  }

  onClose(file) {
    if (this.dirty.has(file)) this.flush(file); // R6
  }

  onFsync(file) {
    this.flush(file); // R7: also when we think it is clean; the caller asked for it
  }

  // --- metadata operations (called by backends, in the order they happen) ---

  beforeMetadata() {
    this.flushAll(); // R2
  }

  /** A header (or other metadata) was rewritten and must be durable before the next step. */
  metadataWritten(file) {
    this.dirty.add(file);
    this.flush(file); // R2
  }

  /** A new file's header was written: dirty, flushed by R1 before anything depends on it. */
  created(file) {
    this.dirty.add(file);
  }

  /** The file is gone (freed slot, closed handle): forget it without flushing. */
  forget(file) {
    this.dirty.delete(file);
    this.wal.delete(file);
  }

  // --- R5 helpers ---

  trackWal(file, view, pos) {
    let state = this.wal.get(file);
    if (!state) this.wal.set(file, (state = { pageSize: 0, commitPos: -1, commitEnd: -1, lastCommitPos: -1 }));
    if (pos === 0 && view.length >= WAL_HEADER_SIZE) {
      // A new WAL header (first write, or a restart after a checkpoint): frames start again.
      state.pageSize = readU32BE(view, 8); // the WAL header names the page size
      state.commitEnd = state.commitPos = state.lastCommitPos = -1;
    }
    if (pos >= WAL_HEADER_SIZE && view.length >= 8) {
      if (!state.pageSize) state.pageSize = readWalPageSize(file);
      const frameSize = WAL_FRAME_HEADER_SIZE + state.pageSize;
      if (state.pageSize && (pos - WAL_HEADER_SIZE) % frameSize === 0 && readU32BE(view, 4) !== 0) {
        if (pos <= state.lastCommitPos) {
          this.flush(file); // a checksum rewrite ending at a commit frame already written
          return;
        }
        state.commitPos = pos; // a new commit frame header: commit once its page is written
        state.commitEnd = pos + frameSize;
      }
    }
    if (state.commitEnd >= 0 && pos + view.length >= state.commitEnd) {
      state.lastCommitPos = state.commitPos;
      state.commitEnd = -1;
      this.flush(file);
    }
  }
}

function isAllZero(view) {
  for (let i = 0; i < view.length; i++) if (view[i] !== 0) return false;
  return true;
}

function readU32BE(view, at) {
  return (((view[at] & 0xff) << 24) | ((view[at + 1] & 0xff) << 16) | ((view[at + 2] & 0xff) << 8) | (view[at + 3] & 0xff)) >>> 0;
}

function readWalPageSize(file) {
  const header = new Uint8Array(WAL_HEADER_SIZE);
  return file.read(header, 0) === WAL_HEADER_SIZE ? readU32BE(header, 8) : 0;
}
