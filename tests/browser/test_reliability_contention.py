"""Contention: two pages (tabs) of one origin and profile want the same storage (issue 6).

- The second mount fails with PoolBusyError within its ``busy_timeout`` (never hangs), and
  nothing on disk changes, not even with ``clear_on_init=True``.
- ``pause()`` / ``unpause()`` hand the pool from one page to the other and back, with the data.
- A page reloaded while its old worker is busy committing mounts again by itself.

The tests of this module run in order on one profile per backend (two pages, booted once).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from backends import mount_code, selected
from harness import BrowserSession
from reliability_helpers import OPFS_SNAPSHOT, TREE, Acks, ExtraPage, finish_run, start_run

MOUNT = {"capacity": 12}


@pytest.fixture(scope="module", params=selected())
def tabs(request: pytest.FixtureRequest, browser_type: Any, server: Any, wheel_url: str,
         tmp_path_factory: pytest.TempPathFactory, _browser_setup_ok: None) -> Iterator[dict[str, Any]]:
    backend = str(request.param)
    if backend != "sahpool":
        pytest.skip(f"{backend}: PoolBusyError and pause()/unpause() are SAH-pool behaviour "
                    "(the proxy backend waits per operation, then EBUSY)")
    a = BrowserSession(browser_type, server.url, wheel_url)
    a.open(tmp_path_factory.mktemp(f"contention-{backend}"))
    b = ExtraPage(a)
    for s in (a, b):
        s.run(OPFS_SNAPSHOT + TREE + "import os, errno, time, pyodide_opfs\nNone", keep=True)
    yield {"backend": backend, "a": a, "b": b}
    b.close()
    a.close()


SETUP_A = mount_code("sahpool", **MOUNT) + """
os.makedirs("/data/docs/deep", exist_ok=True)
for i in range(4):
    with open(f"/data/docs/deep/{i}.txt", "w") as f:
        f.write(f"file {i} " * (i * 500))
con = pyodide_opfs.connect("/data/app.db")
con.execute("create table t(x)")
con.executemany("insert into t values (?)", [(i,) for i in range(100)])
con.commit()
con.close()
None
"""

TRY_MOUNT = """
started = time.monotonic()
try:
    other = await pyodide_opfs.mount_sahpool("/data", capacity=12, busy_timeout={timeout!r}, clear_on_init={clear!r})
    outcome = ["mounted", None]
    await other.unmount()
except Exception as e:
    outcome = [type(e).__name__, str(e)]
elapsed = time.monotonic() - started
[outcome, elapsed, os.path.exists("/data") and os.listdir("/data")]
"""


def test_second_page_gets_pool_busy_within_the_bound(tabs: dict[str, Any]) -> None:
    a, b = tabs["a"], tabs["b"]
    a.run(SETUP_A, keep=True)
    before = a.run("[await opfs_snapshot(), tree()]", keep=True)
    assert len(before[0]["files"]) >= 12 and before[1]["app.db"]

    for timeout, clear in [(0.0, False), (1.0, False), (1.5, True)]:
        (kind, message), elapsed, listing = b.run(TRY_MOUNT.format(timeout=timeout, clear=clear), keep=True)
        assert kind == "PoolBusyError", message
        assert "in use by another tab or worker" in message
        assert timeout <= elapsed < timeout + 2.0, (timeout, elapsed)  # bounded: never hangs
        assert not listing, "a failed mount left something mounted at /data"

    # Nothing changed on disk (raw OPFS bytes), and the holder still works.
    after = a.run("[await opfs_snapshot(), tree()]", keep=True)
    assert after == before
    a.run("open('/data/still-mine.txt', 'w').write('yes'); None", keep=True)


def test_pause_hands_the_pool_over_and_back(tabs: dict[str, Any]) -> None:
    a, b = tabs["a"], tabs["b"]
    a.run("pool.pause(); None", keep=True)
    assert a.run("pool.is_paused", keep=True) is True
    # While paused, the mount answers EBUSY (nothing falls through to memory).
    busy = a.run("""
out = []
for op in (lambda: os.listdir("/data"), lambda: open("/data/x.txt", "w"), lambda: os.stat("/data/app.db")):
    try:
        op()
        out.append("no error")
    except OSError as e:
        out.append(errno.errorcode.get(e.errno))
