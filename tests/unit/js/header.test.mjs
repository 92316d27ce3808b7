// Pool-file header codec (pyodide_opfs/js/header.mjs): layout, digest v2, decode states, flags.
// The digest is also cross-checked against an independent Python implementation of the spec in
// tests/unit/test_header_digest.py; the golden vectors below come from that implementation.

import test from "node:test";
import assert from "node:assert/strict";

import * as H from "../../../pyodide_opfs/js/header.mjs";

const hex = (bytes) => Buffer.from(bytes).toString("hex");
const utf8 = (s) => new TextEncoder().encode(s);

/** Write a header by hand (path bytes, flags, digest, sequence), optionally with a given digest. */
function rawHeader(pathBytes, flags, { digest = null, sequence = 0 } = {}) {
  const b = new Uint8Array(H.HEADER_SIZE);
  b.set(pathBytes, 0);
  const dv = new DataView(b.buffer);
  dv.setUint32(512, flags >>> 0, false);
  const [h1, h2] = digest ?? H.computeDigest(b, flags);
  dv.setUint32(516, h1, true);
  dv.setUint32(520, h2, true);
  dv.setUint32(524, sequence >>> 0, true);
  return b;
}

test("layout constants match the sqlite-wasm format", () => {
  assert.equal(H.PATH_SIZE, 512);
  assert.equal(H.MAX_PATH_BYTES, 511);
  assert.equal(H.OFFSET_FLAGS, 512);
  assert.equal(H.OFFSET_DIGEST, 516);
  assert.equal(H.CORPUS_SIZE, 516);
  assert.equal(H.OFFSET_SEQUENCE, 524);
  assert.equal(H.HEADER_SIZE, 528);
  assert.equal(H.DATA_OFFSET, 4096);
  assert.equal(H.FLAG_DIGEST_V2, 0x80);
  assert.equal(H.PERSISTENT_TYPES, 0x100 | 0x800 | 0x4000 | 0x80000);
});

// Golden vectors: bytes 512-527 (flags BE, h1 LE, h2 LE, sequence LE), computed in Python.
const GOLDEN = [
  ["/app.db", 0x180, 0, "0000018018db5fe3f8ee454500000000"],
  ["/données/日本.db-journal", 0x880, 7, "00000880e6e454cee648ed1f07000000"],
  ["/d", 0x40000180, 0x01020304, "4000018085b01552edb990a804030201"],
];

for (const [path, flags, seq, tail] of GOLDEN) {
  test(`golden header vector ${path} flags=0x${flags.toString(16)}`, () => {
    const h = H.encodeHeader(path, flags, seq);
    assert.equal(h.length, H.HEADER_SIZE);
    const p = utf8(path);
    assert.equal(hex(h.subarray(0, p.length)), hex(p));
    assert.ok(h.subarray(p.length, 512).every((b) => b === 0), "path area is NUL-padded");
    assert.equal(hex(h.subarray(512, 528)), tail);
    const d = H.decodeHeader(h);
    assert.deepEqual(d, { state: "used", path, flags, sequence: seq, reason: "" });
  });
}

test("computeDigest returns (0, 0) without the v2 flag", () => {
  const h = rawHeader(utf8("/x.db"), 0x100);
  assert.deepEqual(H.computeDigest(h, 0x100), [0, 0]);
  assert.deepEqual(H.computeDigest(h, 0), [0, 0]);
});

test("free slot: empty path with flags 0 has digest (0, 0) and decodes as free", () => {
  const h = H.encodeHeader("", 0, 0);
  assert.ok(h.every((b) => b === 0), "a free header is all zeros");
  assert.deepEqual(H.decodeHeader(h), { state: "free", path: "", flags: 0, sequence: 0, reason: "" });
  // a free slot keeps its sequence number
  const h2 = H.encodeHeader("", 0, 99);
  assert.equal(H.decodeHeader(h2).state, "free");
  assert.equal(H.decodeHeader(h2).sequence, 99);
});

