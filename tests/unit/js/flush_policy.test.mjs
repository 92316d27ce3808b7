// Durability rules R1-R7 of pyodide_opfs/js/flush_policy.mjs, with fake files that record calls.
// The FS glue calls beforeWrite/afterWrite around every write, with the WASM heap as an Int8Array.

import test from "node:test";
import assert from "node:assert/strict";

import { FlushPolicy } from "../../../pyodide_opfs/js/flush_policy.mjs";

/** A fake file: records flushes in a shared log; its content is a growable byte array. */
function makeFiles(...specs) {
  const log = [];
  const files = specs.map(([path, kind]) => ({
    path,
    kind,
    flushes: 0,
    reads: 0,
    content: new Uint8Array(0),
    flush() {
      this.flushes++;
      log.push(`flush ${this.path}`);
    },
    read(view, pos) {
      this.reads++;
      const n = Math.max(0, Math.min(view.length, this.content.length - pos));
      view.set(this.content.subarray(pos, pos + n));
      return n;
    },
  }));
  return { log, files };
}

/** What the glue does for one write: the view is a subarray of an Int8Array "heap". */
function heapView(bytes, { int8 = true, offset = 37 } = {}) {
  const heap = int8 ? new Int8Array(offset + bytes.length + 11) : new Uint8Array(offset + bytes.length + 11);
  heap.set(int8 ? Int8Array.from(bytes, (b) => (b << 24) >> 24) : bytes, offset);
  return heap.subarray(offset, offset + bytes.length);
}

function write(policy, file, bytes, pos, log, opts) {
  const view = bytes instanceof Int8Array || bytes instanceof Uint8Array ? bytes : heapView(bytes, opts);
  policy.beforeWrite(file);
  log?.push(`write ${file.path}@${pos}`);
  policy.afterWrite(file, view, pos);
}

const page = (n, fill = 0x5a) => new Uint8Array(n).fill(fill);

// ------------------------------------------------------------------------------------ R1

test("R1: a write to B while A is dirty flushes A first, exactly once", () => {
  const { log, files: [a, b] } = makeFiles(["/a.db", "file"], ["/b.db", "file"]);
  const p = new FlushPolicy();
  write(p, a, page(100), 0, log);
  write(p, a, page(100), 100, log);
  write(p, a, page(100), 0, log);
  assert.equal(a.flushes, 0, "repeated writes to one file do not flush");
  write(p, b, page(10), 0, log);
  assert.deepEqual(log, ["write /a.db@0", "write /a.db@100", "write /a.db@0", "flush /a.db", "write /b.db@0"]);
  write(p, b, page(10), 10, log);
  write(p, b, page(10), 20, log);
  assert.equal(a.flushes, 1);
  assert.equal(b.flushes, 0);
  assert.deepEqual([...p.dirty], [b], "with R1 at most one file is dirty");
  write(p, a, page(10), 0, log);
  assert.equal(b.flushes, 1);
  assert.equal(a.flushes, 1);
  assert.deepEqual([...p.dirty], [a]);
});

test("R1: a write to a clean file with nothing dirty flushes nothing", () => {
  const { log, files: [a, b] } = makeFiles(["/a", "file"], ["/b", "file"]);
  const p = new FlushPolicy();
  write(p, a, page(5), 0, log);
  p.onFsync(a);
  write(p, b, page(5), 0, log);
  assert.equal(a.flushes, 1, "only the fsync");
  assert.equal(b.flushes, 0);
});

test("R1: database page never reaches disk before the journal that can undo it", () => {
  const { log, files: [db, j] } = makeFiles(["/app.db", "file"], ["/app.db-journal", "journal"]);
  const p = new FlushPolicy();
  write(p, j, page(512, 1), 0, log); // journal header + original page
  write(p, j, page(4096, 2), 512, log);
  write(p, db, page(4096, 3), 4096, log); // overwrite the page in the database
  assert.deepEqual(log, ["write /app.db-journal@0", "write /app.db-journal@512", "flush /app.db-journal", "write /app.db@4096"]);
});

