// SAH pool backend (pyodide_opfs/js/sahpool.mjs) on fake in-memory SyncAccessHandles, with a real
// FlushPolicy. Each fake handle keeps its current bytes and its durable bytes (as of its last
// flush), so a "power loss" can be simulated by reopening a pool from the durable bytes.

import test from "node:test";
import assert from "node:assert/strict";

import * as H from "../../../pyodide_opfs/js/header.mjs";
import { FlushPolicy } from "../../../pyodide_opfs/js/flush_policy.mjs";
import { SAHPoolBackend, Slot, isCanonicalPath, parentOf, baseName } from "../../../pyodide_opfs/js/sahpool.mjs";

const u8 = (v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);

class FakeSAH {
  constructor(name, bytes = new Uint8Array(0)) {
    this.name = name;
    this.data = Uint8Array.from(bytes);
    this.durable = Uint8Array.from(bytes);
    this.pendingWrites = 0; // writes since the last flush
    this.pendingTruncates = 0;
    this.flushCount = 0;
    this.closed = false;
  }
  check() {
    if (this.closed) throw new Error(`handle ${this.name} is closed`);
  }
  getSize() {
    this.check();
    return this.data.length;
  }
  read(view, { at = 0 } = {}) {
    this.check();
    const dst = u8(view);
    const n = Math.max(0, Math.min(dst.length, this.data.length - at));
    dst.set(this.data.subarray(at, at + n));
    return n;
  }
  write(view, { at = 0 } = {}) {
    this.check();
    const src = u8(view);
    if (at + src.length > this.data.length) this.resize(at + src.length);
    this.data.set(src, at);
    this.pendingWrites++;
    return src.length;
  }
  resize(n) {
    const d = new Uint8Array(n);
    d.set(this.data.subarray(0, Math.min(n, this.data.length)));
    this.data = d;
  }
  truncate(n) {
    this.check();
    this.resize(n);
    this.pendingTruncates++;
  }
  flush() {
    this.check();
    this.durable = this.data.slice();
    this.pendingWrites = 0;
    this.pendingTruncates = 0;
    this.flushCount++;
  }
  close() {
    this.closed = true;
  }
  header(durable = false) {
    const src = durable ? this.durable : this.data;
    const b = new Uint8Array(H.HEADER_SIZE);
    b.set(src.subarray(0, H.HEADER_SIZE));
    return H.decodeHeader(b);
  }
}

const fakeErrors = {
  error(name, msg) {
    const e = new Error(name);
    e.errno = name;
    e.hint = msg;
    return e;
  },
  fromException(e) {
    return e;
  },
};

/** Bytes of a pool file: header + data. */
function poolFile(path, { flags = H.flagsForPath(path), sequence = 1, data = new Uint8Array(0), dir = false } = {}) {
  const f = dir ? H.flagsForPath(path, true) : flags;
  const b = new Uint8Array(H.DATA_OFFSET + data.length);
  b.set(H.encodeHeader(path, f, sequence), 0);
  b.set(data, H.DATA_OFFSET);
  return b;
}

const freeFile = () => poolFile("", { flags: 0, sequence: 0 });

/** A pool from [name, bytes] pairs (or a count of fresh empty files). */
function openPool(contents, { silent = true } = {}) {
  const handles = typeof contents === "number" ? Array.from({ length: contents }, (_, i) => new FakeSAH(`f${i}`)) : contents.map(([n, b]) => new FakeSAH(n, b));
  const policy = new FlushPolicy();
  const warn = console.warn;
  const warnings = [];
  if (silent) console.warn = (...a) => warnings.push(a.join(" "));
  try {
    const pool = new SAHPoolBackend(handles.map((sah) => ({ name: sah.name, sah, mtime: 1 })), policy, fakeErrors);
    return { pool, policy, handles, warnings };
  } finally {
    console.warn = warn;
  }
}

/** Reopen a pool from the durable bytes of the given handles: what a power loss leaves. */
function reopenDurable(handles) {
  return openPool(handles.map((h) => [h.name, h.durable]));
}

/** Write through the slot as the FS glue does (policy around the write; an Int8Array heap view). */
function write(policy, slot, bytes, pos) {
  const heap = new Int8Array(bytes.length + 64);
  heap.set(Int8Array.from(bytes, (b) => (b << 24) >> 24), 16);
  const view = heap.subarray(16, 16 + bytes.length);
  policy.beforeWrite(slot);
  const n = slot.write(view, pos);
  policy.afterWrite(slot, view, pos);
  return n;
}

