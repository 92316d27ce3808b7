"""Differences between Pyodide releases, kept in one place.

Everything else in the package talks to Pyodide through these functions, so supporting another
release means changing this module only.
"""

from __future__ import annotations

import re
from types import ModuleType
from typing import Any

from .errors import UnsupportedEnvironmentError
from .log import logger

__all__ = [
    "OLDEST_SUPPORTED",
    "NEWEST_TESTED",
    "pyodide_version",
    "check_pyodide_version",
    "filesystem_env",
    "to_js_object",
    "to_js_list",
    "run_js",
    "import_sqlite3",
]

#: Oldest release we support (Pyodide 0.27, Python 3.12) and newest we have tested.
OLDEST_SUPPORTED = (0, 27)
NEWEST_TESTED = (314, 0)
SUPPORTED_RANGE = "Pyodide 0.27 - 314.x"


def pyodide_version() -> tuple[int, int]:
    """(major, minor) of the running Pyodide, e.g. (314, 0) or (0, 27)."""
    import pyodide_js

    match = re.match(r"(\d+)\.(\d+)", str(pyodide_js.version))
    if not match:
        raise UnsupportedEnvironmentError(f"cannot read the Pyodide version {pyodide_js.version!r}")
    return int(match.group(1)), int(match.group(2))


def check_pyodide_version(version: tuple[int, int] | None = None) -> tuple[int, int]:
    """Raise UnsupportedEnvironmentError for a release older than we support; a newer release
    than we tested is used, with a warning (the 315 alphas passed the matrix)."""
    version = version or pyodide_version()
    if version < OLDEST_SUPPORTED:
        raise UnsupportedEnvironmentError(
            f"Pyodide {version[0]}.{version[1]} is not supported; pyodide_opfs needs {SUPPORTED_RANGE}."
        )
    if version[0] > NEWEST_TESTED[0] and version not in _warned:
        _warned.add(version)
        logger.warning(
            "Pyodide %d.%d is newer than the releases pyodide_opfs is tested on (%s); "
            "it should work, but report problems.", version[0], version[1], SUPPORTED_RANGE,
        )
    return version


_warned: set[tuple[int, int]] = set()


def filesystem_env() -> Any:
    """The JS object the filesystem glue needs (``FsEnv`` in js/types.d.ts): ``FS`` and
    ``ERRNO_CODES`` of this Pyodide instance, and how its Emscripten differs:

    - ``setattrTimestamp``: Pyodide 0.27 (Emscripten 3.1.58) calls ``node_ops.setattr`` with one
      ``timestamp`` (utime, chmod, truncate); 0.28 and later (Emscripten 4) with atime/mtime/ctime.
    """
    import pyodide_js

    codes = getattr(pyodide_js, "ERRNO_CODES", None) or pyodide_js._module.ERRNO_CODES
    return to_js_object({
        "FS": pyodide_js.FS,
        "ERRNO_CODES": codes,
        "setattrTimestamp": pyodide_version() < (0, 28),
    })


def to_js_object(value: dict[str, Any]) -> Any:
    """A plain JS object (not a Map) from a dict; nested dicts become objects too."""
    import js
    from pyodide.ffi import to_js

    return to_js(value, dict_converter=js.Object.fromEntries)


def to_js_list(values: list[Any]) -> Any:
    """A JS array whose dict items are plain JS objects."""
    import js
    from pyodide.ffi import to_js

    return to_js(values, dict_converter=js.Object.fromEntries)


def run_js(code: str) -> Any:
    """Evaluate JS in the worker's global scope and return the value."""
    from pyodide.code import run_js as _run_js

    return _run_js(code)


def import_sqlite3() -> ModuleType:
    """The stdlib ``sqlite3`` module. Built in from Pyodide 314 on; on 0.27 - 0.29 it is a
    separate package of the distribution that must be loaded first (only the full distribution,
    e.g. the CDN, serves it; the npm package does not)."""
    try:
        import sqlite3
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(
            "sqlite3 is not loaded: this Pyodide ships the stdlib sqlite3 as a separate package. "
            "Load it before connecting: `await pyodide_js.loadPackage('sqlite3')` in Python, or "
            "`await pyodide.loadPackage('sqlite3')` in JS (needs a distribution that serves it, e.g. the CDN).",
            name="sqlite3",
        ) from e
    return sqlite3
