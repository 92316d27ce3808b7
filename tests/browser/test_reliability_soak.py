"""Soak (issue 6; ``-m slow``): minutes of mixed file and SQLite work, mounting and unmounting
in every cycle and reloading the page every few cycles. Checks that

- what one cycle leaves is exactly what the next one finds (across unmounts and reloads), and
  every database passes integrity_check;
- the worker does not leak: after the first cycles of each worker, the WASM heap
  (``pyodide._module.HEAPU8.length``; ``performance.memory`` does not exist in workers), the
  number of Python objects, open Emscripten streams and the pool's open files stay flat, and
  the number of OPFS files stays bounded.

    PYODIDE_OPFS_SOAK_SECONDS=300 ./dev test -m slow -k reliability_soak
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from backends import mount_code, selected
from harness import BrowserSession
from reliability_helpers import TREE, record_figures

SECONDS = float(os.environ.get("PYODIDE_OPFS_SOAK_SECONDS", "180"))
CYCLES_PER_WORKER = 12
WARMUP = 4
MOUNT = {"capacity": 128}  # up to ~100 entries: 40 files, 55 directories and files under d/, log, db

HELPERS = TREE + """
import gc, os, random, shutil, pyodide_js, pyodide_opfs
def db_summary(path="/data/soak.db"):
    if not os.path.exists(path):
        return None
    con = pyodide_opfs.connect(path)
    out = list(con.execute("select count(*), total(n), coalesce(sum(length(b)), 0) from r").fetchone())
    out.append(con.execute("pragma integrity_check").fetchone()[0])
    con.close()
    return out
def state():
    db = db_summary()  # first: it leaves no journal behind, whatever mode the cycle used
    return {"db": db, "tree": tree()}
def memory():
    gc.collect()
    streams = sum(1 for s in pyodide_js.FS.streams if s)
    return {"heap": int(pyodide_js._module.HEAPU8.length), "objects": len(gc.get_objects()), "streams": streams}
"""

CYCLE = """
found = state()
rng = random.Random({cycle})
os.makedirs("/data/f", exist_ok=True)
for _ in range(20):
    with open(f"/data/f/{{rng.randrange(40)}}.bin", "wb") as f:
        f.write(rng.randbytes(rng.choice([0, 1, 100, 4095, 4096, 4097, 30000, 70000])))
with open("/data/log.txt", "a") as f:
    f.write(f"cycle {cycle}\\n" * rng.randrange(1, 50))
    os.fsync(f.fileno())
names = sorted(os.listdir("/data/f"))
if names:
    os.replace("/data/f/" + rng.choice(names), f"/data/f/{{rng.randrange(40)}}.bin")
    names = sorted(os.listdir("/data/f"))
    os.unlink("/data/f/" + rng.choice(names))
d = f"/data/d/{{rng.randrange(5)}}/{{rng.randrange(5)}}"
os.makedirs(d, exist_ok=True)
with open(d + "/x.txt", "w") as f:
    f.write(str({cycle}))
if rng.random() < 0.5:
    shutil.rmtree(f"/data/d/{{rng.randrange(5)}}", ignore_errors=True)
con = pyodide_opfs.connect("/data/soak.db", journal_mode=rng.choice(["delete", "truncate", "persist"]))
con.execute("create table if not exists r(id integer primary key, n integer, b blob)")
for k in range(30):
    con.execute("insert into r(n, b) values (?, randomblob(?))", ({cycle} * 100 + k, rng.randrange(10, 3000)))
    if k % 3 == 0:
        con.commit()
con.execute("delete from r where id in (select id from r order by random() limit 20)")
con.execute("update r set n = n + 1 where id % 7 = ?", ({cycle} % 7,))
con.commit()
if {cycle} % 10 == 9:
    con.execute("vacuum")
con.close()
left = state()
extra = {{"open_files": int(getattr(pool, "open_file_count", 0)), "capacity": int(getattr(pool, "capacity", 0))}}
await pool.unmount()
[found, left, memory(), extra]
"""


def _soak(backend: str, session: BrowserSession, deadline: float) -> dict[str, Any]:
    session.run(HELPERS, keep=True)
    expected: dict[str, Any] | None = None
    cycle = 0
    workers = 0
    per_worker: list[list[dict[str, Any]]] = []
    capacities: list[int] = []
    while time.monotonic() < deadline:
        if cycle and cycle % CYCLES_PER_WORKER == 0:
            session.reload()  # a new worker; the profile and OPFS stay
            session.run(HELPERS, keep=True)
        if cycle % CYCLES_PER_WORKER == 0:
            workers += 1
            per_worker.append([])
        code = mount_code(backend, **MOUNT) + CYCLE.format(cycle=cycle)
        found, left, mem, extra = session.run(code, keep=True, timeout=300)
        if expected is not None:
            assert found == expected, f"cycle {cycle}: storage differs from what cycle {cycle - 1} left"
        assert left["db"] is not None and left["db"][3] == "ok", left["db"]
        assert extra["open_files"] == 0
        expected = left
        per_worker[-1].append(mem)
        capacities.append(extra["capacity"])
        cycle += 1

    growth = {"heap": 0, "objects": 0, "streams": 0}
    for samples in per_worker:
        if len(samples) <= WARMUP + 1:
            continue
        settled = samples[WARMUP:]
        for key in growth:
            growth[key] = max(growth[key], settled[-1][key] - settled[0][key])
        assert settled[-1]["streams"] == settled[0]["streams"], "Emscripten streams leak"
        assert settled[-1]["heap"] <= settled[0]["heap"] + 16 * 2**20, f"WASM heap grows: {samples}"
        assert settled[-1]["objects"] <= settled[0]["objects"] + 2000, f"Python objects grow: {samples}"
    if capacities and backend == "sahpool":
        assert max(capacities) <= MOUNT["capacity"] + 16, f"the pool keeps growing: {capacities}"
    heaps = [s["heap"] for w in per_worker for s in w]
    return {
        "seconds": round(SECONDS), "cycles": cycle, "workers": workers,
        "heap_mib": [round(min(heaps) / 2**20, 1), round(max(heaps) / 2**20, 1)] if heaps else [],
        "max_growth_after_warmup": growth, "capacity": [min(capacities), max(capacities)] if capacities else [],
        "final_rows": expected["db"][0] if expected else 0,
    }


@pytest.mark.slow
@pytest.mark.timeout(int(SECONDS) + 600)
@pytest.mark.parametrize("backend", selected())
def test_soak_mixed_work_with_reloads(backend: str, session_factory: Callable[..., BrowserSession],
                                      fresh_profile: Path) -> None:
    if backend == "memfs":
        pytest.skip("memfs: nothing survives the reloads")
    session = session_factory(fresh_profile)
    figures = _soak(backend, session, time.monotonic() + SECONDS)
    record_figures(f"soak-{backend}", figures)
    assert figures["cycles"] >= 2 * CYCLES_PER_WORKER
