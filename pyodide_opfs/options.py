"""Options of the installers: names, defaults, types and ranges, validated before anything
touches storage. This module is the one place that knows them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any, Mapping, TypedDict

from .errors import ConfigurationError

__all__ = ["SAHPoolOptions", "PoolConfig", "parse_pool_options", "ProxyOptions", "ProxyConfig", "parse_proxy_options"]


class SAHPoolOptions(TypedDict, total=False):
    """Keyword options of :func:`pyodide_opfs.mount_sahpool` (for type checkers)."""

    directory: str
    capacity: int
    clear_on_init: bool
    spare_slots: int
    busy_timeout: float
    log_level: int | str


@dataclass(frozen=True)
class PoolConfig:
    #: OPFS directory of the pool (relative to the origin's OPFS root; "a/b" nests). sqlite-wasm's
    #: default is ".opfs-sahpool": use the same name to share databases with it.
    directory: str = ".opfs-sahpool"
    #: Pool files to have at least (each holds one file or directory).
    capacity: int = 6
    #: Wipe every file in the pool at mount (sqlite-wasm's clearOnInit). Off by default.
    clear_on_init: bool = False
    #: Keep at least this many free slots, refilled in the background after each file creation.
    spare_slots: int = 2
    #: Seconds to keep retrying when another context holds the pool's handles. A reloaded page's
    #: old worker keeps its handles for about 2 s after terminate() when it was busy.
    busy_timeout: float = 5.0
    #: Level of the "pyodide_opfs" logger (a logging level or its name); None leaves it alone.
    log_level: int | str | None = None


_LIMITS: dict[str, tuple[float, float]] = {
    "capacity": (1, 100_000),
    "spare_slots": (0, 10_000),
    "busy_timeout": (0.0, 600.0),
    "timeout": (0.1, 600.0),
    "release_delay": (0.0, 60.0),
    "buffer_size": (64 * 1024, 64 * 1024 * 1024),
}


def parse_pool_options(options: Mapping[str, Any]) -> PoolConfig:
    """Validate keyword options into a :class:`PoolConfig`; raise ConfigurationError naming
    the option (or, for an unknown one, the valid names)."""
    valid = {f.name for f in fields(PoolConfig)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(map(repr, unknown))}; valid options: {', '.join(sorted(valid))}"
        )
    values = dict(options)
    _check_directory(values.get("directory", PoolConfig.directory))
    for name in ("capacity", "spare_slots"):
        if name in values:
            _check_int(name, values[name])
    if "busy_timeout" in values:
        _check_number("busy_timeout", values["busy_timeout"])
    if "clear_on_init" in values and not isinstance(values["clear_on_init"], bool):
        raise ConfigurationError(f"option 'clear_on_init' must be a bool, not {type(values['clear_on_init']).__name__}")
    if "log_level" in values:
        _check_log_level(values["log_level"])
    return PoolConfig(**values)


def _check_directory(value: object) -> None:
    if not isinstance(value, str):
        raise ConfigurationError(f"option 'directory' must be a str, not {type(value).__name__}")
    parts = value.split("/")
    if not value or any(p in ("", ".", "..") for p in parts) or "\\" in value or "\0" in value:
        raise ConfigurationError(
            f"option 'directory' must be a relative OPFS path like '.opfs-sahpool' or 'app/pool' "
            f"(no empty, '.' or '..' parts, no backslash or NUL): {value!r}"
        )


def _check_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"option {name!r} must be an int, not {type(value).__name__}")
    low, high = _LIMITS[name]
    if not low <= value <= high:
        raise ConfigurationError(f"option {name!r} must be between {int(low)} and {int(high)}, got {value}")


def _check_number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(f"option {name!r} must be a number of seconds, not {type(value).__name__}")
    low, high = _LIMITS[name]
    if not low <= value <= high:  # also rejects NaN
        raise ConfigurationError(f"option {name!r} must be between {low} and {high} seconds, got {value}")


def _check_log_level(value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ConfigurationError(f"option 'log_level' must be a logging level or its name, not {type(value).__name__}")
    if isinstance(value, str) and not isinstance(logging.getLevelName(value.upper()), int):
        raise ConfigurationError(f"option 'log_level' names no logging level: {value!r}")


class ProxyOptions(TypedDict, total=False):
    """Keyword options of :func:`pyodide_opfs.mount_proxy` (for type checkers)."""

    busy_timeout: float
    timeout: float
    release_delay: float
    buffer_size: int
    log_level: int | str


@dataclass(frozen=True)
class ProxyConfig:
    #: Seconds the proxy keeps retrying when another tab or worker holds a file (open, unlink,
    #: rename), with backoff; then the call fails with EBUSY.
    busy_timeout: float = 5.0
    #: Seconds the filesystem waits for one answer from the proxy worker before it fails with
    #: EIO (a crashed or hung proxy). Must exceed ``busy_timeout``.
    timeout: float = 15.0
    #: Seconds a closed file's SyncAccessHandle stays open in the proxy: a reopen within it
    #: costs nothing; other tabs wait that long (plus their backoff) for the file.
    release_delay: float = 0.05
    #: Bytes of the shared buffer that carries file data (largest chunk per round trip).
    buffer_size: int = 1024 * 1024
    #: Level of the "pyodide_opfs" logger (a logging level or its name); None leaves it alone.
    log_level: int | str | None = None


def parse_proxy_options(options: Mapping[str, Any]) -> ProxyConfig:
    """Validate keyword options of ``mount_proxy`` into a :class:`ProxyConfig`."""
    valid = {f.name for f in fields(ProxyConfig)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigurationError(
            f"unknown option(s) {', '.join(map(repr, unknown))}; valid options: {', '.join(sorted(valid))}"
        )
    values = dict(options)
    for name in ("busy_timeout", "timeout", "release_delay"):
        if name in values:
            _check_number(name, values[name])
    if "buffer_size" in values:
        _check_int("buffer_size", values["buffer_size"])
    if "log_level" in values:
        _check_log_level(values["log_level"])
    config = ProxyConfig(**values)
    if config.timeout <= config.busy_timeout:
        raise ConfigurationError(
            f"option 'timeout' ({config.timeout} s) must exceed 'busy_timeout' ({config.busy_timeout} s): "
            "a request may wait busy_timeout for another tab before it answers"
        )
    return config


def check_root(value: object) -> str:
    """The proxy's OPFS root directory: "" (the origin's OPFS root) or a relative path "a/b"."""
    if not isinstance(value, str):
        raise ConfigurationError(f"root must be a str, not {type(value).__name__}")
    parts = value.split("/")
    if value and (any(p in ("", ".", "..") for p in parts) or "\\" in value or "\0" in value):
        raise ConfigurationError(
            f"root must be '' (the OPFS root) or a relative OPFS path like 'app' or 'app/data' "
            f"(no empty, '.' or '..' parts, no backslash or NUL): {value!r}"
        )
    return value
