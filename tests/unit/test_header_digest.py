"""The pool-file header (pyodide_opfs/js/header.mjs) against an independent Python implementation
of the on-disk format spec (shared/reference/sahpool-format.md): headers are built byte-for-byte
here and compared with what encodeHeader produces under Node, and decodeHeader must accept them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
HEADER_MJS = REPO / "pyodide_opfs" / "js" / "header.mjs"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed (needed to run header.mjs)")


def imul32(a: int, b: int) -> int:
    return (a * b) & 0xFFFFFFFF


def digest_v2(corpus: bytes) -> tuple[int, int]:
    """The spec's digest v2 over bytes 0-515."""
    h1, h2 = 0xDEADBEEF, 0x41C6CE57
    for v in corpus[:516]:
        h1 = imul32(h1 ^ v, 2654435761)
        h2 = imul32(h2 ^ v, 104729)
    return h1, h2


def build_header(path: str, flags: int, sequence: int = 0) -> bytes:
    raw = path.encode("utf-8")
    assert len(raw) <= 511
    b = bytearray(528)
    b[: len(raw)] = raw  # NUL-padded to 512
    b[512:516] = flags.to_bytes(4, "big")
    h1, h2 = digest_v2(bytes(b)) if flags & 0x80 else (0, 0)
    b[516:520] = h1.to_bytes(4, "little")
    b[520:524] = h2.to_bytes(4, "little")
    b[524:528] = sequence.to_bytes(4, "little")
    return bytes(b)


NODE_SCRIPT = """
import * as H from %s;
let input = "";
for await (const chunk of process.stdin) input += chunk;
const out = [];
for (const c of JSON.parse(input)) {
  if (c.op === "encode") {
    try {
      out.push({ hex: Buffer.from(H.encodeHeader(c.path, c.flags, c.sequence)).toString("hex") });
    } catch (e) {
      out.push({ error: e.name });
    }
  } else if (c.op === "decode") {
    out.push(H.decodeHeader(new Uint8Array(Buffer.from(c.hex, "hex"))));
  } else if (c.op === "flags") {
    out.push({ flags: H.flagsForPath(c.path, c.dir) });
  }
}
console.log(JSON.stringify(out));
"""


