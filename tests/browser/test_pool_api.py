"""Pool management and installer behaviour of the SAH pool (issue 4): capacity, export/import,
wipe, unlink, pause, storage helpers, option validation and mountpoint checks. Every error case
asserts the exception type and that nothing on disk changed."""

from __future__ import annotations

from typing import Any

import pytest
from harness import BrowserSession

PRELUDE = r'''
import os, hashlib, sqlite3, pyodide_opfs, js
from pyodide_opfs import errors
async def disk_state(directory=None):
    """Every pool file's OPFS name, size and sha256, read through OPFS itself (not our FS)."""
    directory = directory or DIR
    root = await js.navigator.storage.getDirectory()
    try:
        d = await (await root.getDirectoryHandle(directory)).getDirectoryHandle(".opaque")
    except Exception:
        return {}
    out = {}
    it = d.entries()
    while True:
        step = await it.next()
        if step.done:
            break
        name, handle = step.value
        data = (await (await handle.getFile()).arrayBuffer()).to_bytes()
        out[name] = [len(data), hashlib.sha256(data).hexdigest()]
    return out
async def mount(mountpoint="/data", **options):
    return await pyodide_opfs.mount_sahpool(mountpoint, **{"directory": DIR, **options})
def sqlite_bytes(rows):
    import tempfile
    path = tempfile.mktemp(suffix=".db")
    con = sqlite3.connect(path)
    con.execute("create table t(x)")
    con.executemany("insert into t values (?)", [(i,) for i in range(rows)])
    con.commit(); con.close()
    with open(path, "rb") as f:
        return f.read()
'''


@pytest.fixture(scope="module")
def session(module_sessions: Any) -> BrowserSession:
    s: BrowserSession = module_sessions("pool-api")
    s.run(PRELUDE, keep=True)
    return s


@pytest.fixture
def py(session: BrowserSession, request: pytest.FixtureRequest) -> BrowserSession:
    """The shared worker, with ``DIR`` set to a pool directory of this test's own."""
    session.run(f"DIR = {'pool-' + request.node.name.split('[')[0]!r}", keep=True)
    return session


def test_capacity_management(py: BrowserSession) -> None:
    out = py.run(r'''
pool = await mount(capacity=4, spare_slots=0)
res = {"start": [pool.capacity, pool.file_count, pool.free_count]}
res["add"] = await pool.add_capacity(3)
with open("/data/a", "w") as f: f.write("a")
res["reduce"] = [await pool.reduce_capacity(100), pool.capacity, pool.file_count]  # only free slots go
res["reserve"] = await pool.reserve_minimum_capacity(5)
res["reserve_noop"] = await pool.reserve_minimum_capacity(2)
res["files_on_disk"] = len(await disk_state())
res["names"] = pool.file_names()
try:
    await pool.add_capacity(-1)
except ValueError:
    res["negative"] = "ValueError"
await pool.unmount()
res
''', keep=True)
    assert out == {"start": [4, 0, 4], "add": 7, "reduce": [6, 1, 1], "reserve": 5, "reserve_noop": 5,
                   "files_on_disk": 5, "names": ["/data/a"], "negative": "ValueError"}


def test_spare_slots_refill_in_the_background(py: BrowserSession) -> None:
    out = py.run(r'''
import asyncio
pool = await mount(capacity=3, spare_slots=2)
for n in range(3):
    with open(f"/data/f{n}", "w") as f: f.write("x")
for _ in range(200):  # the refill runs when Python yields; give it up to 10 s on a busy machine
    await asyncio.sleep(0.05)
    if pool.free_count >= 2:
        break
res = [pool.file_count, pool.free_count >= 2, pool.capacity >= 5]
await pool.unmount()
res
''', keep=True)
    assert out == [3, True, True]


