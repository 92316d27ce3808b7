"""create / reopen / persist: data written through the mount survives a page reload and a full
browser restart, byte for byte (issue 3). Each backend gets its own fresh on-disk profile; the
three tests run in order on it."""

from __future__ import annotations

from typing import Any

import pytest
from backends import mount_code, selected
from harness import BrowserSession
from worker_snippets import SIZES, SNAPSHOT, TEXT, content, sha256

ROWS = 1000
MOUNT_OPTIONS = {"capacity": 24}


@pytest.fixture(scope="module", params=selected())
def lifecycle(request: pytest.FixtureRequest, module_sessions: Any) -> dict[str, Any]:
    return {"backend": request.param, "session": module_sessions(f"lifecycle-{request.param}")}


def run_on_mount(state: dict[str, Any], body: str) -> Any:
    """Mount, run ``body`` (which sets ``result``), unmount, return ``result``."""
    code = mount_code(state["backend"], **MOUNT_OPTIONS) + SNAPSHOT + body + "\nawait pool.unmount()\nresult\n"
    return state["session"].run(code, timeout=300)


def expected_after_create(sqlite: bool = True) -> dict[str, Any]:
    """What snapshot() returns after CREATE (``sqlite=False``: after CREATE_FILES alone)."""
    files = {f"bin/{n}.bin": sha256(content(n)) for n in SIZES}
    files["nested/deeper/deepest/text.txt"] = sha256(TEXT.encode("utf-8"))
    dirs = ["bin", "empty", "empty/dir", "nested", "nested/deeper", "nested/deeper/deepest"]
    dbs = {"app.db": {"rows": ROWS, "sum": float(sum(range(ROWS))), "integrity": "ok"}} if sqlite else {}
    return {"files": files, "dirs": sorted(dirs), "dbs": dbs}


def expected_after_modify(sqlite: bool = True) -> dict[str, Any]:
    exp = expected_after_create(sqlite)
    exp["files"]["nested/deeper/deepest/text.txt"] = sha256((TEXT + "appended ✓\n").encode("utf-8"))
    del exp["files"]["bin/1.bin"]
    exp["files"]["renamed.bin"] = exp["files"].pop("bin/4095.bin")
    exp["files"]["later/new.txt"] = sha256(b"written after the first reload")
    exp["dirs"] = sorted([d for d in exp["dirs"] if d != "empty/dir"] + ["later"])
    if sqlite:
        exp["dbs"]["app.db"] = {"rows": ROWS + 10, "sum": float(sum(range(ROWS + 10))), "integrity": "ok"}
    return exp


# CREATE and MODIFY are a file part and a database part (reused without the database by the
# compatibility matrix, test_compat.py, on releases whose sqlite3 is not at hand).
CREATE_FILES = f"""
import os, random, pyodide_opfs
os.makedirs("/data/bin")
for n in {SIZES!r}:
    with open(f"/data/bin/{{n}}.bin", "wb") as f:
        f.write(random.Random(n).randbytes(n))
os.makedirs("/data/nested/deeper/deepest")
os.makedirs("/data/empty/dir")
with open("/data/nested/deeper/deepest/text.txt", "w", encoding="utf-8") as f:
    f.write({TEXT!r})
"""
CREATE_DB = f"""
con = pyodide_opfs.connect("/data/app.db")
con.execute("create table t(x integer)")
con.commit()
for i in range({ROWS}):
    con.execute("insert into t values (?)", (i,))
    con.commit()
con.close()
"""
CREATE = CREATE_FILES + CREATE_DB + "result = snapshot()\n"

MODIFY_FILES = f"""
import os, pyodide_opfs
with open("/data/nested/deeper/deepest/text.txt", "a", encoding="utf-8") as f:
    f.write("appended ✓\\n")
os.unlink("/data/bin/1.bin")
os.rename("/data/bin/4095.bin", "/data/renamed.bin")
os.rmdir("/data/empty/dir")
os.mkdir("/data/later")
with open("/data/later/new.txt", "wb") as f:
    f.write(b"written after the first reload")
"""
MODIFY_DB = f"""
con = pyodide_opfs.connect("/data/app.db")
for i in range({ROWS}, {ROWS + 10}):
    con.execute("insert into t values (?)", (i,))
    con.commit()
con.close()
"""
MODIFY = MODIFY_FILES + MODIFY_DB + "result = snapshot()\n"


def test_create(lifecycle: dict[str, Any]) -> None:
    """Fresh origin storage: write files of every size, nested and empty dirs, a database."""
    assert run_on_mount(lifecycle, "result = snapshot()") == {"files": {}, "dirs": [], "dbs": {}}
    assert run_on_mount(lifecycle, CREATE) == expected_after_create()


def test_reopen(lifecycle: dict[str, Any]) -> None:
    """Page reload (a new worker): everything is back; modify, reload again, check again."""
    session: BrowserSession = lifecycle["session"]
    session.reload()
    assert run_on_mount(lifecycle, "result = snapshot()") == expected_after_create()
    assert run_on_mount(lifecycle, MODIFY) == expected_after_modify()
    session.reload()
    assert run_on_mount(lifecycle, "result = snapshot()") == expected_after_modify()


def test_persist(lifecycle: dict[str, Any]) -> None:
    """Browser closed and relaunched on the same profile: everything is back."""
    session: BrowserSession = lifecycle["session"]
    session.restart()
    assert run_on_mount(lifecycle, "result = snapshot()") == expected_after_modify()