function readAll(slot) {
  const out = new Uint8Array(slot.size);
  const n = slot.read(out, 0);
  assert.equal(n, slot.size);
  return out;
}

const bytes = (s) => new TextEncoder().encode(s);
const text = (b) => new TextDecoder().decode(b);

function errnoOf(fn) {
  try {
    fn();
  } catch (e) {
    return e.errno ?? `not an errno: ${e}`;
  }
  return "no error";
}

function assertAllFlushed(handles, msg = "") {
  for (const h of handles) assert.equal(h.pendingWrites, 0, `${msg} handle ${h.name} has unflushed writes`);
}

/** Every handle's durable header agrees with its current header. */
function assertHeadersDurable(handles) {
  for (const h of handles) assert.deepEqual(h.header(true), h.header(false), `durable header of ${h.name}`);
}

function tree(pool) {
  const out = {};
  for (const [p, e] of pool.entries) out[p] = e.kind;
  return out;
}

// ------------------------------------------------------------------------- helpers

test("path helpers", () => {
  assert.ok(isCanonicalPath("/a"));
  assert.ok(isCanonicalPath("/a/b.db"));
  for (const p of ["/", "", "a", "a/b", "/a/", "//a", "/a//b", "/./a", "/a/..", "/a\0b"]) assert.ok(!isCanonicalPath(p), p);
  assert.equal(parentOf("/a"), "/");
  assert.equal(parentOf("/a/b/c"), "/a/b");
  assert.equal(baseName("/a/b/c.db"), "c.db");
});

// ------------------------------------------------------------------------- install

test("fresh zero-length pool files become free slots of 4096 bytes, flushed", () => {
  const { pool, handles } = openPool(3);
  assert.equal(pool.capacity, 3);
  assert.equal(pool.free.length, 3);
  assert.equal(pool.fileCount, 0);
  for (const h of handles) {
    assert.equal(h.getSize(), H.DATA_OFFSET);
    assert.equal(h.durable.length, H.DATA_OFFSET);
    assert.equal(h.header(true).state, "free");
    assert.equal(h.pendingWrites + h.pendingTruncates, 0);
  }
  assert.deepEqual(pool.list("/"), []);
  assert.deepEqual(pool.stat("/"), { kind: "dir", size: 4096, mtime: 0 });
});

test("stored files are indexed with their size; implicit parent directories appear", () => {
  const { pool } = openPool([
    ["x1", poolFile("/a/b/c.db", { data: bytes("hello"), sequence: 4 })],
    ["x2", poolFile("/top.db", { data: new Uint8Array(8192), sequence: 2 })],
    ["x3", freeFile()],
  ]);
  assert.deepEqual(tree(pool), { "/": "dir", "/a": "dir", "/a/b": "dir", "/a/b/c.db": "file", "/top.db": "file" });
  assert.deepEqual(pool.list("/").sort(), ["a", "top.db"]);
  assert.deepEqual(pool.list("/a"), ["b"]);
  assert.deepEqual(pool.list("/a/b"), ["c.db"]);
  assert.equal(pool.stat("/a/b/c.db").size, 5);
  assert.equal(pool.stat("/top.db").size, 8192);
  assert.equal(pool.stat("/a").kind, "dir");
  assert.equal(pool.stat("/nope"), null);
  assert.deepEqual(pool.fileNames(), ["/a/b/c.db", "/top.db"]);
  assert.equal(pool.fileCount, 2);
  assert.equal(pool.sequence, 4);
  const slot = pool.openFile("/a/b/c.db");
  assert.equal(text(readAll(slot)), "hello");
  assert.equal(slot.kind, "file");
});

test("a stored directory entry owns an implicit parent; its kind is dir", () => {
  const { pool } = openPool([
    ["x1", poolFile("/d/f.db-journal", { sequence: 9 })],
    ["x2", poolFile("/d", { dir: true, sequence: 1 })],
  ]);
  assert.equal(pool.entries.get("/d").slot?.name, "x2");
  assert.equal(pool.stat("/d").kind, "dir");
  assert.deepEqual(pool.list("/d"), ["f.db-journal"]);
  assert.equal(pool.openFile("/d/f.db-journal").kind, "journal");
  assert.equal(pool.fileCount, 2);
});

