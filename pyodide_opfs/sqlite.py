"""``connect()``: stdlib sqlite3 with settings that suit OPFS storage.

Durability here is decided by the filesystem's flush policy (js/flush_policy.mjs), not by
SQLite's syncs, which never reach an Emscripten filesystem; so ``synchronous`` only changes how
much work SQLite does, and every journal mode below is durable at COMMIT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .compat import import_sqlite3
from .errors import ConfigurationError

if TYPE_CHECKING:
    import sqlite3

__all__ = ["connect", "JOURNAL_MODES", "DEFAULT_JOURNAL_MODE"]

#: Journal modes that are durable at every COMMIT on our filesystems.
JOURNAL_MODES = ("delete", "truncate", "persist", "wal")
DEFAULT_JOURNAL_MODE = "delete"
_SYNCHRONOUS = ("off", "normal", "full", "extra")


def connect(
    path: str,
    *,
    journal_mode: str = DEFAULT_JOURNAL_MODE,
    synchronous: str = "normal",
    page_size: int | None = None,
    cache_size: int | None = None,
    **kwargs: Any,
) -> sqlite3.Connection:
    """Open ``path`` with :func:`sqlite3.connect` (``kwargs`` are passed on) and apply:

    - ``journal_mode``: one of ``JOURNAL_MODES``. ``"wal"`` also sets
      ``locking_mode=EXCLUSIVE`` first (no shared memory in WASM), so only this connection can
      use the database until it is closed.
    - ``synchronous``: SQLite's setting (off/normal/full/extra).
    - ``page_size``: bytes per page for a new database (ignored by SQLite for an existing one).
    - ``cache_size``: SQLite's ``PRAGMA cache_size``.
    """
    mode = _choice("journal_mode", journal_mode, JOURNAL_MODES)
    sync = _choice("synchronous", synchronous, _SYNCHRONOUS)
    if page_size is not None and (
        isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 512
        or page_size > 65536 or page_size & (page_size - 1)
    ):
        raise ConfigurationError(f"page_size must be a power of two from 512 to 65536, got {page_size!r}")
    if cache_size is not None and (isinstance(cache_size, bool) or not isinstance(cache_size, int)):
        raise ConfigurationError(f"cache_size must be an int, got {cache_size!r}")
    db = import_sqlite3()  # a separate package on Pyodide < 314: a clear error if not loaded
    con: sqlite3.Connection = db.connect(path, **kwargs)
    try:
        if page_size is not None:
            con.execute(f"PRAGMA page_size={page_size}")
        if cache_size is not None:
            con.execute(f"PRAGMA cache_size={cache_size}")
        if mode == "wal":
            con.execute("PRAGMA locking_mode=EXCLUSIVE")
        got = con.execute(f"PRAGMA journal_mode={mode}").fetchone()[0]
        if str(got).lower() != mode:
            raise db.OperationalError(f"journal_mode={mode} was refused; the database stays in {got} mode")
        con.execute(f"PRAGMA synchronous={sync}")
    except BaseException:
        con.close()
        raise
    return con


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value.lower()