out
""", keep=True)
    assert busy == ["EBUSY", "EBUSY", "EBUSY"]

    seen_by_b = b.run(mount_code("sahpool", **MOUNT, busy_timeout=5.0) + """
view = tree()
open("/data/from-b.txt", "w").write("written by page B")
con = pyodide_opfs.connect("/data/app.db")
con.execute("insert into t values (1000)")
con.commit()
con.close()
pool.pause()
view
""", keep=True)
    assert seen_by_b["still-mine.txt"] and seen_by_b["app.db"] and "docs/deep/3.txt" in seen_by_b

    seen_by_a = a.run("""
await pool.unpause()
con = pyodide_opfs.connect("/data/app.db")
rows = con.execute("select count(*), max(x) from t").fetchone()
ok = con.execute("pragma integrity_check").fetchone()[0]
con.close()
[open("/data/from-b.txt").read(), list(rows), ok, pool.is_paused]
""", keep=True)
    assert seen_by_a == ["written by page B", [101, 1000], "ok", False]

    # ... and over once more: B takes it back from its own paused state.
    a.run("open('/data/from-a.txt', 'w').write('again A'); pool.pause(); None", keep=True)
    assert b.run("await pool.unpause(); open('/data/from-a.txt').read()", keep=True) == "again A"
    b.run("await pool.unmount(); None", keep=True)
    a.run("await pool.unpause(); None", keep=True)


RELOAD_WORKLOAD = mount_code("sahpool", **MOUNT) + """
import os, pyodide_opfs
con = pyodide_opfs.connect("/data/reload.db")
con.execute("create table if not exists r(id integer primary key)")
con.commit()
i = con.execute("select coalesce(max(id), -1) + 1 from r").fetchone()[0]
while True:
    con.execute("insert into r values (?)", (i,))
    con.commit()
    print(f"ACK reload {i}")
    i += 1
"""

RELOAD_CHECK = """
import js, os, time, pyodide_opfs
started = time.monotonic()
pool = await pyodide_opfs.mount_sahpool("/data", capacity=12)
waited = time.monotonic() - started
con = pyodide_opfs.connect("/data/reload.db")
ids = [r[0] for r in con.execute("select id from r order by id")]
ok = con.execute("pragma integrity_check").fetchone()[0]
con.close()
app = pyodide_opfs.connect("/data/app.db")
app_rows = app.execute("select count(*) from t").fetchone()[0]
app.close()
quarantined = list(getattr(pool, "quarantined", []))
await pool.unmount()
[ids, ok, waited, app_rows, quarantined]
"""


def test_reload_while_the_old_worker_holds_handles(tabs: dict[str, Any]) -> None:
    """Page A's worker commits in a loop (holding every handle) when the page reloads: the new
    worker mounts with the default busy_timeout, no manual step, and finds every commit."""
    a: BrowserSession = tabs["a"]
    a.run("await pool.unmount(); None", keep=True)
    acked: set[int] = set()
    for _ in range(2):
        acks = Acks(a)
        start_run(a, RELOAD_WORKLOAD, timeout=120)
        acks.wait_for("reload", 20, timeout=60)
        a.reload()  # the busy worker goes away with the page
        acked |= set(acks.ids["reload"])
        acks.detach()
        ids, ok, waited, app_rows, quarantined = a.run(RELOAD_CHECK, timeout=60)
        assert quarantined == []
        assert ok == "ok"
        assert acked <= set(ids), sorted(acked - set(ids))[:10]
        assert ids == list(range(len(ids))), "a hole in the committed ids"
        assert app_rows == 101
        assert waited < 5.0


def test_page_b_mounts_after_page_a_closes(tabs: dict[str, Any]) -> None:
    """Page B already waiting (busy_timeout 10 s) while A holds the pool; A's page closes; B's
    mount goes through as soon as the handles are free."""
    a, b = tabs["a"], tabs["b"]
    a.run(mount_code("sahpool", **MOUNT) + "None", keep=True)
    start_run(b, """
