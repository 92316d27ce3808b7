"""Durable at every COMMIT, in every journal mode (issue 11).

No sync from SQLite reaches an Emscripten filesystem, so the flush policy
(pyodide_opfs/js/flush_policy.mjs) decides. These tests count, per SyncAccessHandle, writes and
flushes (at the handle itself, not in the policy) and record every handle call with the files
that had unflushed writes at that moment:

- after every COMMIT returns, no handle has unflushed writes, and the commit flushed;
- at every write, truncate or header write, no *other* file has unflushed writes (so journal or
  WAL content is durable before the database pages that depend on it, and a checkpoint writes
  database pages only after the WAL frames they come from are flushed);
- os.fsync and close() of a plain file leave nothing unflushed.
"""

from __future__ import annotations

from typing import Any

import pytest
from backends import mount_code, selected
from harness import BrowserSession

COMMITS = 40
#: Most flushes a commit may take (the policy's minimum for each mode; see flush_policy.mjs).
MAX_FLUSHES = {"delete": 3, "truncate": 3, "persist": 3, "wal": 1}

PRELUDE = r'''
import os, pyodide_opfs
def unflushed():
    return [s["path"] or s["name"] for s in pool.io_stats() if s["unflushed"]]
def flush_count():
    return sum(s["flushes"] for s in pool.io_stats())
def ordering_violations(trace):
    return [e for e in trace if e["op"] != "flush" and e["others_unflushed"]]
'''


@pytest.fixture(scope="module", params=[b for b in selected() if b != "memfs"])
def fs(request: pytest.FixtureRequest, module_sessions: Any) -> BrowserSession:
    session: BrowserSession = module_sessions(f"durability-{request.param}")
    session.run(mount_code(request.param, capacity=32) + PRELUDE, keep=True)
    return session


@pytest.mark.parametrize("mode", list(MAX_FLUSHES))
def test_every_commit_is_flushed_in_order(fs: BrowserSession, mode: str) -> None:
    out = fs.run(f'''
con = pyodide_opfs.connect("/data/{mode}.db", journal_mode={mode!r})
con.execute("create table t(x, pad)")
con.commit()
per_commit, left_unflushed, violations = [], [], []
for i in range({COMMITS}):
    before = flush_count()
    pool.start_io_trace()
    con.execute("insert into t values (?, randomblob(3000))", (i,))
    con.commit()
    trace = pool.stop_io_trace()
    per_commit.append(flush_count() - before)
    if unflushed():
        left_unflushed.append((i, unflushed()))
    violations += ordering_violations(trace)
rows = con.execute("select count(*) from t").fetchone()[0]
con.close()
{{"per_commit": per_commit, "left_unflushed": left_unflushed, "violations": violations[:5],
  "rows": rows, "after_close": unflushed()}}
''', keep=True)
    assert out["left_unflushed"] == [], "a COMMIT returned with unflushed writes"
    assert out["violations"] == [], "a write happened while another file had unflushed writes"
    assert min(out["per_commit"]) >= 1, "a COMMIT did not flush"
    assert max(out["per_commit"]) <= MAX_FLUSHES[mode], f"more flushes than {mode} needs: {out['per_commit']}"
    assert out["rows"] == COMMITS and out["after_close"] == []


def test_wal_checkpoint_writes_pages_after_their_frames_are_flushed(fs: BrowserSession) -> None:
    out = fs.run(r'''
con = pyodide_opfs.connect("/data/ckpt.db", journal_mode="wal")
con.execute("pragma wal_autocheckpoint=0")  # checkpoint only when we ask
con.execute("create table t(x, pad)")
for i in range(30):
    con.execute("insert into t values (?, randomblob(2000))", (i,))
    con.commit()
pool.start_io_trace()
busy, log_frames, checkpointed = con.execute("pragma wal_checkpoint(TRUNCATE)").fetchone()
trace = pool.stop_io_trace()
db_writes = [e for e in trace if e["path"] == "/ckpt.db" and e["op"] == "write"]
res = {"checkpoint": [busy, log_frames, checkpointed], "db_writes": len(db_writes),
       "violations": ordering_violations(trace), "unflushed": unflushed()}
con.close()
res
''', keep=True)
    assert out["checkpoint"][0] == 0 and out["db_writes"] > 0, out
    assert out["violations"] == [] and out["unflushed"] == []


def test_wal_commit_after_cache_spill_is_flushed(fs: BrowserSession) -> None:
    """A transaction larger than the page cache spills frames into the WAL before COMMIT; pages
    changed again overwrite their frames, and at COMMIT SQLite rewrites those frames' headers
    (checksums) up to the commit frame. That rewrite must be flushed before COMMIT returns."""
    out = fs.run(r'''
con = pyodide_opfs.connect("/data/spill.db", journal_mode="wal", cache_size=10)
# No automatic checkpoint: it would write database pages after COMMIT (unflushed until the WAL
# restarts, which R1 orders; see the checkpoint test). Here only the WAL matters.
con.execute("pragma wal_autocheckpoint=0")
con.execute("create table t(id integer primary key, pad)")
con.commit()
res = []
for round in range(3):
    pool.start_io_trace()
    con.execute("insert into t(pad) select randomblob(500) from (with recursive n(i) as (select 1 union all select i+1 from n where i < 2000) select i from n)")
    con.execute("update t set pad = randomblob(500) where id % 7 = 0")
    con.commit()
    trace = pool.stop_io_trace()
    wal_writes = [e for e in trace if e["path"] == "/spill.db-wal" and e["op"] == "write"]
    res.append({"unflushed": unflushed(), "wal_writes": len(wal_writes) > 100,
                "violations": ordering_violations(trace)})
con.close()
res
''', keep=True)
    assert out == [{"unflushed": [], "wal_writes": True, "violations": []}] * 3


def test_fsync_and_close_leave_nothing_unflushed(fs: BrowserSession) -> None:
    out = fs.run(r'''
res = {}
f = open("/data/plain.bin", "wb")
f.write(b"x" * 10000); f.flush()
res["before_fsync"] = "/plain.bin" in unflushed()
before = flush_count()
os.fsync(f.fileno())
res["fsync_flushed"] = flush_count() > before
res["after_fsync"] = unflushed()
f.write(b"y" * 10); f.flush()
f.close()
res["after_close"] = unflushed()
res
''', keep=True)
    assert out == {"before_fsync": True, "fsync_flushed": True, "after_fsync": [], "after_close": []}


def test_memory_journal_is_flushed_at_close(fs: BrowserSession) -> None:
    """MEMORY/OFF journals write only the database: durable at close/fsync, not at COMMIT
    (documented in flush_policy.mjs and the README)."""
    out = fs.run(r'''
import sqlite3
con = sqlite3.connect("/data/mem.db")
con.execute("pragma journal_mode=memory")
con.execute("create table t(x)")
con.commit()
con.execute("insert into t values (1)")
con.commit()
con.close()
unflushed()
''', keep=True)
    assert out == []