test("quarantine: corrupted header, truncated file, stray files, non-canonical path", () => {
  const corrupted = poolFile("/bad.db", { data: bytes("precious") });
  corrupted[3] ^= 0x40;
  const truncated = poolFile("/short.db").subarray(0, 1000);
  const strayText = bytes("just some text file that somebody put here");
  const strayRandom = Uint8Array.from({ length: 6000 }, (_, i) => (i * 7919 + 13) & 0xff);
  const relative = poolFile("rel.db");
  const { pool, handles, warnings } = openPool([
    ["c", corrupted],
    ["t", truncated],
    ["s1", strayText],
    ["s2", strayRandom],
    ["r", relative],
    ["ok", poolFile("/ok.db")],
    ["fr", freeFile()],
  ]);
  const reasons = Object.fromEntries(pool.quarantined.map((q) => [q.name, q.reason]));
  assert.deepEqual(Object.keys(reasons).sort(), ["c", "r", "s1", "s2", "t"]);
  assert.equal(reasons.c, "digest mismatch");
  assert.match(reasons.t, /truncated pool file \(1000 bytes\)/);
  assert.equal(reasons.s1, "flags without a persistent file type");
  assert.equal(reasons.s2, "digest mismatch");
  assert.match(reasons.r, /canonical/);
  assert.equal(warnings.length, 5);
  assert.deepEqual(pool.fileNames(), ["/ok.db"]);
  assert.equal(pool.free.length, 1);
  assert.equal(pool.fileCount, 1);
  // quarantined files are never written, even when the pool fills up
  const before = handles.filter((h) => h.name !== "ok" && h.name !== "fr").map((h) => h.data.slice());
  pool.createFile("/n1.db");
  assert.equal(errnoOf(() => pool.createFile("/n2.db")), "ENOSPC");
  pool.wipe();
  const after = handles.filter((h) => h.name !== "ok" && h.name !== "fr").map((h) => h.data);
  assert.deepEqual(after, before);
  assert.equal(pool.quarantined.length, 5);
});

test("duplicate paths (a crash inside a rename): the higher sequence wins, the rename is completed (either order)", () => {
  for (const order of [0, 1]) {
    const files = [
      ["old", poolFile("/app.db", { sequence: 5, data: bytes("old") })],
      ["new", poolFile("/app.db", { sequence: 7, data: bytes("new!") })],
    ];
    if (order) files.reverse();
    const { pool, handles } = openPool(files);
    assert.deepEqual(pool.fileNames(), ["/app.db"]);
    const slot = pool.openFile("/app.db");
    assert.equal(slot.name, "new");
    assert.equal(text(readAll(slot)), "new!");
    assert.deepEqual(pool.quarantined, []);
    assert.equal(pool.free.length, 1, "the replaced copy's slot is free again");
    const old = handles.find((h) => h.name === "old");
    assert.equal(old.header().state, "free");
    assert.equal(pool.sequence, 8, "clearing the old header took a new sequence number");
  }
});

test("duplicate paths with equal sequence numbers: ambiguous, so the second is quarantined", () => {
  const { pool } = openPool([
    ["a", poolFile("/app.db", { sequence: 5 })],
    ["b", poolFile("/app.db", { sequence: 5 })],
  ]);
  assert.deepEqual(pool.fileNames(), ["/app.db"]);
  assert.equal(pool.quarantined.length, 1);
  assert.equal(pool.quarantined[0].reason, "duplicate path (older copy)");
});

test("a directory header with the same path as a newer file is quarantined", () => {
  const { pool } = openPool([
    ["f", poolFile("/x", { sequence: 3 })],
    ["d", poolFile("/x", { dir: true, sequence: 2 })],
    ["c", poolFile("/x/y.db", { sequence: 1 })],
  ]);
  assert.equal(pool.stat("/x").kind, "file");
  const q = Object.fromEntries(pool.quarantined.map((e) => [e.name, e.reason]));
  assert.equal(q.d, "duplicate path (older copy)");
  assert.equal(q.c, "parent /x is a file");
});

