"""connect() (pyodide_opfs/sqlite.py): argument validation, and on the host a real database in
every journal mode (the module imports only the stdlib)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from pyodide_opfs.errors import ConfigurationError
from pyodide_opfs.sqlite import DEFAULT_JOURNAL_MODE, JOURNAL_MODES, connect


def pragma(con: sqlite3.Connection, name: str) -> Any:
    return con.execute(f"PRAGMA {name}").fetchone()[0]


BAD_ARGS: list[tuple[dict[str, Any], str]] = [
    ({"journal_mode": "memory"}, "journal_mode"),
    ({"journal_mode": "off"}, "journal_mode"),
    ({"journal_mode": "wal2"}, "journal_mode"),
    ({"journal_mode": ""}, "journal_mode"),
    ({"journal_mode": None}, "journal_mode"),
    ({"journal_mode": 1}, "journal_mode"),
    ({"synchronous": "fast"}, "synchronous"),
    ({"synchronous": 2}, "synchronous"),
    ({"synchronous": None}, "synchronous"),
    ({"page_size": 1000}, "page_size"),
    ({"page_size": 256}, "page_size"),
    ({"page_size": 0}, "page_size"),
    ({"page_size": -4096}, "page_size"),
    ({"page_size": 131072}, "page_size"),
    ({"page_size": 4096.0}, "page_size"),
    ({"page_size": "4096"}, "page_size"),
    ({"page_size": True}, "page_size"),
    ({"cache_size": "100"}, "cache_size"),
    ({"cache_size": 1.5}, "cache_size"),
    ({"cache_size": True}, "cache_size"),
]


@pytest.mark.parametrize("kwargs,name", BAD_ARGS, ids=[repr(k) for k, _ in BAD_ARGS])
def test_bad_arguments_rejected_before_opening(tmp_path: Path, kwargs: dict[str, Any], name: str) -> None:
    path = tmp_path / "x.db"
    with pytest.raises(ConfigurationError) as exc:
        connect(str(path), **kwargs)
    assert name in str(exc.value)
    assert repr(next(iter(kwargs.values()))) in str(exc.value)
    assert not path.exists(), "nothing is created when the arguments are wrong"


def test_journal_mode_error_lists_choices(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="delete, truncate, persist, wal"):
        connect(str(tmp_path / "x.db"), journal_mode="memory")


def test_constants() -> None:
    assert JOURNAL_MODES == ("delete", "truncate", "persist", "wal")
    assert DEFAULT_JOURNAL_MODE == "delete"


@pytest.mark.parametrize("mode", JOURNAL_MODES)
def test_each_journal_mode_opens_a_real_database(tmp_path: Path, mode: str) -> None:
    path = tmp_path / f"{mode}.db"
    con = connect(str(path), journal_mode=mode)
    try:
        assert pragma(con, "journal_mode") == mode
        assert pragma(con, "locking_mode") == ("exclusive" if mode == "wal" else "normal")
        assert pragma(con, "synchronous") == 1  # normal
        con.execute("CREATE TABLE t(x)")
        con.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(100)])
        con.commit()
    finally:
        con.close()
    con = connect(str(path), journal_mode=mode)
    try:
        assert con.execute("SELECT sum(x) FROM t").fetchone()[0] == sum(range(100))
    finally:
        con.close()
    if mode == "wal":
        assert path.read_bytes()[18:20] == b"\x02\x02"


def test_default_is_delete_with_normal_sync(tmp_path: Path) -> None:
    con = connect(str(tmp_path / "d.db"))
    try:
        assert pragma(con, "journal_mode") == "delete"
        assert pragma(con, "locking_mode") == "normal"
        assert pragma(con, "synchronous") == 1
    finally:
        con.close()


def test_mode_names_are_case_insensitive(tmp_path: Path) -> None:
    con = connect(str(tmp_path / "c.db"), journal_mode="WAL", synchronous="FULL")
    try:
        assert pragma(con, "journal_mode") == "wal"
        assert pragma(con, "locking_mode") == "exclusive"
        assert pragma(con, "synchronous") == 2
    finally:
        con.close()


@pytest.mark.parametrize("sync,value", [("off", 0), ("normal", 1), ("full", 2), ("extra", 3)])
def test_synchronous_applied(tmp_path: Path, sync: str, value: int) -> None:
    con = connect(str(tmp_path / "s.db"), synchronous=sync)
    try:
        assert pragma(con, "synchronous") == value
    finally:
        con.close()


@pytest.mark.parametrize("page", [512, 8192, 65536])
def test_page_size_and_cache_size_applied(tmp_path: Path, page: int) -> None:
    path = tmp_path / "p.db"
    con = connect(str(path), page_size=page, cache_size=-512)
    try:
        assert pragma(con, "cache_size") == -512
        con.execute("CREATE TABLE t(x)")
        con.commit()
        assert pragma(con, "page_size") == page
    finally:
        con.close()
    data = path.read_bytes()
    raw = int.from_bytes(data[16:18], "big")
    assert (65536 if raw == 1 else raw) == page


def test_kwargs_passed_to_sqlite3(tmp_path: Path) -> None:
    con = connect(str(tmp_path / "k.db"), isolation_level=None, timeout=1.5)
    try:
        assert con.isolation_level is None
    finally:
        con.close()


def test_refused_journal_mode_raises_and_closes(tmp_path: Path) -> None:
    # an in-memory database cannot be in WAL mode: SQLite answers "memory"
    with pytest.raises(sqlite3.OperationalError, match="journal_mode=wal was refused"):
        connect(":memory:", journal_mode="wal")