def run_node(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert NODE is not None
    script = NODE_SCRIPT % json.dumps(HEADER_MJS.as_uri())
    proc = subprocess.run(
        [NODE, "--input-type=module", "-e", script],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    result: list[dict[str, Any]] = json.loads(proc.stdout)
    assert len(result) == len(cases)
    return result


MAIN_DB, JOURNAL, WAL, SUPER, DIGEST_V2, DIRECTORY = 0x100, 0x800, 0x80000, 0x4000, 0x80, 0x40000000

CASES: list[tuple[str, int, int]] = [
    ("/app.db", MAIN_DB | DIGEST_V2, 0),
    ("/app.db-journal", JOURNAL | DIGEST_V2, 1),
    ("/app.db-wal", WAL | DIGEST_V2, 2),
    ("/super", SUPER | DIGEST_V2, 3),
    ("/dir", MAIN_DB | DIGEST_V2 | DIRECTORY, 0xFFFFFFFF),
    ("/données/日本語/😀.db", MAIN_DB | DIGEST_V2, 12345),
    ("/" + "a" * 510, MAIN_DB | DIGEST_V2, 7),  # 511 bytes: the maximum
    ("/" + "é" * 255, MAIN_DB | DIGEST_V2, 8),  # 511 bytes, multi-byte
    ("/old.db", MAIN_DB, 0),  # no v2 flag: digest (0, 0)
    ("", 0, 0),  # free slot
    ("", 0, 42),  # free slot keeps its sequence
]

# Independent golden vector: "/app.db", flags 0x180, sequence 0 -> bytes 512-527.
GOLDEN_APP_DB_TAIL = "0000018018db5fe3f8ee454500000000"


def test_python_digest_golden() -> None:
    h = build_header("/app.db", 0x180)
    assert h[512:528].hex() == GOLDEN_APP_DB_TAIL
    assert digest_v2(h) == (0xE35FDB18, 0x4545EEF8)


def test_free_slot_digest_is_zero() -> None:
    assert build_header("", 0) == bytes(528)


def test_encode_matches_spec_bytes() -> None:
    results = run_node([{"op": "encode", "path": p, "flags": f, "sequence": s} for p, f, s in CASES])
    for (path, flags, seq), got in zip(CASES, results):
        assert got.get("hex") == build_header(path, flags, seq).hex(), (path[:40], hex(flags), seq)


def test_golden_vector_from_node() -> None:
    (got,) = run_node([{"op": "encode", "path": "/app.db", "flags": 0x180, "sequence": 0}])
    assert got["hex"][512 * 2 :] == GOLDEN_APP_DB_TAIL
    assert bytes.fromhex(got["hex"][:14]) == b"/app.db"


def test_decode_accepts_python_built_headers() -> None:
    cases = [c for c in CASES if c[0]]
    results = run_node([{"op": "decode", "hex": build_header(p, f, s).hex()} for p, f, s in cases])
    for (path, flags, seq), got in zip(cases, results):
        assert got == {"state": "used", "path": path, "flags": flags, "sequence": seq, "reason": ""}


def test_decode_states_of_python_built_headers() -> None:
    good = build_header("/x.db", 0x180, 5)
    flipped_path = bytearray(good)
    flipped_path[2] ^= 0x01
    flipped_digest = bytearray(good)
    flipped_digest[521] ^= 0x80
    bad_utf8 = bytearray(528)
    bad_utf8[:3] = b"/\xff\xfe"
    bad_utf8[512:516] = (0x180).to_bytes(4, "big")
    h1, h2 = digest_v2(bytes(bad_utf8))
    bad_utf8[516:520] = h1.to_bytes(4, "little")
    bad_utf8[520:524] = h2.to_bytes(4, "little")
    cases = {
        "free": (build_header("", 0, 9), "free", ""),
        "free-v2": (build_header("", 0x180), "free", ""),
        "flipped path byte": (bytes(flipped_path), "bad", "digest mismatch"),
        "flipped digest byte": (bytes(flipped_digest), "bad", "digest mismatch"),
        "invalid utf-8": (bytes(bad_utf8), "bad", "path is not UTF-8"),
        "no persistent type": (build_header("/x.db", DIGEST_V2), "bad", "flags without a persistent file type"),
        "deleteonclose": (build_header("/x.db", 0x180 | 0x8), "bad", "flags without a persistent file type"),
        "dir without type": (build_header("/d", DIGEST_V2 | DIRECTORY), "bad", "flags without a persistent file type"),
    }
    results = run_node([{"op": "decode", "hex": h.hex()} for h, _, _ in cases.values()])
    for (name, (_, state, reason)), got in zip(cases.items(), results):
        assert (got["state"], got["reason"]) == (state, reason), name


def test_encode_rejects_paths_over_511_bytes() -> None:
    paths = ["/" + "a" * 511, "/" + "a" * 509 + "é", "/" + "a" * 510 + "é", "/" + "€" * 200]
    results = run_node([{"op": "encode", "path": p, "flags": 0x180, "sequence": 0} for p in paths])
    for p, got in zip(paths, results):
        assert got == {"error": "RangeError"}, len(p.encode())


def test_flags_for_path() -> None:
    cases = {
        ("/app.db", False): MAIN_DB | DIGEST_V2,
        ("/notes.txt", False): MAIN_DB | DIGEST_V2,
        ("/app.db-journal", False): JOURNAL | DIGEST_V2,
        ("/app.db-wal", False): WAL | DIGEST_V2,
        ("/dir", True): MAIN_DB | DIGEST_V2 | DIRECTORY,
    }
    results = run_node([{"op": "flags", "path": p, "dir": d} for p, d in cases])
    assert [r["flags"] for r in results] == list(cases.values())