test("new headers get sequence numbers above every stored one", () => {
  const { pool, handles } = openPool([["a", poolFile("/a.db", { sequence: 41 })], ["q", (() => { const b = poolFile("/q.db", { sequence: 1000 }); b[2] ^= 1; return b; })()], ["f", freeFile()]]);
  assert.equal(pool.sequence, 1000, "a quarantined header's sequence counts too");
  pool.createFile("/b.db");
  assert.equal(handles[2].header().sequence, 1001);
  assert.equal(handles[2].header().path, "/b.db");
});

// ------------------------------------------------------------------------- files

test("create, write, read through Slot; data lives at 4096", () => {
  const { pool, policy, handles } = openPool(2);
  const slot = pool.createFile("/app.db");
  assert.ok(slot instanceof Slot);
  assert.equal(pool.free.length, 1);
  assert.equal(pool.stat("/app.db").size, 0);
  assert.equal(slot.flags, H.flagsForPath("/app.db"));
  const h = handles.find((x) => x.name === slot.name);
  assert.deepEqual(h.header(), { state: "used", path: "/app.db", flags: 0x180, sequence: 1, reason: "" });
  assert.equal(write(policy, slot, bytes("hello world"), 0), 11);
  assert.equal(write(policy, slot, bytes("HELLO"), 0), 5);
  assert.equal(write(policy, slot, bytes("!!"), 20), 2);
  assert.equal(slot.size, 22);
  assert.equal(pool.stat("/app.db").size, 22);
  assert.equal(h.getSize(), H.DATA_OFFSET + 22);
  assert.equal(text(h.data.subarray(H.DATA_OFFSET, H.DATA_OFFSET + 11)), "HELLO world");
  const back = readAll(slot);
  assert.equal(text(back.subarray(0, 11)), "HELLO world");
  assert.deepEqual([...back.subarray(11, 20)], new Array(9).fill(0));
  // Int8Array read target (the WASM heap)
  const heap = new Int8Array(64);
  assert.equal(slot.read(heap.subarray(8, 13), 6), 5);
  assert.equal(text(Uint8Array.from(heap.subarray(8, 13))), "world");
  // truncate through the backend
  pool.truncate(slot, 5);
  assert.equal(slot.size, 5);
  assert.equal(h.getSize(), H.DATA_OFFSET + 5);
  assert.equal(slot.writes, 5, "1 header + 3 writes + 1 truncate");
});

test("a created file's header is dirty until R1 flushes it; metadata ops leave nothing unflushed", () => {
  const { pool, policy, handles } = openPool(4);
  const a = pool.createFile("/a.db");
  const ha = handles.find((x) => x.name === a.name);
  assert.equal(ha.pendingWrites, 1, "new header: dirty, not flushed");
  assert.equal(ha.header(true).state, "free");
  write(policy, a, bytes("aaaa"), 0);
  const b = pool.createFile("/b.db"); // beforeMetadata flushes a
  assert.equal(ha.pendingWrites, 0);
  assert.equal(ha.header(true).path, "/a.db");
  write(policy, b, bytes("bb"), 0);
  pool.mkdir("/d");
  assertAllFlushed(handles, "after mkdir");
  assertHeadersDurable(handles);
  write(policy, a, bytes("x"), 0);
  pool.rename("/a.db", "/d/a.db");
  assertAllFlushed(handles, "after rename");
  assertHeadersDurable(handles);
  write(policy, b, bytes("y"), 0);
  pool.unlink("/b.db");
  assertAllFlushed(handles, "after unlink");
  assertHeadersDurable(handles);
  pool.unlink("/d/a.db");
  pool.rmdir("/d");
  assertAllFlushed(handles, "after rmdir");
  assertHeadersDurable(handles);
  assert.equal(pool.free.length, 4);
});

test("openFile: ENOENT for a missing path, EISDIR for a directory", () => {
  const { pool } = openPool(2);
  pool.mkdir("/d");
  assert.equal(errnoOf(() => pool.openFile("/nope")), "ENOENT");
  assert.equal(errnoOf(() => pool.openFile("/d")), "EISDIR");
  assert.equal(errnoOf(() => pool.openFile("/")), "EISDIR");
});

