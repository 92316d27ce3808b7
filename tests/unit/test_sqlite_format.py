"""SQLite file-format checks used by import_db (pyodide_opfs/sqlite_format.py), on real databases
made with the host's sqlite3."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from pyodide_opfs.errors import InvalidDatabaseError, OpfsError
from pyodide_opfs.sqlite_format import (
    HEADER_MAGIC,
    check_database_header,
    check_database_size,
    normalise_journal_mode_bytes,
    page_size,
)


def make_db(path: Path, *, page: int = 4096, journal_mode: str = "delete", rows: int = 50) -> bytes:
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA page_size={page}")
    con.execute(f"PRAGMA journal_mode={journal_mode}")
    con.execute("CREATE TABLE t(x TEXT)")
    con.executemany("INSERT INTO t VALUES (?)", [("row %d " % i * 20,) for i in range(rows)])
    con.commit()
    con.close()
    return path.read_bytes()


@pytest.mark.parametrize("page", [512, 1024, 4096, 8192, 65536])
def test_valid_databases(tmp_path: Path, page: int) -> None:
    data = make_db(tmp_path / "a.db", page=page)
    assert data.startswith(HEADER_MAGIC)
    assert page_size(data[:100]) == page
    check_database_header(data[:100])
    check_database_size(data[:100], len(data))
    assert int.from_bytes(data[28:32], "big") * page == len(data)


def test_empty_database_file_is_rejected(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "e.db").close()  # creates a 0-byte file
    data = (tmp_path / "e.db").read_bytes()
    assert data == b""
    with pytest.raises(InvalidDatabaseError, match="not an SQLite database"):
        check_database_size(data[:100], 0)


def test_truncated_database(tmp_path: Path) -> None:
    data = make_db(tmp_path / "a.db", page=1024, rows=200)
    header = data[:100]
    with pytest.raises(InvalidDatabaseError, match="not a multiple of the page size 1024"):
        check_database_size(header, len(data) - 1)
    with pytest.raises(InvalidDatabaseError, match=r"header says \d+ pages of 1024 bytes, got"):
        check_database_size(header, len(data) - 1024)
    with pytest.raises(InvalidDatabaseError, match="truncated"):
        check_database_size(header, 0)
    with pytest.raises(InvalidDatabaseError, match="not an SQLite database"):
        check_database_header(data[:99])


def test_in_header_page_count_ignored_when_not_valid(tmp_path: Path) -> None:
    data = bytearray(make_db(tmp_path / "a.db", page=1024))
    # a change counter that differs from version-valid-for makes the page count invalid
    data[24:28] = (int.from_bytes(data[92:96], "big") + 1).to_bytes(4, "big")
    check_database_size(bytes(data[:100]), len(data) + 1024)
    # and a zero page count is never checked
    data = bytearray(make_db(tmp_path / "b.db", page=1024))
    data[28:32] = b"\0\0\0\0"
    check_database_size(bytes(data[:100]), len(data) + 2048)


@pytest.mark.parametrize(
    "blob",
    [b"", b"hello" * 100, b"SQLite format 2\x00" + bytes(100), b"\x00" * 4096, b"sqlite format 3\x00" + bytes(100)],
)
def test_non_sqlite_bytes(blob: bytes) -> None:
    with pytest.raises(InvalidDatabaseError, match="not an SQLite database"):
        check_database_header(blob[:100])
    with pytest.raises(InvalidDatabaseError):
        check_database_size(blob[:100], len(blob))


@pytest.mark.parametrize("raw", [0, 2, 256, 511, 1000, 3000, 0x8001, 0xFFFF])
def test_bad_page_size(tmp_path: Path, raw: int) -> None:
    data = bytearray(make_db(tmp_path / "a.db"))
    data[16:18] = raw.to_bytes(2, "big")
    with pytest.raises(InvalidDatabaseError, match="invalid page size"):
        check_database_header(bytes(data[:100]))


def test_page_size_one_means_65536() -> None:
    header = bytearray(HEADER_MAGIC + bytes(84))
    header[16:18] = b"\x00\x01"
    assert page_size(bytes(header)) == 65536
    check_database_header(bytes(header))
    header[16:18] = b"\x80\x00"
    assert page_size(bytes(header)) == 32768


def test_wal_header_bytes_normalised(tmp_path: Path) -> None:
    wal = make_db(tmp_path / "w.db", journal_mode="wal")
    assert wal[18:20] == b"\x02\x02"
    assert normalise_journal_mode_bytes(wal[:100]) == b"\x01\x01"
    rollback = make_db(tmp_path / "r.db", journal_mode="delete")
    assert rollback[18:20] == b"\x01\x01"
    assert normalise_journal_mode_bytes(rollback[:100]) is None
    # the normalised bytes give a database that opens in rollback mode with its data
    fixed = wal[:18] + normalise_journal_mode_bytes(wal[:100]) + wal[20:]  # type: ignore[operator]
    (tmp_path / "fixed.db").write_bytes(fixed)
    con = sqlite3.connect(tmp_path / "fixed.db")
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert con.execute("SELECT count(*) FROM t").fetchone()[0] == 50
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    check_database_size(fixed[:100], len(fixed))


def test_invalid_database_error_type() -> None:
    assert issubclass(InvalidDatabaseError, ValueError)
    assert issubclass(InvalidDatabaseError, OpfsError)