test("R1: a growing truncate is a write (flushes the other dirty file, not itself)", () => {
  const { files: [a, b] } = makeFiles(["/a", "file"], ["/b", "file"]);
  const p = new FlushPolicy();
  p.beforeTruncate(b, 8192, 0);
  p.afterTruncate(b, 8192, 0);
  assert.equal(b.flushes, 0, "growing does not flush");
  assert.ok(p.dirty.has(b));
  write(p, a, page(3), 0);
  assert.equal(b.flushes, 1);
  p.beforeTruncate(b, 100000, 8192);
  assert.equal(a.flushes, 1, "R1 for the growing truncate of b");
  p.afterTruncate(b, 100000, 8192);
  assert.equal(b.flushes, 1);
});

// ------------------------------------------------------------------------------------ R2

test("R2: beforeMetadata flushes every dirty file, oldest first; metadataWritten flushes the file", () => {
  const { log, files: [a, b, c] } = makeFiles(["/a", "file"], ["/b", "file"], ["/c", "file"]);
  const p = new FlushPolicy();
  write(p, a, page(3), 0);
  p.created(b); // a new header: dirty, not flushed
  p.created(c);
  assert.equal(log.length, 0);
  assert.equal(p.dirty.size, 3);
  p.beforeMetadata();
  assert.deepEqual(log, ["flush /a", "flush /b", "flush /c"]);
  assert.equal(p.dirty.size, 0);
  p.beforeMetadata();
  assert.equal(log.length, 3, "nothing dirty, nothing flushed");
  p.metadataWritten(b);
  assert.deepEqual(log.slice(3), ["flush /b"]);
  assert.equal(p.dirty.size, 0);
});

test("R2: a created file's header is flushed by R1 before another file is written", () => {
  const { log, files: [a, b] } = makeFiles(["/a", "file"], ["/b", "file"]);
  const p = new FlushPolicy();
  p.created(a);
  write(p, a, page(3), 0, log);
  assert.deepEqual(log, ["write /a@0"], "writing the new file itself does not flush it");
  write(p, b, page(3), 0, log);
  assert.deepEqual(log, ["write /a@0", "flush /a", "write /b@0"]);
});

test("forget drops a dirty file without flushing it", () => {
  const { log, files: [a, b] } = makeFiles(["/a", "file"], ["/b", "file"]);
  const p = new FlushPolicy();
  write(p, a, page(3), 0);
  p.forget(a);
  write(p, b, page(3), 0);
  p.beforeMetadata();
  assert.deepEqual(log, ["flush /b"]);
});

// ------------------------------------------------------------------------------------ R3

test("R3: a shrinking truncate flushes others before and the file after", () => {
  const { log, files: [a, j] } = makeFiles(["/app.db", "file"], ["/app.db-journal", "journal"]);
  const p = new FlushPolicy();
  write(p, a, page(4096), 0, log);
  p.beforeTruncate(j, 0, 8192);
  log.push("truncate journal");
  p.afterTruncate(j, 0, 8192);
  assert.deepEqual(log, ["write /app.db@0", "flush /app.db", "truncate journal", "flush /app.db-journal"]);
  assert.equal(p.dirty.size, 0);
});

test("R3: a shrinking truncate of the only dirty file flushes it once, after", () => {
  const { log, files: [a] } = makeFiles(["/a", "file"]);
  const p = new FlushPolicy();
  write(p, a, page(10), 0, log);
  p.beforeTruncate(a, 5, 10);
  log.push("truncate");
  p.afterTruncate(a, 5, 10);
  assert.deepEqual(log, ["write /a@0", "truncate", "flush /a"]);
});