test("all-zero bytes (a never-written header) decode as free", () => {
  assert.equal(H.decodeHeader(new Uint8Array(4096)).state, "free");
});

test("the sequence number is outside the digest", () => {
  const a = H.encodeHeader("/a.db", H.flagsForPath("/a.db"), 1);
  const b = H.encodeHeader("/a.db", H.flagsForPath("/a.db"), 0xfffffffe);
  assert.equal(hex(a.subarray(0, 524)), hex(b.subarray(0, 524)));
  assert.equal(H.decodeHeader(b).state, "used");
  assert.equal(H.decodeHeader(b).sequence, 0xfffffffe);
});

test("older header without the v2 flag and with digest (0, 0) is used", () => {
  const h = rawHeader(utf8("/old.db"), 0x100, { digest: [0, 0] });
  assert.deepEqual(H.decodeHeader(h), { state: "used", path: "/old.db", flags: 0x100, sequence: 0, reason: "" });
});

test("header without the v2 flag but a non-zero digest is bad", () => {
  const h = rawHeader(utf8("/old.db"), 0x100, { digest: [1, 0] });
  assert.equal(H.decodeHeader(h).state, "bad");
  assert.equal(H.decodeHeader(h).reason, "digest mismatch");
});

test("digest mismatch is bad, never free", () => {
  const h = H.encodeHeader("/a.db", 0x180, 3);
  for (const at of [516, 519, 520, 523]) {
    const c = h.slice();
    c[at] ^= 0x01;
    const d = H.decodeHeader(c);
    assert.equal(d.state, "bad", `digest byte ${at}`);
    assert.equal(d.reason, "digest mismatch");
    assert.equal(d.sequence, 3);
  }
});

test("a flipped byte in the path or the flags is a digest mismatch", () => {
  const h = H.encodeHeader("/a.db", 0x180, 0);
  for (const at of [0, 1, 4, 300, 511, 512, 515]) {
    const c = h.slice();
    c[at] ^= 0x20;
    assert.equal(H.decodeHeader(c).state, "bad", `byte ${at}`);
    assert.equal(H.decodeHeader(c).reason, "digest mismatch", `byte ${at}`);
  }
});

test("a free slot whose first byte was wiped but digest kept is bad (digest covers the path area)", () => {
  const h = H.encodeHeader("/a.db", 0x180, 0);
  h[0] = 0;
  assert.equal(H.decodeHeader(h).state, "bad");
});

test("invalid UTF-8 in the path with a valid digest is bad", () => {
  const h = rawHeader(Uint8Array.of(0x2f, 0xff, 0xfe, 0x41), 0x180);
  assert.deepEqual(H.computeDigest(h, 0x180), [new DataView(h.buffer).getUint32(516, true), new DataView(h.buffer).getUint32(520, true)]);
  const d = H.decodeHeader(h);
  assert.equal(d.state, "bad");
  assert.equal(d.reason, "path is not UTF-8");
  // a truncated multi-byte sequence too
  const h2 = rawHeader(Uint8Array.of(0x2f, 0xc3), 0x180);
  assert.equal(H.decodeHeader(h2).state, "bad");
});

test("a named slot without a persistent file type is bad", () => {
  for (const flags of [0x80, 0x80 | 0x2, 0x80 | H.FLAG_DIRECTORY, 0]) {
    const h = rawHeader(utf8("/x.db"), flags);
    const d = H.decodeHeader(h);
    assert.equal(d.state, "bad", `flags 0x${flags.toString(16)}`);
    assert.equal(d.reason, "flags without a persistent file type");
    assert.equal(d.path, "/x.db");
  }
});

test("DELETEONCLOSE makes a named slot bad even with a persistent type", () => {
  const h = rawHeader(utf8("/x.db"), 0x100 | 0x80 | H.OPEN_DELETEONCLOSE);
  assert.equal(H.decodeHeader(h).state, "bad");
  assert.equal(H.decodeHeader(h).reason, "flags without a persistent file type");
});

