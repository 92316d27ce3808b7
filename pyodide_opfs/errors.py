"""The exception hierarchy of pyodide_opfs.

Everything the installer and the pool API raise derives from :class:`OpfsError`. Filesystem
calls under a mount (``open``, ``os.*``, ``sqlite3``) raise plain :class:`OSError` with an errno
instead, because only an errno crosses Emscripten's syscall layer; the hint that goes with it
(for example "add capacity") is in :attr:`pyodide_opfs.SAHPool.last_error` and the worker console.
"""

from __future__ import annotations

__all__ = [
    "OpfsError",
    "UnsupportedEnvironmentError",
    "ConfigurationError",
    "MountError",
    "PoolBusyError",
    "PoolClosedError",
    "InvalidDatabaseError",
]


class OpfsError(Exception):
    """Base class of every error pyodide_opfs raises itself."""


class UnsupportedEnvironmentError(OpfsError):
    """The runtime cannot host OPFS storage: wrong global scope, no OPFS, not a secure context,
    no cross-origin isolation (proxy backend) or an unsupported Pyodide release."""


class ConfigurationError(OpfsError, ValueError):
    """An option is unknown, of the wrong type, or out of range. The message names the option."""


class MountError(OpfsError):
    """The mountpoint cannot be used: not absolute, already mounted, or not an empty directory."""


class PoolBusyError(OpfsError):
    """Another tab or worker holds the pool's files. Raised after the configured wait
    (``busy_timeout``); nothing on disk was changed."""

    def __init__(self, directory: str, waited: float, detail: str = "") -> None:
        self.directory = directory
        self.waited = waited
        message = (
            f"OPFS pool directory {directory!r} is in use by another tab or worker "
            f"(waited {waited:.1f} s). Close the other context, or call pause() there, then retry."
        )
        if detail:
            message += f" ({detail})"
        super().__init__(message)


class PoolClosedError(OpfsError):
    """The pool was unmounted; its methods can no longer be used."""


class InvalidDatabaseError(OpfsError, ValueError):
    """Data given to ``import_db`` is not a complete SQLite database; nothing was written."""
