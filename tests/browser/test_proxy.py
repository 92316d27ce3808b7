"""The proxy backend (issue 5), beyond the suites it shares with the SAH pool (lifecycle, POSIX,
durability and reliability run on it through backends.py):

- files and directories are real OPFS entries with their real names: plain OPFS JS code sees
  what Python writes, and Python sees what JS writes;
- two pages of one profile take turns on one database (a handle is held only while open);
- a proxy worker that dies or hangs is an EIO within the configured bound, never a hang, and a
  new mount works afterwards;
- a page without cross-origin isolation gets a clear error naming both headers; a proxy module
  that does not load is an error at mount.

One browser (one on-disk profile) for the module: page A, a second page B in the same context,
and a page served without the isolation headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from backends import selected
from harness import BrowserSession
from reliability_helpers import ExtraPage

pytestmark = pytest.mark.skipif("proxy" not in selected(), reason="the proxy backend is not selected")

PRELUDE = r'''
import asyncio, errno, js, os, time, pyodide_opfs
async def opfs_tree(path):
    """{relative path: size or "dir"} of an OPFS directory, read with plain OPFS JS calls."""
    handle = await js.navigator.storage.getDirectory()
    for part in path.split("/"):
        handle = await handle.getDirectoryHandle(part)
    out = {}
    async def walk(h, prefix):
        it = h.entries()
        while True:
            step = await it.next()
            if step.done:
                return
            name, child = step.value
            if child.kind == "directory":
                out[prefix + name] = "dir"
                await walk(child, prefix + name + "/")
            else:
                out[prefix + name] = int((await child.getFile()).size)
    await walk(handle, "")
    return out
def errname(e):
    return errno.errorcode.get(e.errno, e.errno)
'''


@pytest.fixture(scope="module")
def tabs(browser_type: Any, server: Any, wheel_url: str, tmp_path_factory: pytest.TempPathFactory,
         _browser_setup_ok: None) -> Iterator[dict[str, BrowserSession]]:
    a = BrowserSession(browser_type, server.url, wheel_url)
    a.open(tmp_path_factory.mktemp("proxy"))
    a.run(PRELUDE + "None", keep=True)
    pages: dict[str, BrowserSession] = {"a": a}
    yield pages
    for name in ("b",):
        if name in pages:
            pages[name].close()
    a.close()


def page_b(tabs: dict[str, BrowserSession]) -> BrowserSession:
    """The second page (opened on first use)."""
    if "b" not in tabs:
        tabs["b"] = ExtraPage(tabs["a"])
        tabs["b"].run(PRELUDE + "None", keep=True)
    return tabs["b"]


def test_real_names_are_visible_to_plain_opfs_code(tabs: dict[str, BrowserSession]) -> None:
    out = tabs["a"].run(r'''
pool = await pyodide_opfs.mount_proxy("/names", root="app/data")
os.makedirs("/names/docs/2026")
with open("/names/docs/2026/report ✓.txt", "w", encoding="utf-8") as f:
    f.write("x" * 1234)
con = pyodide_opfs.connect("/names/app.db")
con.execute("create table t(x)"); con.execute("insert into t values (1)"); con.commit(); con.close()
res = {"written": await opfs_tree("app/data")}
# What plain OPFS code writes, Python sees (no pool, no index: the directory is the truth).
d = await (await (await js.navigator.storage.getDirectory()).getDirectoryHandle("app")).getDirectoryHandle("data")
w = await (await d.getFileHandle("from-js.txt", create=True)).createWritable()
await w.write("written by JS"); await w.close()
res["python_sees"] = [sorted(os.listdir("/names")), open("/names/from-js.txt").read()]
os.rename("/names/docs", "/names/papers")  # a directory rename: create + move children
f = open("/names/papers/2026/report ✓.txt")  # unlinked while open: hidden until closed
os.unlink("/names/papers/2026/report ✓.txt")
res["after_rename_and_unlink"] = [await opfs_tree("app/data"), os.listdir("/names/papers/2026"), len(f.read())]
f.close()
await asyncio.sleep(0.1)
res["after_close"] = await opfs_tree("app/data")
await pool.unmount()
res
''', keep=True)
    db_size = out["written"]["app.db"]
    assert db_size >= 4096
    assert out["written"] == {"docs": "dir", "docs/2026": "dir", "docs/2026/report ✓.txt": 1234, "app.db": db_size}
    assert out["python_sees"] == [["app.db", "docs", "from-js.txt"], "written by JS"]
    tree, listed, read = out["after_rename_and_unlink"]
    hidden = [k for k in tree if k.startswith("papers/2026/.pyodide-opfs-unlinked-")]
    assert len(hidden) == 1 and listed == [] and read == 1234  # only OPFS code sees it, for now
    assert out["after_close"] == {"papers": "dir", "papers/2026": "dir", "app.db": db_size, "from-js.txt": 13}


TURN = r'''
con = pyodide_opfs.connect("/shared/turns.db")
con.execute("create table if not exists t(page, n)")
seen = con.execute("select count(*) from t").fetchone()[0]
for n in range(5):
    con.execute("insert into t values (?, ?)", ({page!r}, n)); con.commit()
con.close()
seen
'''


def test_two_pages_take_turns_on_one_database(tabs: dict[str, BrowserSession]) -> None:
    a, b = tabs["a"], page_b(tabs)
    for s in (a, b):
        s.run('pool = await pyodide_opfs.mount_proxy("/shared", root="turns"); None', keep=True)
    seen = []
    for turn in range(3):
        seen.append(a.run(TURN.format(page="a"), keep=True))
        seen.append(b.run(TURN.format(page="b"), keep=True))  # waits for A's handle, if need be
    assert seen == [0, 5, 10, 15, 20, 25]
    # While A keeps its connection open, B waits busy_timeout and gets an error, not a hang.
    a.run('held = pyodide_opfs.connect("/shared/turns.db"); held.execute("select 1").fetchone(); None', keep=True)
    outcome = b.run(r'''
await pool.unmount()
pool = await pyodide_opfs.mount_proxy("/shared", root="turns", busy_timeout=0.5)
t = time.monotonic()
try:
    pyodide_opfs.connect("/shared/turns.db").execute("select count(*) from t").fetchone()
    outcome = "opened"
except Exception as e:
    outcome = type(e).__name__
[outcome, time.monotonic() - t, (pool.last_error or {}).get("errno")]
''', keep=True)
    assert outcome[0] == "OperationalError" and 0.5 <= outcome[1] < 3.0 and outcome[2] == "EBUSY", outcome
    a.run("held.close(); None", keep=True)
    rows = b.run('c = pyodide_opfs.connect("/shared/turns.db"); r = c.execute("select page, count(*) from t group by page").fetchall(); c.close(); r', keep=True)
    assert rows == [["a", 15], ["b", 15]]
    for s in (a, b):
        s.run("await pool.unmount(); None", keep=True)


FAILURE = r'''
pool = await pyodide_opfs.mount_proxy("/dying", root="dying", timeout=1.0, busy_timeout=0.5)
with open("/dying/kept.txt", "w") as f:
    f.write("kept")
held = open("/dying/held.txt", "w")  # its handle is held by the proxy that will die
held.write("held"); held.flush()
pool._js.{how}()
await asyncio.sleep(0.05)
res = {{}}
t = time.monotonic()
try:
    open("/dying/kept.txt").read()
    res["first"] = "no error"
except OSError as e:
    res["first"] = errname(e)
res["first_s"] = time.monotonic() - t
res["hint"] = (pool.last_error or {{}}).get("message", "")
t = time.monotonic()
try:
    os.listdir("/dying")
except OSError as e:
    res["next"] = errname(e)
res["next_s"] = time.monotonic() - t
try:
    held.close()
except OSError as e:
    res["close"] = errname(e)
t = time.monotonic()
await pool.unmount()
res["unmount_s"] = time.monotonic() - t
# A new proxy (the old worker is terminated, its handles are free again) sees the data.
pool = await pyodide_opfs.mount_proxy("/dying", root="dying", timeout=2.0, busy_timeout=1.0)
res["after"] = [open("/dying/kept.txt").read(), open("/dying/held.txt").read()]
await pool.unmount()
res
'''


@pytest.mark.parametrize("how", ["debugTerminate", "debugHang"])
def test_dead_or_hung_proxy_is_eio_within_the_bound(tabs: dict[str, BrowserSession], how: str) -> None:
    out = tabs["a"].run(FAILURE.format(how=how), keep=True, timeout=60)
    assert out["first"] == "EIO" and 1.0 <= out["first_s"] < 6.0, out
    assert "did not answer within 1.0 s" in out["hint"], out["hint"]
    assert out["next"] == "EIO" and out["next_s"] < 0.9  # the mount stays broken: no second 1 s wait
    assert out["close"] == "EIO"
    assert out["unmount_s"] < 2.0
    assert out["after"] == ["kept", "held"]


def test_missing_cross_origin_isolation_is_a_clear_error(tabs: dict[str, BrowserSession]) -> None:
    """A page served without COOP/COEP (the headers are stripped on the way): no
    SharedArrayBuffer, so mount_proxy refuses with both header names; the SAH pool still works."""
    a = tabs["a"]
    assert a.context is not None

    def strip_isolation(route: Any) -> None:
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("cross-origin-opener-policy", "cross-origin-embedder-policy")}
        route.fulfill(response=response, headers=headers)

    def pattern(url: str) -> bool:
        return "/harness.html" in url

    a.context.route(pattern, strip_isolation)
    try:
        plain = ExtraPage(a)
    finally:
        a.context.unroute(pattern, strip_isolation)
    try:
        out = plain.run(r'''
import js, pyodide_opfs
res = {"isolated": bool(js.crossOriginIsolated), "sab": hasattr(js, "SharedArrayBuffer")}
try:
    await pyodide_opfs.mount_proxy("/p")
    res["proxy"] = "mounted"
except pyodide_opfs.UnsupportedEnvironmentError as e:
    res["proxy"] = str(e)
pool = await pyodide_opfs.mount_sahpool("/pool", directory="plain-page-pool")
open("/pool/x", "w").write("ok")
res["sahpool"] = open("/pool/x").read()
await pool.unmount()
res
''')
    finally:
        plain.close()
    assert out["isolated"] is False and out["sab"] is False
    assert "Cross-Origin-Opener-Policy: same-origin" in out["proxy"]
    assert "Cross-Origin-Embedder-Policy: require-corp" in out["proxy"]
    assert out["sahpool"] == "ok"


def test_proxy_uri_that_does_not_load_fails_at_mount(tabs: dict[str, BrowserSession]) -> None:
    out = tabs["a"].run(r'''
t = time.monotonic()
try:
    await pyodide_opfs.mount_proxy("/bad", proxy_uri="/no-such-proxy.mjs", timeout=5.0, busy_timeout=1.0)
    res = "mounted"
except pyodide_opfs.OpfsError as e:
    res = f"{type(e).__name__}: {e}"
# The default (the module shipped in the wheel) given explicitly works.
from pyodide_opfs.jsloader import module_url
pool = await pyodide_opfs.mount_proxy("/good", root="good", proxy_uri=module_url("proxy_worker.mjs"))
open("/good/x", "w").write("x")
await pool.unmount()
[res, time.monotonic() - t, os.path.isdir("/bad") and os.listdir("/bad")]
''', keep=True)
    assert out[0].startswith("OpfsError: ") and "/no-such-proxy.mjs" in out[0], out
    assert out[1] < 5.0
    assert out[2] in (False, [])
