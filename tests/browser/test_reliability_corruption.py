"""Corruption of pool files, made behind the pool's back through OPFS itself (issue 6): a flipped
header byte, pool files truncated inside the header and inside the header sector, and stray files
in ``.opaque/``. Each such file is quarantined and reported (``pool.quarantined``), never
cleared, written or handed out as a free slot; every other file is intact; and
``forget_quarantined`` removes exactly the one it names."""

from __future__ import annotations

from typing import Any

import pytest
from backends import mount_code, selected
from harness import BrowserSession, PythonError
from reliability_helpers import OPFS_SNAPSHOT, TREE

DIRECTORY = "corruption-pool"
MOUNT = {"capacity": 10, "directory": DIRECTORY}

TOOLS = OPFS_SNAPSHOT + TREE + f"""
import js, os, errno, pyodide_opfs
async def opaque():
    root = await js.navigator.storage.getDirectory()
    return await (await root.getDirectoryHandle({DIRECTORY!r})).getDirectoryHandle(".opaque")
async def with_handle(name, fn):
    fh = await (await opaque()).getFileHandle(name, create=True)
    sah = await fh.createSyncAccessHandle()
    try:
        return fn(sah)
    finally:
        sah.flush()
        sah.close()
def flip(offset):
    def fn(sah):
        b = js.Uint8Array.new(1)
        sah.read(b, at=offset)
        b[0] = b[0] ^ 0x5A
        sah.write(b, at=offset)
    return fn
def truncate(size):
    return lambda sah: sah.truncate(size)
def write(data):
    return lambda sah: sah.write(js.Uint8Array.new(list(data)), at=0)
async def raw():
    return (await opfs_snapshot({DIRECTORY!r}))["files"]
async def remount():
    pool = await pyodide_opfs.mount_sahpool("/data", **{MOUNT!r})
    return pool
"""

SETUP = mount_code("sahpool", **MOUNT) + """
os.makedirs("/data/dir/sub")
files = {"a.txt": b"alpha " * 1000, "b.bin": bytes(range(256)) * 40, "dir/c.txt": b"gamma",
         "dir/sub/d.txt": b"delta " * 3000, "keep.txt": b"keep me"}
for p, data in files.items():
    with open("/data/" + p, "wb") as f:
        f.write(data)
con = pyodide_opfs.connect("/data/app.db")
con.execute("create table t(x)")
con.executemany("insert into t values (?)", [(i,) for i in range(500)])
con.commit()
con.close()
names = {s["path"]: s["name"] for s in pool.io_stats() if s["path"]}
good_tree = tree()
await pool.unmount()
[names, good_tree]
"""


@pytest.fixture(params=selected())
def pool_session(request: pytest.FixtureRequest) -> BrowserSession:
    if request.param != "sahpool":
        pytest.skip(f"{request.param}: pool files and their headers exist only in the SAH pool")
    session: BrowserSession = request.getfixturevalue("browser_session")  # only now: a browser
    session.run(TOOLS + "None", keep=True)
    return session


