"""The proxy backend, Python side: the installer (:func:`mount_proxy`) and :class:`ProxyMount`.

Files and directories under the mount are real OPFS entries under ``root`` with their own names
(other OPFS code and the browser's storage tools see them), with no pool to size. A helper module
worker (``js/proxy_worker.mjs``) performs the asynchronous OPFS calls; the filesystem in the
Pyodide worker (``js/proxy_client.mjs``) blocks on a SharedArrayBuffer for each answer, which
needs cross-origin isolation. See ``docs/proxy.md`` for the design and its measured costs.
"""

from __future__ import annotations

import time
from typing import Any, Unpack

from . import compat
from .environment import check_cross_origin_isolation, check_mountpoint, check_worker_environment
from .errors import MountError, OpfsError, PoolClosedError, UnsupportedEnvironmentError
from .jsloader import import_module, module_url
from .log import logger, set_level
from .options import ProxyConfig, ProxyOptions, check_root, parse_proxy_options

__all__ = ["mount_proxy", "ProxyMount"]



async def mount_proxy(
    mountpoint: str = "/data", root: str = "", proxy_uri: str | None = None, **options: Unpack[ProxyOptions]
) -> "ProxyMount":
    """Mount the OPFS directory ``root`` ("" = the origin's OPFS root, "a/b" nests; created if
    missing) at ``mountpoint`` through a proxy worker, and return the mount.

    ``proxy_uri`` overrides the URL of the proxy worker module (by default the copy shipped in
    the wheel, loaded as a ``blob:`` URL); it must be served with its sibling
    ``proxy_protocol.mjs``. Options (keyword, validated first): ``busy_timeout``, ``timeout``,
    ``release_delay``, ``buffer_size``, ``log_level``; see :class:`pyodide_opfs.options.ProxyConfig`.

    Raises UnsupportedEnvironmentError (not a dedicated worker, no OPFS, or no cross-origin
    isolation: the page needs the headers ``Cross-Origin-Opener-Policy: same-origin`` and
    ``Cross-Origin-Embedder-Policy: require-corp``), ConfigurationError, MountError, or
    OpfsError when the proxy worker cannot start.
    """
    config = parse_proxy_options(options)
    root = check_root(root)
    if proxy_uri is not None and (not isinstance(proxy_uri, str) or not proxy_uri):
        raise MountError(f"proxy_uri must be a non-empty URL string, got {proxy_uri!r}")
    set_level(config.log_level)
    check_worker_environment()
    check_cross_origin_isolation()
    import pyodide_js

    mountpoint = check_mountpoint(pyodide_js.FS, mountpoint)  # also refuses one already mounted
    started = time.monotonic()
    module = await import_module("proxy_mount.mjs")
    worker_url = proxy_uri if proxy_uri is not None else module_url("proxy_worker.mjs")
    settings = compat.to_js_object({
        "workerUrl": worker_url,
        "root": root,
        "mountpoint": mountpoint,
        "timeoutMs": config.timeout * 1000,
        "busyTimeoutMs": config.busy_timeout * 1000,
        "releaseDelayMs": config.release_delay * 1000,
        "dataBytes": config.buffer_size,
    })
    try:
        controller = await module.ProxyController.start(compat.filesystem_env(), settings)
    except Exception as e:
        name = str(getattr(e, "name", "") or getattr(getattr(e, "js_error", None), "name", ""))
        message = str(getattr(e, "message", e))
        if name == "UnsupportedEnvironmentError":
            raise UnsupportedEnvironmentError(message) from e
        raise OpfsError(message) from e
    mount = ProxyMount(controller, mountpoint, root, config)
    logger.info("mounted OPFS %r at %s through a proxy worker, %.0f ms",
                root or "/", mountpoint, (time.monotonic() - started) * 1000)
    return mount