import time, pyodide_opfs, js
t = time.monotonic()
p = await pyodide_opfs.mount_sahpool("/data", capacity=12, busy_timeout=10.0)
at = js.Date.now()
n = len(p.file_names())
await p.unmount()
[at, time.monotonic() - t, n]
""")
    a.page.wait_for_timeout(500)
    closed_at = a.page.evaluate("() => Date.now()")
    a.page.close()
    a.page = None
    reply = finish_run(b)
    assert reply["ok"], reply.get("error")
    at, waited, n = reply["value"]
    assert n >= 7
    assert waited < 10.0
    assert 0 <= at - closed_at < 5000  # got the pool only after the first page let it go


# ------------------------------------------------------------------------------ proxy backend


@pytest.fixture(scope="module")
def proxy_tabs(browser_type: Any, server: Any, wheel_url: str, tmp_path_factory: pytest.TempPathFactory,
               _browser_setup_ok: None) -> Iterator[dict[str, Any]]:
    if "proxy" not in selected():
        pytest.skip("the proxy backend is not selected")
    a = BrowserSession(browser_type, server.url, wheel_url)
    a.open(tmp_path_factory.mktemp("contention-proxy"))
    b = ExtraPage(a)
    for s in (a, b):
        s.run(OPFS_SNAPSHOT + TREE + "import os, errno, time, pyodide_opfs\nNone", keep=True)
    yield {"a": a, "b": b}
    b.close()
    a.close()


PROXY_TRY_OPEN = """
started = time.monotonic()
try:
    with open("/data/app.db", "rb") as f:
        f.read(10)
    outcome = "opened"
except OSError as e:
    outcome = errno.errorcode.get(e.errno, e.errno)
[outcome, time.monotonic() - started]
"""


def test_proxy_second_page_waits_then_ebusy_and_changes_nothing(proxy_tabs: dict[str, Any]) -> None:
    """The proxy mounts in both pages; a file the first page holds open makes the second page
    wait ``busy_timeout``, then fail with EBUSY; once the first closes it, the second gets it."""
    a, b = proxy_tabs["a"], proxy_tabs["b"]
    a.run(mount_code("proxy", root="shared") + """
con = pyodide_opfs.connect("/data/app.db")
con.execute("create table t(x)")
con.executemany("insert into t values (?)", [(i,) for i in range(100)])
con.commit()
open("/data/notes.txt", "w").write("notes")
None
""", keep=True)  # `con` stays open: its handle stays held
    before = a.run("await opfs_snapshot()", keep=True)
    b.run(mount_code("proxy", root="shared", busy_timeout=1.0) + "None", keep=True)
    outcome, elapsed = b.run(PROXY_TRY_OPEN, keep=True)
    assert outcome == "EBUSY"
    assert 1.0 <= elapsed < 3.5, elapsed  # bounded: never hangs
    assert b.run("open('/data/notes.txt').read()", keep=True) == "notes"  # other files are free
    assert a.run("await opfs_snapshot()", keep=True) == before
    a.run("con.close(); None", keep=True)
    outcome, elapsed = b.run(PROXY_TRY_OPEN, keep=True)
    assert outcome == "opened" and elapsed < 5.0  # well under busy_timeout's retries
    b.run("await pool.unmount(); None", keep=True)


def test_proxy_reload_while_the_old_worker_commits(proxy_tabs: dict[str, Any]) -> None:
    a: BrowserSession = proxy_tabs["a"]
    a.run("await pool.unmount(); None", keep=True)
    workload = RELOAD_WORKLOAD.replace(mount_code("sahpool", **MOUNT), mount_code("proxy", root="shared"))
    check = RELOAD_CHECK.replace('await pyodide_opfs.mount_sahpool("/data", capacity=12)',
                                 'await pyodide_opfs.mount_proxy("/data", root="shared")')
    acks = Acks(a)
    start_run(a, workload, timeout=120)
    acks.wait_for("reload", 20, timeout=60)
    a.reload()
    acked = set(acks.ids["reload"])
    acks.detach()
    ids, ok, waited, app_rows, _ = a.run(check, timeout=60)
    assert ok == "ok" and app_rows == 100
    assert acked <= set(ids) and ids == list(range(len(ids)))