test("unlink frees the slot: header cleared durably, data dropped, slot reused", () => {
  const { pool, policy, handles } = openPool(1);
  const s = pool.createFile("/x.db");
  write(policy, s, new Uint8Array(10000).fill(7), 0);
  pool.closeFile(pool.openFile("/x.db"));
  pool.unlink("/x.db");
  const h = handles[0];
  assert.equal(pool.stat("/x.db"), null);
  assert.deepEqual(pool.list("/"), []);
  assert.equal(pool.free.length, 1);
  assert.equal(h.header(true).state, "free");
  assert.equal(h.getSize(), H.DATA_OFFSET);
  assert.equal(s.path, "");
  assert.equal(errnoOf(() => pool.unlink("/x.db")), "ENOENT");
  const again = pool.createFile("/y.db");
  assert.equal(again, s);
  assert.equal(again.size, 0);
  assert.equal(h.header().path, "/y.db");
});

test("unlink while open defers freeing the slot until the last close (POSIX)", () => {
  const { pool, policy, handles } = openPool(2);
  pool.createFile("/t.db");
  const s = pool.openFile("/t.db");
  pool.retain(s); // a dup()ed stream
  write(policy, s, bytes("still here"), 0);
  pool.unlink("/t.db");
  const h = handles.find((x) => x.name === s.name);
  assert.equal(pool.stat("/t.db"), null, "gone from the tree");
  assert.equal(h.header(true).state, "free", "header cleared durably at once");
  assert.ok(!pool.free.includes(s), "slot not reusable while open");
  assert.equal(text(readAll(s)), "still here");
  write(policy, s, bytes("!"), 10);
  assert.equal(s.size, 11);
  pool.closeFile(s);
  assert.ok(!pool.free.includes(s));
  pool.closeFile(s);
  assert.ok(pool.free.includes(s));
  assert.equal(h.getSize(), H.DATA_OFFSET);
  assert.ok(!policy.dirty.has(s), "forgotten by the policy");
  // a reopened pool sees a free slot
  const re = reopenDurable(handles);
  assert.deepEqual(re.pool.fileNames(), []);
  assert.equal(re.pool.quarantined.length, 0);
});

test("a free slot with leftover data is truncated when claimed: a new file starts empty", () => {
  const leftover = poolFile("", { flags: 0, sequence: 3, data: new Uint8Array(5000).fill(9) });
  const { pool, handles } = openPool([["f", leftover]]);
  assert.equal(pool.free.length, 1);
  const s = pool.createFile("/new.db");
  assert.equal(s.size, 0);
  assert.equal(pool.stat("/new.db").size, 0);
  assert.equal(handles[0].getSize(), H.DATA_OFFSET);
  assert.equal(handles[0].header().sequence, 4);
});

test("ENOSPC when full, with nothing changed", () => {
  const { pool, handles } = openPool(2);
  pool.createFile("/a.db");
  pool.mkdir("/d");
  const snapshot = handles.map((h) => h.data.slice());
  assert.equal(errnoOf(() => pool.createFile("/b.db")), "ENOSPC");
  assert.equal(errnoOf(() => pool.mkdir("/e")), "ENOSPC");
  assert.deepEqual(handles.map((h) => h.data), snapshot);
  assert.equal(pool.stat("/b.db"), null);
  assert.equal(pool.stat("/e"), null);
  assert.equal(pool.free.length, 0);
  pool.unlink("/a.db");
  pool.createFile("/b.db");
  assert.deepEqual(pool.fileNames(), ["/b.db"]);
});

test("ENAMETOOLONG for a stored path over 511 bytes, without taking a slot", () => {
  const { pool } = openPool(2);
  const ok = "/" + "n".repeat(510);
  const long = "/" + "n".repeat(511);
  assert.equal(errnoOf(() => pool.createFile(long)), "ENAMETOOLONG");
  assert.equal(errnoOf(() => pool.mkdir("/" + "é".repeat(256))), "ENAMETOOLONG");
  assert.equal(pool.free.length, 2);
  pool.createFile(ok);
  assert.deepEqual(pool.fileNames(), [ok]);
});

// ------------------------------------------------------------------------- directories