def test_export_and_import(py: BrowserSession) -> None:
    out = py.run(r'''
pool = await mount(capacity=8)
res = {}
data = sqlite_bytes(1000)
seen = []
async def chunks():
    for i in range(0, len(data), 4096):
        yield data[i:i + 4096]
res["imported"] = await pool.import_db("/data/imp.db", chunks(), progress=seen.append) == len(data)
res["progress"] = [len(seen) == (len(data) + 4095) // 4096, seen[-1] == len(data)]
con = sqlite3.connect("/data/imp.db")
res["rows"] = con.execute("select count(*) from t").fetchone()[0]
con.close()
res["export"] = pool.export_file("/data/imp.db") == data
res["relative"] = pool.export_file("imp.db") == data
res["chunks"] = b"".join([c async for c in pool.export_chunks("imp.db", chunk_size=10000)]) == data
before = await disk_state()
for bad, label in ((b"not a database" * 100, "garbage"), (data[:1000], "truncated"), (data[:-512], "short")):
    try:
        await pool.import_db("/data/imp.db", bad)
        res[label] = "no error"
    except errors.InvalidDatabaseError:
        res[label] = "InvalidDatabaseError"
res["disk_unchanged_after_bad_bytes"] = (await disk_state()) == before
async def truncated_stream():
    yield data[:8192]
try:
    await pool.import_db("/data/imp.db", truncated_stream())
    res["stream"] = "no error"
except errors.InvalidDatabaseError:
    res["stream"] = "InvalidDatabaseError"
res["file_unchanged_after_bad_stream"] = pool.export_file("imp.db") == data
res["names"] = pool.file_names()
try:
    pool.export_file("/elsewhere/x")
except ValueError:
    res["outside"] = "ValueError"
await pool.unmount()
res
''', keep=True)
    assert out == {
        "imported": True, "progress": [True, True], "rows": 1000, "export": True, "relative": True, "chunks": True,
        "garbage": "InvalidDatabaseError", "truncated": "InvalidDatabaseError", "short": "InvalidDatabaseError",
        "disk_unchanged_after_bad_bytes": True, "stream": "InvalidDatabaseError",
        "file_unchanged_after_bad_stream": True, "names": ["/data/imp.db"], "outside": "ValueError",
    }


def test_unlink_wipe_and_pause(py: BrowserSession) -> None:
    out = py.run(r'''
import errno
pool = await mount(capacity=8)
res = {}
os.makedirs("/data/d/e")
for n in ("a", "b", "d/c"):
    with open(f"/data/{n}", "w") as f: f.write(n)
pool.unlink("b")
res["after_unlink"] = pool.file_names()
f = open("/data/a")
res["open_files"] = pool.open_file_count
try:
    pool.pause()
except errors.OpfsError as e:
    res["pause_with_open_file"] = "OpfsError"
f.close()
pool.pause()
res["paused"] = pool.is_paused
try:
    open("/data/a").read()
    res["read_while_paused"] = "no error"
except OSError as e:
    res["read_while_paused"] = errno.errorcode[e.errno]
# Another context could use the pool now: plain OPFS sees and can open the files.
res["other_context_can_open"] = len(await disk_state()) == 8
await pool.unpause()
res["after_unpause"] = [pool.is_paused, open("/data/a").read(), pool.file_names()]
pool.wipe_files()
res["after_wipe"] = [pool.file_names(), os.listdir("/data"), pool.file_count, pool.capacity]
await pool.unmount()
await pool.unmount()  # idempotent
res["closed"] = pool.closed
try:
    pool.file_names()
except errors.PoolClosedError:
    res["after_unmount"] = "PoolClosedError"
res
''', keep=True)
    assert out == {
        "after_unlink": ["/data/a", "/data/d/c"], "open_files": 1, "pause_with_open_file": "OpfsError", "paused": True,
        "read_while_paused": "EBUSY", "other_context_can_open": True,
        "after_unpause": [False, "a", ["/data/a", "/data/d/c"]],
        "after_wipe": [[], [], 0, 8], "closed": True, "after_unmount": "PoolClosedError",
    }


def test_capacity_changes_wait_for_unpause(py: BrowserSession) -> None:
    """A refill or add_capacity racing a pause must not take handles the other context needs."""
    out = py.run(r'''
import asyncio
pool = await mount(capacity=2, spare_slots=2)
with open("/data/f", "w") as f: f.write("x")   # schedules a refill
await asyncio.sleep(0)
pool.pause()
await asyncio.sleep(0.3)
res = {"free_while_paused": pool.is_paused}
try:
    await pool.add_capacity(1)
    res["add"] = "no error"
except errors.OpfsError as e:
    res["add"] = "OpfsError"
# The other context can take every pool file while we are paused.
names = list((await disk_state()).keys())
root = await (await (await js.navigator.storage.getDirectory()).getDirectoryHandle(DIR)).getDirectoryHandle(".opaque")
handles = [await (await root.getFileHandle(n)).createSyncAccessHandle() for n in names]
for h in handles: h.close()
res["other_context_got_all"] = len(handles) == len(names)
await pool.unpause()
res["after"] = [pool.is_paused, pool.file_names()]
await pool.unmount()
res
''', keep=True)
    assert out == {"free_while_paused": True, "add": "OpfsError", "other_context_got_all": True,
                   "after": [False, ["/data/f"]]}


