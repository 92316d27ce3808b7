"""Quota: the origin gets a few MiB more than it uses (DevTools protocol
``Storage.overrideQuotaForOrigin``), then files and a database grow past it (issue 6).

Writes beyond the quota raise ``OSError(ENOSPC)`` and never return a short count (OPFS reports a
full quota as a short write or a QuotaExceededError; code that ignores the count corrupts data);
the file keeps exactly the bytes that were accepted (the pool) or a prefix of them with ENOSPC
reported again at close (the proxy's write-behind, like a writeback error on Linux). SQLite reports "database or disk is full",
rolls the transaction back and passes ``integrity_check``. Deleting files gives the space back
for new writes to *other* files, and everything is still there after a remount.
"""

from __future__ import annotations

from typing import Any

import pytest
from backends import mount_code, selected
from harness import BrowserSession

MIB = 1 << 20
HEADROOM = 24 * MIB
MOUNT = {"capacity": 12}

BASELINE = """
import asyncio, errno, hashlib, os, sqlite3, pyodide_opfs
with open("/data/keep.txt", "w") as f:
    f.write("written before the quota was lowered\\n" * 100)
con = pyodide_opfs.connect("/data/q.db")
con.execute("create table t(id integer primary key, data blob)")
con.executemany("insert into t values (?, randomblob(1000))", [(i,) for i in range(50)])
con.commit()
con.close()
None
"""

FILL = """
out = {}
chunk = bytes(range(256)) * 256  # 64 KiB
fd = os.open("/data/big.bin", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
written, shorts = 0, []
try:
    while written < 256 * 2**20:
        n = os.write(fd, chunk)
        if n != len(chunk):
            shorts.append(n)
        written += n
    out["big"] = "no error"
except OSError as e:
    out["big"] = errno.errorcode.get(e.errno, e.errno)
out["big_written"], out["shorts"] = written, shorts
try:
    os.close(fd)  # a write-behind backend may report the failure here (again)
    out["big_close"] = "ok"
except OSError as e:
    out["big_close"] = errno.errorcode.get(e.errno, e.errno)
out["big_size"] = os.stat("/data/big.bin").st_size
with open("/data/big.bin", "rb") as f:  # what is kept is exactly what was written, a prefix
    out["big_intact"] = f.read() == (chunk * (written // len(chunk)))[:out["big_size"]]

# Buffered Python I/O: the error must surface (at write or close), not vanish in a buffer.
try:
    with open("/data/big2.bin", "wb") as f:
        f.write(b"y" * (32 * 2**20))  # more than the whole headroom
    out["buffered"] = "no error"
except OSError as e:
    out["buffered"] = errno.errorcode.get(e.errno, e.errno)

con = pyodide_opfs.connect("/data/q.db")
commits = 0
try:
    while commits < 2000:
        con.execute("insert into t values (?, randomblob(250000))", (1000 + commits,))
        con.commit()
        commits += 1
    out["sql"] = "no error"
except sqlite3.OperationalError as e:
    out["sql"] = str(e)
    con.rollback()
out["sql_commits"] = commits
out["rows"] = con.execute("select count(*) from t").fetchone()[0]
out["integrity"] = con.execute("pragma integrity_check").fetchone()[0]
out
"""

FREE = """
# Delete the big files; the database can grow again.
for p in ("/data/big.bin", "/data/big2.bin"):
    if os.path.exists(p):
        os.unlink(p)
await asyncio.sleep(0.5)  # the pool may give freed space back asynchronously
try:
    for k in range(10):
        con.execute("insert into t values (?, randomblob(100000))", (5000 + k,))
        con.commit()
    out["after_delete"] = "ok"
except sqlite3.OperationalError as e:
    out["after_delete"] = str(e)
out["rows_after"] = con.execute("select count(*) from t").fetchone()[0]
out["integrity_after"] = con.execute("pragma integrity_check").fetchone()[0]
con.close()
try:
    with open("/data/new.txt", "wb") as f:
        f.write(b"z" * 2**20)
    out["new_file"] = "ok"
except OSError as e:
    out["new_file"] = errno.errorcode.get(e.errno, e.errno)
out["listing"] = sorted(os.listdir("/data"))
out
"""

REMOUNT = """
await pool.unmount()
{mount}
con = pyodide_opfs.connect("/data/q.db")
res = [con.execute("select count(*) from t").fetchone()[0], con.execute("pragma integrity_check").fetchone()[0],
       open("/data/keep.txt").read() == "written before the quota was lowered\\n" * 100,
       os.path.getsize("/data/new.txt"), list(getattr(pool, "quarantined", []))]
con.close()
await pool.unmount()
res
"""


@pytest.mark.parametrize("backend", selected())
def test_writes_past_the_quota_fail_cleanly(backend: str, browser_session: BrowserSession, server: Any) -> None:
    if backend == "memfs":
        pytest.skip("memfs: no quota")
    s = browser_session
    s.run(mount_code(backend, **MOUNT) + BASELINE, keep=True)
    assert s.context is not None and s.page is not None
    origin = server.url
    cdp = s.context.new_cdp_session(s.page)
    usage = cdp.send("Storage.getUsageAndQuota", {"origin": origin})["usage"]
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": int(usage + HEADROOM)})
    try:
        out = s.run(FILL, keep=True, timeout=300)
        usage_full = cdp.send("Storage.getUsageAndQuota", {"origin": origin})["usage"]
        out = s.run(FREE, keep=True, timeout=300)
        usage_freed = cdp.send("Storage.getUsageAndQuota", {"origin": origin})["usage"]
    finally:
        cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin})  # back to the real quota
    assert out["big"] == "ENOSPC"
    assert out["shorts"] == [], "a short write count reached Python"
    assert 0 < out["big_written"] <= HEADROOM
    assert out["big_intact"]
    if backend == "sahpool":  # writes go straight to the handle: accepted means stored
        assert out["big_close"] == "ok" and out["big_size"] == out["big_written"], out
    else:  # a write-behind backend may have accepted bytes it then failed to store: it says so
        assert out["big_size"] == out["big_written"] or out["big_close"] == "ENOSPC", out
    assert out["buffered"] == "ENOSPC"
    assert out["sql"] == "database or disk is full"
    assert out["rows"] == 50 + out["sql_commits"]  # the failed transaction left nothing
    assert out["integrity"] == "ok"
    assert usage_freed < usage_full - 4 * MIB, (usage_full, usage_freed)  # the browser counts it as free
    assert out["after_delete"] == "ok", f"deleting files did not free space for other files: {out}"
    assert out["new_file"] == "ok", out
    assert out["rows_after"] == out["rows"] + 10
    assert out["integrity_after"] == "ok"
    assert "big.bin" not in out["listing"] and "new.txt" in out["listing"]

    rows, ok, keep_ok, new_size, quarantined = s.run(REMOUNT.format(mount=mount_code(backend, **MOUNT)), keep=True)
    assert (rows, ok, keep_ok, new_size, quarantined) == (out["rows_after"], "ok", True, 1 << 20, [])