def test_corrupt_truncated_and_stray_files_are_quarantined_not_cleared(pool_session: BrowserSession) -> None:
    s = pool_session
    names, good_tree = s.run(SETUP, keep=True)
    victims = {"flipped": names["/a.txt"], "short-sector": names["/b.bin"], "short-header": names["/dir/c.txt"]}
    # Damage through OPFS directly, while nobody has the pool mounted.
    s.run(f"""
await with_handle({victims['flipped']!r}, flip(3))            # a byte of the stored path
await with_handle({victims['short-sector']!r}, truncate(2000))  # header whole, data sector cut
await with_handle({victims['short-header']!r}, truncate(100))   # the header itself cut
await with_handle("stray-notes.txt", write(b"not a pool file, hands off\\n" * 40))
await (await opaque()).getDirectoryHandle("stray-dir", create=True)
None
""", keep=True)
    damaged = s.run("await raw()", keep=True)
    stray = ".opaque/stray-notes.txt"
    untouchable = {f".opaque/{n}" for n in victims.values()} | {stray}

    result = s.run("""
pool = await remount()
con = pyodide_opfs.connect("/data/app.db")
db = [con.execute("select count(*), sum(x) from t").fetchone(), con.execute("pragma integrity_check").fetchone()[0]]
con.close()
[pool.quarantined, tree(), db, pool.capacity, len([k for k in await raw() if k.count("/") == 1])]
""", keep=True)
    quarantined, seen, db, capacity, opaque_files = result
    by_name = {q["name"]: q for q in quarantined}
    assert set(by_name) == set(victims.values()) | {"stray-notes.txt"}, quarantined
    assert by_name[victims["flipped"]]["reason"] == "digest mismatch"
    assert by_name[victims["short-sector"]]["reason"].startswith("truncated pool file")
    assert by_name[victims["short-sector"]]["path"] == "/b.bin"  # reported with the path it held
    # A header cut at 100 bytes reads as zeros past the cut: flags 0, digest 0 -> rejected for
    # its flags rather than its digest. Either way: quarantined, with a reason.
    assert by_name[victims["short-header"]]["reason"] in ("digest mismatch", "flags without a persistent file type")
    assert by_name["stray-notes.txt"]["reason"] == "digest mismatch"

    # Every other file is intact; the damaged ones are simply not in the tree.
    lost = {"a.txt", "b.bin", "dir/c.txt"}
    assert seen == {k: v for k, v in good_tree.items() if k not in lost}
    assert db == [[500, sum(range(500))], "ok"]
    assert capacity == opaque_files  # every file in .opaque/ is in the pool, the stray one too

    # Work the pool hard (claims, frees, spare refills): quarantined files are never touched.
    s.run("""
await pool.add_capacity(8)
for i in range(12):
    with open(f"/data/new-{i}.txt", "w") as f:
        f.write("x" * i * 100)
    await __import__("asyncio").sleep(0.01)   # let spare-slot refills run
for i in range(0, 12, 2):
    os.unlink(f"/data/new-{i}.txt")
None
""", keep=True)
    now = s.run("await raw()", keep=True)
    assert {k: now[k] for k in untouchable} == {k: damaged[k] for k in untouchable}
    assert ".opaque/stray-dir/" not in now  # (directories are listed separately, and left alone)

    # Still quarantined after a remount (never silently cleared).
    again = s.run("await pool.unmount(); pool = await remount(); sorted(q['name'] for q in pool.quarantined)", keep=True)
    assert again == sorted(by_name)
    assert {k: v for k, v in s.run("await raw()", keep=True).items() if k in untouchable} == {
        k: damaged[k] for k in untouchable}

    # wipe_files() leaves quarantined files alone too.
    s.run("pool.wipe_files(); None", keep=True)
    assert {k: v for k, v in s.run("await raw()", keep=True).items() if k in untouchable} == {
        k: damaged[k] for k in untouchable}

    # forget_quarantined removes exactly the one named and restores the capacity.
    forgot = s.run(f"""
cap = pool.capacity
await pool.forget_quarantined({victims['flipped']!r})
[cap, pool.capacity, sorted(q["name"] for q in pool.quarantined), sorted(await raw())]
""", keep=True)
    cap_before, cap_after, left, files = forgot
    assert cap_after == cap_before
    assert victims["flipped"] not in left and len(left) == 3
    assert f".opaque/{victims['flipped']}" not in files
    assert all(k in files for k in untouchable - {f".opaque/{victims['flipped']}"})
    with pytest.raises(PythonError, match="KeyError"):
        s.run("await pool.forget_quarantined('no-such-file')", keep=True)
    with pytest.raises(PythonError, match="KeyError"):
        s.run(f"await pool.forget_quarantined({victims['flipped']!r})", keep=True)  # only once


def test_empty_stray_file_becomes_a_free_slot(pool_session: BrowserSession) -> None:
    """A zero-length file in .opaque/ holds nothing to lose: the pool adopts it as a free slot,
    exactly as it initialises the files it creates itself (and as sqlite-wasm does)."""
    s = pool_session
    s.run(mount_code("sahpool", **MOUNT) + "await pool.unmount()\nNone", keep=True)
    s.run('await with_handle("empty-stray", truncate(0)); None', keep=True)
    result = s.run("pool = await remount(); [pool.quarantined, pool.capacity, pool.free_count]", keep=True)
    assert result[0] == []
    assert result[1] == 11
    s.run("await pool.unmount(); None", keep=True)
