"""Facts of the SQLite database file format that import_db checks (sqlite.org/fileformat.html)."""

from __future__ import annotations

from .errors import InvalidDatabaseError

__all__ = ["HEADER_MAGIC", "check_database_header", "check_database_size", "normalise_journal_mode_bytes"]

HEADER_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100


def page_size(header: bytes) -> int:
    """Page size from bytes 16-17 (big-endian; 1 means 65536)."""
    raw = int.from_bytes(header[16:18], "big")
    return 65536 if raw == 1 else raw


def check_database_header(header: bytes) -> None:
    """Raise InvalidDatabaseError unless ``header`` starts a valid SQLite database."""
    if len(header) < HEADER_SIZE or not header.startswith(HEADER_MAGIC):
        raise InvalidDatabaseError("not an SQLite database: the file does not start with 'SQLite format 3'")
    size = page_size(header)
    if size < 512 or size & (size - 1):
        raise InvalidDatabaseError(f"not an SQLite database: invalid page size {size}")


def check_database_size(header: bytes, total: int) -> None:
    """The file must be whole pages, and as many as the header says when that count is valid."""
    check_database_header(header)
    size = page_size(header)
    if total == 0 or total % size:
        raise InvalidDatabaseError(f"truncated SQLite database: {total} bytes is not a multiple of the page size {size}")
    pages_in_header = int.from_bytes(header[28:32], "big")
    # The in-header page count is valid only when the change counter matches version-valid-for.
    if header[24:28] == header[92:96] and pages_in_header and pages_in_header * size != total:
        raise InvalidDatabaseError(
            f"truncated SQLite database: the header says {pages_in_header} pages of {size} bytes, got {total} bytes"
        )


def normalise_journal_mode_bytes(header: bytes) -> bytes | None:
    """A database saved in WAL mode (bytes 18-19 = 2) opens here only with exclusive locking;
    like sqlite-wasm's importDb, store it in rollback mode (1, 1). None when nothing changes."""
    return b"\x01\x01" if header[18:20] == b"\x02\x02" else None