class ProxyMount:
    """A mounted OPFS directory served by a proxy worker."""

    def __init__(self, controller: Any, mountpoint: str, root: str, config: ProxyConfig) -> None:
        self._js = controller
        self._mountpoint = mountpoint
        self._root = root
        self._config = config
        self._closed = False
        try:
            controller.mount()
        except BaseException:
            controller.unmount()
            raise

    @property
    def mountpoint(self) -> str:
        return self._mountpoint

    @property
    def root(self) -> str:
        """The OPFS directory under the mount ("" = the origin's OPFS root)."""
        return self._root

    @property
    def config(self) -> ProxyConfig:
        return self._config

    @property
    def broken(self) -> str:
        """Why the proxy is considered dead (it did not answer in time), or ""."""
        return str(self._live().broken or "")

    @property
    def open_file_count(self) -> int:
        return int(self._live().openFileCount)

    @property
    def last_error(self) -> dict[str, str] | None:
        """The hint behind the last OSError that had one ({errno, message}); cleared by reading."""
        e = self._live().takeLastError()
        return None if e is None else {"errno": str(e.errno), "message": str(e.message)}

    def io_stats(self) -> list[dict[str, Any]]:
        """Per file (by path under the mount), counted at the SyncAccessHandle in the proxy:
        {name, path, writes, flushes, unflushed}. Sends queued writes first."""
        return [
            {"name": str(s.path), "path": str(s.path), "writes": int(s.writes), "flushes": int(s.flushes),
             "unflushed": bool(s.unflushed)}
            for s in self._call(self._live().stats).files
        ]

    def proxy_timing(self) -> dict[str, dict[str, float]]:
        """Time the proxy spent serving each kind of request since mount:
        {op: {n, ms, batch_ms}} (batch_ms: applying the queued writes that came with it)."""
        timing = self._call(self._live().stats).timing.to_py()
        return {str(k): {"n": int(v["n"]), "ms": float(v["ms"]), "batch_ms": float(v["batchMs"])}
                for k, v in timing.items()}

    def rpc_stats(self) -> dict[str, Any]:
        """Round trips to the proxy since mount: {round_trips, by_op: {op: n}, queued_writes}."""
        s = self._live().rpcStats()
        return {"round_trips": int(s.roundTrips), "by_op": {str(k): int(v) for k, v in s.byOp.to_py().items()},
                "queued_writes": int(s.queuedWrites)}

    def start_io_trace(self) -> None:
        """Record every handle call in the proxy until :meth:`stop_io_trace`."""
        self._call(self._live().startTrace)

    def stop_io_trace(self) -> list[dict[str, Any]]:
        """The recorded handle calls: {op: write|truncate|flush, path, others_unflushed}."""
        return [
            {"op": str(e.op), "path": str(e.path), "others_unflushed": [str(p) for p in e.othersUnflushed]}
            for e in self._call(self._live().stopTrace)
        ]

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except Exception as e:
            hint = self._js.takeLastError()
            raise OpfsError(str(hint.message) if hint is not None else str(e)) from e

    async def estimate(self) -> dict[str, int]:
        """The origin's storage quota and usage in bytes (navigator.storage.estimate)."""
        import js

        e = await js.navigator.storage.estimate()
        return {"quota": int(e.quota or 0), "usage": int(e.usage or 0)}

    async def unmount(self) -> None:
        """Flush, close every handle, unmount and stop the proxy worker. Data stays in OPFS.
        Idempotent; also works (without flushing) when the proxy is dead."""
        if self._closed:
            return
        self._closed = True
        problem = self._js.unmount()
        if problem:
            logger.warning("unmounting %s: %s", self._mountpoint, problem)

    def _live(self) -> Any:
        if self._closed:
            raise PoolClosedError(f"the proxy mount at {self._mountpoint} was unmounted")
        return self._js

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("broken" if self._js.broken else "mounted")
        return f"<ProxyMount OPFS {self._root or '/'!r} at {self._mountpoint}: {state}>"