def test_storage_helpers(py: BrowserSession) -> None:
    out = py.run(r'''
pool = await mount()
e = await pool.estimate()
persisted = await pool.request_persistence()  # a worker can only report (persist() is Window-only)
await pool.unmount()
[e["quota"] > 0, e["usage"] >= 0, isinstance(persisted, bool)]
''', keep=True)
    assert out == [True, True, True]


BAD_OPTIONS = [
    ("{'capacty': 3}", "unknown option(s) 'capacty'; valid options:"),
    ("{'capacity': 0}", "'capacity' must be between 1 and 100000"),
    ("{'capacity': '6'}", "'capacity' must be an int"),
    ("{'capacity': True}", "'capacity' must be an int"),
    ("{'busy_timeout': -1}", "'busy_timeout' must be between"),
    ("{'busy_timeout': float('nan')}", "'busy_timeout' must be between"),
    ("{'clear_on_init': 1}", "'clear_on_init' must be a bool"),
    ("{'directory': '../x'}", "option 'directory' must be a relative OPFS path"),
    ("{'directory': ''}", "option 'directory' must be a relative OPFS path"),
    ("{'directory': 5}", "option 'directory' must be a str"),
    ("{'spare_slots': -2}", "'spare_slots' must be between 0"),
    ("{'log_level': 'LOUD'}", "'log_level' names no logging level"),
]


def test_invalid_options_are_rejected_before_storage_is_touched(py: BrowserSession) -> None:
    out = py.run(f'''
res = []
before = await disk_state()
for text, expected in {BAD_OPTIONS!r}:
    try:
        await mount(**eval(text))
        res.append([text, "no error"])
    except errors.ConfigurationError as e:
        res.append([text, expected in str(e) or str(e)])
res.append(["disk unchanged", (await disk_state()) == before == {{}}])
res
''', keep=True)
    assert all(ok is True for _, ok in out), out


def test_mountpoint_checks(py: BrowserSession) -> None:
    out = py.run(r'''
res = {}
os.makedirs("/busy"); open("/busy/file", "w").close()
for label, mp in (("relative", "data"), ("root", "/"), ("not_empty", "/busy"), ("dots", "/a/../b")):
    try:
        await mount(mp)
        res[label] = "no error"
    except errors.MountError as e:
        res[label] = "MountError"
pool = await mount()
try:
    await mount()
    res["twice"] = "no error"
except errors.MountError:
    res["twice"] = "MountError"
await pool.unmount()
res["disk"] = len(await disk_state())
res
''', keep=True)
    assert out == {"relative": "MountError", "root": "MountError", "not_empty": "MountError",
                   "dots": "MountError", "twice": "MountError", "disk": 6}


def test_environment_checks_name_what_is_missing(py: BrowserSession) -> None:
    out = py.run(r'''
from pyodide_opfs.environment import check_worker_environment
proto = js.FileSystemFileHandle.prototype
saved = proto.createSyncAccessHandle
js.Reflect.deleteProperty(proto, "createSyncAccessHandle")
try:
    await mount()
    res = "no error"
except errors.UnsupportedEnvironmentError as e:
    res = str(e)
finally:
    js.Reflect.set(proto, "createSyncAccessHandle", saved)
[res, (await disk_state()) == {}]
''', keep=True)
    assert "createSyncAccessHandle" in out[0] and out[1] is True


def test_clear_on_init_wipes_only_when_asked(py: BrowserSession) -> None:
    out = py.run(r'''
pool = await mount()
with open("/data/keep", "w") as f: f.write("k")
await pool.unmount()
pool = await mount()
kept = pool.file_names()
await pool.unmount()
pool = await mount(clear_on_init=True)
cleared = pool.file_names()
await pool.unmount()
[kept, cleared]
''', keep=True)
    assert out == [["/data/keep"], []]