test("mkdir / rmdir: directory slots, ENOTEMPTY, ENOTDIR, ENOENT", () => {
  const { pool, handles } = openPool(3);
  pool.mkdir("/d");
  const e = pool.entries.get("/d");
  assert.equal(e.kind, "dir");
  assert.ok(e.slot.isDirectory);
  const h = handles.find((x) => x.name === e.slot.name);
  assert.deepEqual(h.header(true), { state: "used", path: "/d", flags: H.flagsForPath("/d", true), sequence: 1, reason: "" });
  assert.deepEqual(pool.stat("/d"), { kind: "dir", size: 4096, mtime: e.slot.mtime });
  pool.createFile("/d/x.db");
  assert.deepEqual(pool.list("/d"), ["x.db"]);
  assert.equal(errnoOf(() => pool.rmdir("/d")), "ENOTEMPTY");
  assert.equal(errnoOf(() => pool.rmdir("/d/x.db")), "ENOTDIR");
  assert.equal(errnoOf(() => pool.rmdir("/nope")), "ENOENT");
  pool.unlink("/d/x.db");
  pool.rmdir("/d");
  assert.equal(pool.stat("/d"), null);
  assert.equal(pool.free.length, 3);
  assert.ok(handles.every((x) => x.header(true).state === "free"));
  // an empty directory survives a reopen
  pool.mkdir("/keep");
  const re = reopenDurable(handles);
  assert.equal(re.pool.stat("/keep")?.kind, "dir");
});

test("rmdir of an implicit directory (no slot) only drops it from the tree", () => {
  const { pool } = openPool([["x", poolFile("/p/q.db")]]);
  assert.equal(errnoOf(() => pool.rmdir("/p")), "ENOTEMPTY");
  pool.unlink("/p/q.db");
  assert.equal(pool.stat("/p").kind, "dir");
  pool.rmdir("/p");
  assert.equal(pool.stat("/p"), null);
  assert.deepEqual(pool.list("/"), []);
});

// ------------------------------------------------------------------------- rename

test("rename a file: header rewritten with a higher sequence, durable, data kept", () => {
  const { pool, policy, handles } = openPool(2);
  const s = pool.createFile("/a.db");
  write(policy, s, bytes("payload"), 0);
  const h = handles.find((x) => x.name === s.name);
  const seq = h.header().sequence;
  pool.rename("/a.db", "/b.db-journal");
  assert.equal(pool.stat("/a.db"), null);
  assert.equal(pool.stat("/b.db-journal").size, 7);
  assert.deepEqual(pool.list("/"), ["b.db-journal"]);
  const d = h.header(true);
  assert.equal(d.path, "/b.db-journal");
  assert.equal(d.flags, H.flagsForPath("/b.db-journal"), "flags follow the new name");
  assert.ok(d.sequence > seq);
  assert.equal(s.kind, "journal");
  assert.equal(text(readAll(pool.openFile("/b.db-journal"))), "payload");
  assert.equal(errnoOf(() => pool.rename("/a.db", "/c.db")), "ENOENT");
});

test("rename over an existing file: target slot freed, sequences increase, headers decode to the new paths", () => {
  const { pool, policy, handles } = openPool(3);
  const src = pool.createFile("/new.tmp");
  write(policy, src, bytes("new content"), 0);
  const dst = pool.createFile("/data.txt");
  write(policy, dst, bytes("old"), 0);
  const hs = handles.find((x) => x.name === src.name);
  const hd = handles.find((x) => x.name === dst.name);
  const seqBefore = Math.max(hs.header().sequence, hd.header().sequence);
  pool.rename("/new.tmp", "/data.txt");
  assert.deepEqual(pool.fileNames(), ["/data.txt"]);
  assert.deepEqual(pool.list("/"), ["data.txt"]);
  assert.equal(pool.openFile("/data.txt"), src);
  assert.equal(text(readAll(src)), "new content");
  assert.ok(pool.free.includes(dst));
  assert.equal(pool.free.length, 2);
  assert.equal(hs.header(true).path, "/data.txt");
  assert.equal(hd.header(true).state, "free");
  assert.ok(hs.header().sequence > seqBefore);
  assert.ok(hd.header().sequence > hs.header().sequence, "the target is cleared after the source is renamed");
  assertAllFlushed(handles);
  const re = reopenDurable(handles);
  assert.deepEqual(re.pool.fileNames(), ["/data.txt"]);
  assert.equal(text(readAll(re.pool.openFile("/data.txt"))), "new content");
});

test("rename over an open file: the target slot is freed at its last close", () => {
  const { pool, policy } = openPool(2);
  pool.createFile("/src");
  pool.createFile("/dst");
  const open = pool.openFile("/dst");
  write(policy, open, bytes("reader keeps me"), 0);
  pool.rename("/src", "/dst");
  assert.ok(!pool.free.includes(open));
  assert.equal(text(readAll(open)), "reader keeps me");
  pool.closeFile(open);
  assert.ok(pool.free.includes(open));
  assert.deepEqual(pool.fileNames(), ["/dst"]);
});