test("R3: a growing truncate with nothing else dirty flushes nothing", () => {
  const { log, files: [a] } = makeFiles(["/a", "file"]);
  const p = new FlushPolicy();
  p.beforeTruncate(a, 10, 0);
  p.afterTruncate(a, 10, 0);
  assert.deepEqual(log, []);
  assert.ok(p.dirty.has(a));
});

// ------------------------------------------------------------------------------------ R4

test("R4: 28 zero bytes at offset 0 of a journal flush it at once (Int8Array and Uint8Array)", () => {
  for (const int8 of [true, false]) {
    const { log, files: [j] } = makeFiles(["/app.db-journal", "journal"]);
    const p = new FlushPolicy();
    write(p, j, page(512, 0xd9), 0, log, { int8 });
    write(p, j, page(4096, 0x80), 512, log, { int8 });
    assert.equal(j.flushes, 0);
    write(p, j, new Array(28).fill(0), 0, log, { int8 });
    assert.equal(j.flushes, 1, `int8=${int8}`);
    assert.equal(p.dirty.size, 0);
  }
});

test("R4: a non-zero write at 0, or zeros elsewhere, or zeros at 0 of a non-journal do not flush", () => {
  const { files: [j, db, w] } = makeFiles(["/a-journal", "journal"], ["/a.db", "file"], ["/a-wal", "wal"]);
  const p = new FlushPolicy();
  const almost = new Array(28).fill(0);
  almost[27] = 0x80; // -128 as Int8
  write(p, j, almost, 0);
  write(p, j, new Array(28).fill(0), 28);
  write(p, j, new Array(28).fill(0), 512);
  assert.equal(j.flushes, 0);
  p.onFsync(j);
  write(p, db, new Array(28).fill(0), 0);
  assert.equal(db.flushes, 0);
  p.onFsync(db);
  write(p, w, new Array(28).fill(0), 0);
  assert.equal(w.flushes, 0);
});

// ------------------------------------------------------------------------------------ R5

function walHeader(pageSize) {
  const h = new Uint8Array(32);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, 0x377f0682, false);
  dv.setUint32(4, 3007000, false);
  dv.setUint32(8, pageSize, false);
  dv.setUint32(16, 0x11223344, false);
  return h;
}

function frameHeader(pgno, commitSize) {
  const h = new Uint8Array(24);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, pgno, false);
  dv.setUint32(4, commitSize, false);
  dv.setUint32(8, 0x11223344, false);
  dv.setUint32(16, 0xdeadbeef, false);
  return h;
}

const frameAt = (i, pageSize) => 32 + i * (24 + pageSize);

