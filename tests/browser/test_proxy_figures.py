"""Figures quoted in docs/proxy.md (slow: not in the default run). Regenerate with

    ./dev test -m slow tests/browser/test_proxy_figures.py -s

Per-commit time of the proxy beside the SAH pool (same page, same run, interleaved), round trips
and flushes per commit, and the cost of the handle release delay: reopening a closed file in the
same worker versus the wait of another context for it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from harness import BrowserSession

pytestmark = pytest.mark.slow

COMMITS = 300

PER_COMMIT = r'''
import os, statistics, time, pyodide_opfs
pool = await pyodide_opfs.mount_sahpool("/pool", directory="figures-pool", capacity=8)
proxy = await pyodide_opfs.mount_proxy("/proxy", root="figures")
def run(mount, mode, round_):
    path = f"/{mount}/{mode}-{round_}.db"
    con = pyodide_opfs.connect(path, journal_mode=mode)
    con.execute("create table t(x, pad)")
    con.commit()
    stats = (proxy if mount == "proxy" else pool).io_stats
    flushes0 = sum(s["flushes"] for s in stats())
    rt0 = proxy.rpc_stats()["round_trips"]
    times = []
    for i in range(COMMITS):
        t = time.perf_counter()
        con.execute("insert into t values (?, randomblob(100))", (i,))
        con.commit()
        times.append((time.perf_counter() - t) * 1000)
    flushes = sum(s["flushes"] for s in stats()) - flushes0
    rts = proxy.rpc_stats()["round_trips"] - rt0
    con.close()
    for suffix in ("", "-journal", "-wal"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    return {"p50": statistics.median(times), "mean": statistics.fmean(times), "flushes": flushes / COMMITS,
            "round_trips": rts / COMMITS if mount == "proxy" else 0}
out = {}
for round_ in range(2):  # interleaved, so that load on the machine hits both alike
    for mount in ("pool", "proxy"):
        for mode in ("delete", "wal"):
            out.setdefault(f"{mount}/{mode}", []).append(run(mount, mode, round_))
await pool.unmount(); await proxy.unmount()
out
'''

RELEASE_DELAY = r'''
import asyncio, time, pyodide_opfs
res = {}
for delay in (0.0, 0.05, 0.25):
    a = await pyodide_opfs.mount_proxy("/a", root="release", release_delay=delay)
    b = await pyodide_opfs.mount_proxy("/b", root="release", release_delay=delay)  # another context
    with open("/a/file.bin", "wb") as f:
        f.write(b"x" * 65536)
    await asyncio.sleep(0.3)
    # The same worker reopening a file it just closed (a loop of open/read/close).
    t = time.perf_counter()
    for i in range(N):
        with open("/a/file.bin", "rb") as f:
            f.read(100)
    reopen = (time.perf_counter() - t) * 1000 / N
    # sqlite3: connect, one query, close (a connection per request).
    con = pyodide_opfs.connect("/a/q.db"); con.execute("create table if not exists t(x)"); con.commit(); con.close()
    t = time.perf_counter()
    for i in range(N):
        con = pyodide_opfs.connect("/a/q.db"); con.execute("select count(*) from t").fetchone(); con.close()
    connect = (time.perf_counter() - t) * 1000 / N
    # Another context waiting for the file: A closes, B opens (B retries with backoff).
    waits = []
    for i in range(10):
        f = open("/a/file.bin", "rb"); f.read(1); f.close()
        await asyncio.sleep(0)  # A's close goes to its proxy when the event loop runs
        t = time.perf_counter()
        with open("/b/file.bin", "rb") as g:
            g.read(1)
        waits.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(delay + 0.05)  # B's handle released before A's next turn
    res[str(delay)] = {"reopen_ms": reopen, "connect_query_close_ms": connect, "handover_ms": sorted(waits)[len(waits) // 2]}
    await a.unmount(); await b.unmount()
res
'''


def test_figures(browser_session: BrowserSession) -> None:
    per_commit: dict[str, Any] = browser_session.run(PER_COMMIT.replace("COMMITS", str(COMMITS)), timeout=600)
    release: dict[str, Any] = browser_session.run(RELEASE_DELAY.replace("N", "100"), timeout=600)
    print("\nper-commit (ms; two interleaved rounds of", COMMITS, "commits):")
    for key, rounds in per_commit.items():
        print(f"  {key:14s}", "  ".join(
            f"p50 {r['p50']:.2f} mean {r['mean']:.2f} flushes {r['flushes']:.2f} rt {r['round_trips']:.2f}" for r in rounds))
    print("release_delay:", json.dumps(release, indent=1))