test("every persistent type alone is accepted", () => {
  for (const t of [H.OPEN_MAIN_DB, H.OPEN_MAIN_JOURNAL, H.OPEN_SUPER_JOURNAL, H.OPEN_WAL]) {
    const h = H.encodeHeader("/f", t | 0x80, 0);
    assert.equal(H.decodeHeader(h).state, "used", `type 0x${t.toString(16)}`);
  }
});

test("short header is bad", () => {
  assert.equal(H.decodeHeader(new Uint8Array(527)).state, "bad");
  assert.equal(H.decodeHeader(new Uint8Array(527)).reason, "short header");
});

test("decodeHeader reads a header inside a larger buffer at a non-zero offset", () => {
  const big = new Uint8Array(8192);
  big.set(H.encodeHeader("/inner.db", 0x180, 5), 1000);
  const d = H.decodeHeader(big.subarray(1000, 1000 + H.HEADER_SIZE));
  assert.equal(d.state, "used");
  assert.equal(d.path, "/inner.db");
  assert.equal(d.sequence, 5);
});

test("511-byte paths are accepted (ASCII and multi-byte), 512+ rejected", () => {
  const ascii = "/" + "a".repeat(510);
  const multi = "/" + "é".repeat(255); // 1 + 510 bytes
  for (const p of [ascii, multi]) {
    assert.equal(utf8(p).length, 511);
    assert.equal(H.pathByteLength(p), 511);
    const h = H.encodeHeader(p, 0x180, 1);
    assert.equal(h[511], 0, "the NUL terminator stays");
    assert.equal(H.decodeHeader(h).path, p);
    assert.equal(H.decodeHeader(h).state, "used");
  }
  for (const p of ["/" + "a".repeat(511), "/" + "a".repeat(509) + "é", "/" + "a".repeat(510) + "é", "/" + "€".repeat(200), "x".repeat(5000)]) {
    assert.equal(H.pathByteLength(p), -1, `${utf8(p).length} bytes`);
    assert.throws(() => H.encodeHeader(p, 0x180, 0), RangeError, `${utf8(p).length} bytes`);
  }
});

test("pathByteLength counts UTF-8 bytes", () => {
  assert.equal(H.pathByteLength(""), 0);
  assert.equal(H.pathByteLength("/a.db"), 5);
  assert.equal(H.pathByteLength("/é"), 3);
  assert.equal(H.pathByteLength("/日本"), 7);
  assert.equal(H.pathByteLength("/😀"), 5);
});

test("flagsForPath: SQLite type by name, digest marker, directory bit", () => {
  assert.equal(H.flagsForPath("/app.db"), 0x100 | 0x80);
  assert.equal(H.flagsForPath("/notes.txt"), 0x100 | 0x80);
  assert.equal(H.flagsForPath("/app.db-journal"), 0x800 | 0x80);
  assert.equal(H.flagsForPath("/app.db-wal"), 0x80000 | 0x80);
  assert.equal(H.flagsForPath("/app.db-shm"), 0x100 | 0x80);
  assert.equal(H.flagsForPath("/dir", true), 0x100 | 0x80 | H.FLAG_DIRECTORY);
  assert.equal(H.flagsForPath("/dir-wal", true), 0x80000 | 0x80 | H.FLAG_DIRECTORY);
  // every flag set we produce survives sqlite-wasm's install check and our decode
  for (const [p, d] of [["/a.db", false], ["/a-journal", false], ["/a-wal", false], ["/d", true]]) {
    const f = H.flagsForPath(p, d);
    assert.ok(f & H.PERSISTENT_TYPES);
    assert.equal(f & H.OPEN_DELETEONCLOSE, 0);
    assert.equal(H.decodeHeader(H.encodeHeader(p, f, 0)).state, "used");
  }
});

test("directory flag (bit 30) round-trips as an unsigned value", () => {
  const f = H.flagsForPath("/d", true);
  const d = H.decodeHeader(H.encodeHeader("/d", f | 0x80000000, 0));
  assert.equal(d.flags, (f | 0x80000000) >>> 0);
  assert.ok(d.flags > 0);
});