test("rename is crash-safe: every durable state in between reopens with the file under one name", () => {
  const { pool, policy, handles } = openPool(3);
  const src = pool.createFile("/wal.tmp");
  write(policy, src, bytes("NEW"), 0);
  const dst = pool.createFile("/db.txt");
  write(policy, dst, bytes("OLD"), 0);
  policy.beforeMetadata();
  // record the durable bytes of every handle at each flush during the rename
  const states = [];
  for (const h of handles) {
    const flush = h.flush.bind(h);
    h.flush = () => {
      flush();
      states.push(handles.map((x) => [x.name, x.durable.slice()]));
    };
  }
  pool.rename("/wal.tmp", "/db.txt");
  assert.ok(states.length >= 2);
  for (const st of states) {
    const re = openPool(st);
    const names = re.pool.fileNames();
    assert.ok(names.includes("/db.txt"), `state ${JSON.stringify(names)}`);
    assert.ok(!names.includes("/wal.tmp"), "after the first flush the source name is gone");
    assert.equal(text(readAll(re.pool.openFile("/db.txt"))), "NEW", "the newer header wins");
  }
});

test("rename of a directory rewrites every descendant's header", () => {
  const { pool, policy, handles } = openPool(6);
  pool.mkdir("/a");
  pool.mkdir("/a/sub");
  const x = pool.createFile("/a/x.db");
  write(policy, x, bytes("x"), 0);
  pool.createFile("/a/sub/y.db-wal");
  pool.createFile("/other.db");
  pool.rename("/a", "/b");
  assert.deepEqual(tree(pool), {
    "/": "dir", "/b": "dir", "/b/sub": "dir", "/b/x.db": "file", "/b/sub/y.db-wal": "file", "/other.db": "file",
  });
  assert.deepEqual(pool.list("/").sort(), ["b", "other.db"]);
  assert.deepEqual(pool.list("/b").sort(), ["sub", "x.db"]);
  assert.deepEqual(pool.list("/b/sub"), ["y.db-wal"]);
  assert.equal(pool.list("/a").length, 0);
  const stored = handles.map((h) => h.header(true)).filter((d) => d.state === "used").map((d) => d.path).sort();
  assert.deepEqual(stored, ["/b", "/b/sub", "/b/sub/y.db-wal", "/b/x.db", "/other.db"]);
  for (const h of handles) {
    const d = h.header(true);
    if (d.path.startsWith("/b/sub/y")) assert.equal(d.flags, H.flagsForPath(d.path));
    if (d.path === "/b" || d.path === "/b/sub") assert.equal(d.flags, H.flagsForPath(d.path, true));
  }
  assertAllFlushed(handles);
  assert.equal(text(readAll(pool.openFile("/b/x.db"))), "x");
  const re = reopenDurable(handles);
  assert.deepEqual(tree(re.pool), tree(pool));
});

test("rename of a directory with implicit subdirectories (from stored paths)", () => {
  const { pool, handles } = openPool([["c", poolFile("/p/q/c.db", { sequence: 3 })], ["f", freeFile()]]);
  pool.rename("/p", "/r");
  assert.deepEqual(tree(pool), { "/": "dir", "/r": "dir", "/r/q": "dir", "/r/q/c.db": "file" });
  assert.deepEqual(pool.list("/r/q"), ["c.db"]);
  assert.equal(handles[0].header(true).path, "/r/q/c.db");
  assert.equal(handles[0].header(true).sequence, 4);
});

test("rename of a directory over an empty directory frees its slot; over a non-empty one is ENOTEMPTY", () => {
  const { pool } = openPool(4);
  pool.mkdir("/a");
  pool.createFile("/a/f");
  pool.mkdir("/b");
  const bslot = pool.entries.get("/b").slot;
  pool.mkdir("/c");
  pool.rename("/b", "/c");
  assert.equal(pool.stat("/b"), null);
  assert.equal(pool.stat("/c").kind, "dir");
  assert.equal(pool.entries.get("/c").slot, bslot);
  assert.equal(pool.free.length, 1);
  assert.equal(errnoOf(() => pool.rename("/c", "/a")), "ENOTEMPTY");
  assert.equal(pool.stat("/c").kind, "dir");
});