test("R5: a commit frame is flushed exactly once, after its page is written", () => {
  const { log, files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const p = new FlushPolicy();
  const ps = 4096;
  write(p, w, walHeader(ps), 0, log);
  assert.equal(w.flushes, 0, "the WAL header alone does not flush");
  write(p, w, frameHeader(1, 2), frameAt(0, ps), log);
  assert.equal(w.flushes, 0, "the frame header alone does not flush");
  write(p, w, page(ps), frameAt(0, ps) + 24, log);
  assert.equal(w.flushes, 1);
  assert.deepEqual(log, ["write /app.db-wal@0", "write /app.db-wal@32", "write /app.db-wal@56", "flush /app.db-wal"]);
  assert.equal(p.dirty.size, 0);
  assert.equal(w.reads, 0, "page size known from the header: no read");
});

test("R5: non-commit frames do not flush; the commit frame after them does", () => {
  const { files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const p = new FlushPolicy();
  const ps = 4096;
  write(p, w, walHeader(ps), 0);
  for (let i = 0; i < 3; i++) {
    write(p, w, frameHeader(i + 1, 0), frameAt(i, ps));
    write(p, w, page(ps), frameAt(i, ps) + 24);
  }
  assert.equal(w.flushes, 0);
  write(p, w, frameHeader(4, 4), frameAt(3, ps));
  assert.equal(w.flushes, 0);
  write(p, w, page(ps), frameAt(3, ps) + 24);
  assert.equal(w.flushes, 1);
  // a second transaction
  write(p, w, frameHeader(1, 0), frameAt(4, ps));
  write(p, w, page(ps), frameAt(4, ps) + 24);
  assert.equal(w.flushes, 1);
  write(p, w, frameHeader(2, 4), frameAt(5, ps));
  write(p, w, page(ps), frameAt(5, ps) + 24);
  assert.equal(w.flushes, 2);
});

test("R5: checksum rewrites after a spilled transaction (walRewriteChecksums) are flushed before COMMIT returns", () => {
  const { log, files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const p = new FlushPolicy();
  const ps = 4096;
  write(p, w, walHeader(ps), 0, log);
  for (let i = 0; i < 3; i++) {
    // cache spill: frames written before COMMIT
    write(p, w, frameHeader(i + 1, 0), frameAt(i, ps), log);
    write(p, w, page(ps), frameAt(i, ps) + 24, log);
  }
  write(p, w, page(ps, 7), frameAt(1, ps) + 24, log); // a spilled page changed again: overwritten in place
  write(p, w, frameHeader(4, 4), frameAt(3, ps), log); // the commit frame
  write(p, w, page(ps), frameAt(3, ps) + 24, log);
  assert.equal(w.flushes, 1, "the commit frame is flushed once written");
  for (let i = 1; i <= 3; i++) write(p, w, frameHeader(i + 1, i === 3 ? 4 : 0), frameAt(i, ps), log); // rewrites
  assert.equal(w.flushes, 2, "the rewritten commit frame header is flushed at once");
  assert.equal(log.at(-1), "flush /app.db-wal");
  assert.equal(p.dirty.size, 0, "nothing left unflushed when COMMIT returns");
  // The next transaction appends after the commit frame: one flush, at its commit frame.
  write(p, w, frameHeader(1, 0), frameAt(4, ps));
  write(p, w, page(ps), frameAt(4, ps) + 24);
  write(p, w, frameHeader(2, 5), frameAt(5, ps));
  assert.equal(w.flushes, 2);
  write(p, w, page(ps), frameAt(5, ps) + 24);
  assert.equal(w.flushes, 3);
});

test("R5: after a WAL restart, commit frames written over old frames wait for their page", () => {
  const { files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const p = new FlushPolicy();
  const ps = 4096;
  write(p, w, walHeader(ps), 0);
  for (let i = 0; i < 4; i++) {
    write(p, w, frameHeader(i + 1, i === 3 ? 4 : 0), frameAt(i, ps));
    write(p, w, page(ps), frameAt(i, ps) + 24);
  }
  assert.equal(w.flushes, 1);
  write(p, w, walHeader(ps), 0); // restart: frames start again from the beginning of the file
  write(p, w, frameHeader(1, 2), frameAt(0, ps));
  assert.equal(w.flushes, 1, "a new commit frame over an old one is not a checksum rewrite");
  write(p, w, page(ps), frameAt(0, ps) + 24);
  assert.equal(w.flushes, 2);
});

test("R5: a frame header and its page in a single write flush", () => {
  const { files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const p = new FlushPolicy();
  const ps = 4096;
  write(p, w, walHeader(ps), 0);
  const frame = new Uint8Array(24 + ps);
  frame.set(frameHeader(1, 0), 0);
  frame.set(page(ps), 24);
  write(p, w, frame, frameAt(0, ps));
  assert.equal(w.flushes, 0, "non-commit");
  frame.set(frameHeader(2, 2), 0);
  write(p, w, frame, frameAt(1, ps));
  assert.equal(w.flushes, 1);
});

test("R5: big-endian fields with high bytes (Int8Array negatives): page size 32768, commit size 0x80ff0000", () => {
  const { files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const p = new FlushPolicy();
  const ps = 32768; // 0x00008000: byte 10 is -128 as Int8
  write(p, w, walHeader(ps), 0);
  write(p, w, frameHeader(1, 0x80ff0000), frameAt(0, ps)); // every non-zero byte negative
  write(p, w, page(ps, 0xff), frameAt(0, ps) + 24);
  assert.equal(w.flushes, 1);
});

test("R5: page size 65536 and 512", () => {
  for (const ps of [65536, 512]) {
    const { files: [w] } = makeFiles(["/x-wal", "wal"]);
    const p = new FlushPolicy();
    write(p, w, walHeader(ps), 0);
    write(p, w, frameHeader(1, 0), frameAt(0, ps));
    write(p, w, page(ps), frameAt(0, ps) + 24);
    write(p, w, frameHeader(2, 2), frameAt(1, ps));
    assert.equal(w.flushes, 0);
    write(p, w, page(ps), frameAt(1, ps) + 24);
    assert.equal(w.flushes, 1, `page size ${ps}`);
  }
});

test("R5: page size unknown (WAL header written before) is read from the file", () => {
  const { files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const ps = 4096;
  w.content = new Uint8Array(frameAt(2, ps));
  w.content.set(walHeader(ps), 0);
  const p = new FlushPolicy(); // e.g. a new mount: it never saw the WAL header
  write(p, w, frameHeader(3, 3), frameAt(2, ps));
  assert.equal(w.reads, 1);
  assert.equal(w.flushes, 0);
  write(p, w, page(ps), frameAt(2, ps) + 24);
  assert.equal(w.flushes, 1);
  write(p, w, frameHeader(4, 4), frameAt(3, ps));
  write(p, w, page(ps), frameAt(3, ps) + 24);
  assert.equal(w.flushes, 2);
  assert.equal(w.reads, 1, "the page size is read once");
});

test("R5: page size unreadable (empty WAL) neither flushes nor throws", () => {
  const { files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const p = new FlushPolicy();
  write(p, w, frameHeader(1, 1), 32);
  write(p, w, page(4096), 56);
  assert.equal(w.flushes, 0);
  assert.ok(p.dirty.has(w));
});

test("R5: a WAL restart (new header at 0) drops a pending commit and takes the new page size", () => {
  const { files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const p = new FlushPolicy();
  write(p, w, walHeader(4096), 0);
  write(p, w, frameHeader(1, 1), frameAt(0, 4096)); // commit frame header, page never written
  write(p, w, walHeader(1024), 0);
  assert.equal(w.flushes, 0);
  write(p, w, frameHeader(1, 1), frameAt(0, 1024));
  write(p, w, page(1024), frameAt(0, 1024) + 24);
  assert.equal(w.flushes, 1);
});

test("R5: a commit frame header at a non-frame offset is ignored", () => {
  const { files: [w] } = makeFiles(["/app.db-wal", "wal"]);
  const p = new FlushPolicy();
  write(p, w, walHeader(4096), 0);
  write(p, w, frameHeader(1, 1), frameAt(0, 4096) + 24); // page-data position
  write(p, w, page(4096), frameAt(1, 4096));
  assert.equal(w.flushes, 0);
});

// ------------------------------------------------------------------------------------ R6 / R7

test("R6: close flushes only a dirty file", () => {
  const { files: [a] } = makeFiles(["/a.txt", "file"]);
  const p = new FlushPolicy();
  p.onClose(a);
  assert.equal(a.flushes, 0);
  write(p, a, page(10), 0);
  p.onClose(a);
  assert.equal(a.flushes, 1);
  p.onClose(a);
  assert.equal(a.flushes, 1);
});

test("R7: fsync always flushes, dirty or not, and leaves the file clean", () => {
  const { files: [a] } = makeFiles(["/a.txt", "file"]);
  const p = new FlushPolicy();
  p.onFsync(a);
  assert.equal(a.flushes, 1);
  write(p, a, page(10), 0);
  p.onFsync(a);
  assert.equal(a.flushes, 2);
  assert.equal(p.dirty.size, 0);
  p.onClose(a);
  assert.equal(a.flushes, 2);
});