test("rename to a path over 511 bytes is ENAMETOOLONG and changes nothing (also for a descendant)", () => {
  const { pool, handles } = openPool(3);
  pool.mkdir("/d");
  pool.createFile("/d/" + "f".repeat(400));
  const snapshot = handles.map((h) => h.data.slice());
  assert.equal(errnoOf(() => pool.rename("/d", "/" + "D".repeat(200))), "ENAMETOOLONG");
  assert.equal(errnoOf(() => pool.rename("/d/" + "f".repeat(400), "/" + "g".repeat(511))), "ENAMETOOLONG");
  assert.deepEqual(handles.map((h) => h.data), snapshot);
  assert.equal(pool.stat("/d/" + "f".repeat(400)).kind, "file");
});

// ------------------------------------------------------------------------- pool management

test("wipe clears every stored file and directory; quarantined slots untouched", () => {
  const bad = poolFile("/bad.db");
  bad[600] = 1; // outside the header: fine
  bad[1] ^= 1;
  const { pool, handles } = openPool([["a", poolFile("/a/b.db", { sequence: 2 })], ["d", poolFile("/a", { dir: true, sequence: 1 })], ["q", bad], ["f", freeFile()]]);
  pool.wipe();
  assert.deepEqual(tree(pool), { "/": "dir" });
  assert.equal(pool.free.length, 3);
  assert.equal(pool.quarantined.length, 1);
  assert.deepEqual(handles.find((h) => h.name === "q").data, bad);
  assertAllFlushed(handles);
});

test("takeFree and takeQuarantined remove slots from the pool", () => {
  const bad = poolFile("/bad.db");
  bad[1] ^= 1;
  const { pool } = openPool([["q", bad], ["f1", freeFile()], ["f2", freeFile()], ["u", poolFile("/u")]]);
  assert.deepEqual(pool.takeFree(1).map((t) => t.name), ["f2"]);
  assert.equal(pool.capacity, 3);
  assert.deepEqual(pool.takeQuarantined("nope"), []);
  assert.deepEqual(pool.takeQuarantined("q").map((t) => t.name), ["q"]);
  assert.equal(pool.capacity, 2);
  assert.equal(pool.quarantined.length, 0);
  assert.equal(pool.fileCount, 1);
});

test("freed slots that held data are recyclable (their handle keeps the quota); journals and the last free slot stay", () => {
  const { pool, policy } = openPool(5);
  let released = 0;
  pool.onRelease = () => released++;
  for (const p of ["/a.bin", "/b.bin", "/c.db-journal"]) write(policy, pool.createFile(p), new Uint8Array(5000).fill(1), 0);
  pool.createFile("/empty");
  pool.unlink("/c.db-journal"); // a journal: reused by the next transaction, not recycled
  pool.unlink("/empty"); // never held data
  assert.equal(released, 0);
  pool.unlink("/a.bin");
  pool.unlink("/b.bin");
  assert.equal(released, 2);
  const freeBefore = pool.free.length;
  const taken = pool.takeRecyclable().map((t) => t.name);
  assert.equal(taken.length, 2);
  assert.equal(pool.free.length, freeBefore - 2);
  assert.equal(pool.capacity, 3);
  assert.deepEqual(pool.takeRecyclable(), []); // taken once

  // The only free slot is never taken: a file can still be created while handles reopen.
  const one = openPool(1);
  write(one.policy, one.pool.createFile("/x"), new Uint8Array(10), 0);
  one.pool.unlink("/x");
  assert.deepEqual(one.pool.takeRecyclable(), []);
  assert.equal(one.pool.free.length, 1);
});

test("detach/reattach: I/O fails while detached, dirty files flushed first", () => {
  const { pool, policy, handles } = openPool(2);
  const s = pool.createFile("/a");
  write(policy, s, bytes("abc"), 0);
  pool.detachHandles();
  assert.ok(handles.every((h) => h.closed && h.pendingWrites === 0));
  assert.throws(() => s.write(bytes("x"), 0), { name: "NoModificationAllowedError" });
  assert.throws(() => pool.reattachHandles([{ name: handles[0].name, sah: handles[0] }]), /missing/);
  const fresh = handles.map((h) => new FakeSAH(h.name, h.durable));
  pool.reattachHandles(fresh.map((sah) => ({ name: sah.name, sah })));
  assert.equal(text(readAll(s)), "abc");
});
