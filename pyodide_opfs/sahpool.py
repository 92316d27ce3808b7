"""The SAH pool backend, Python side: the installer (:func:`mount_sahpool`) and the pool
management API (:class:`SAHPool`). Python does the asynchronous OPFS work through the JS FFI;
the synchronous filesystem itself is JS (``js/pool_mount.mjs`` and below)."""

from __future__ import annotations

import asyncio
import os
import posixpath
import time
from typing import Any, AsyncIterable, AsyncIterator, Callable, Iterable, Unpack

from . import compat, opfs
from .environment import check_mountpoint, check_worker_environment
from .errors import OpfsError, PoolClosedError
from .jsloader import import_module
from .log import logger, set_level
from .options import PoolConfig, SAHPoolOptions, parse_pool_options
from .sqlite_format import check_database_header, check_database_size, normalise_journal_mode_bytes

__all__ = ["mount_sahpool", "SAHPool"]

OPAQUE_DIR = ".opaque"  # sqlite-wasm keeps pool files here, under the pool directory


async def mount_sahpool(mountpoint: str = "/data", **options: Unpack[SAHPoolOptions]) -> "SAHPool":
    """Mount the OPFS SyncAccessHandle pool at ``mountpoint`` and return it.

    Options (all keyword, validated before anything touches storage): ``directory``,
    ``capacity``, ``clear_on_init``, ``spare_slots``, ``busy_timeout``, ``log_level``; see
    :class:`pyodide_opfs.options.PoolConfig`. Raises UnsupportedEnvironmentError,
    ConfigurationError, MountError or PoolBusyError (after ``busy_timeout`` seconds; nothing on
    disk is changed or deleted when the pool is busy).
    """
    config = parse_pool_options(options)
    set_level(config.log_level)
    check_worker_environment()
    import pyodide_js

    mountpoint = check_mountpoint(pyodide_js.FS, mountpoint)  # also refuses one already mounted
    started = time.monotonic()
    module = await import_module("pool_mount.mjs")
    directory = await opfs.open_directory(config.directory)
    opaque = await directory.getDirectoryHandle(OPAQUE_DIR, create=True)
    handles = dict(await opfs.list_files(opaque))
    files = await _acquire(handles, config, time.monotonic() + config.busy_timeout)
    try:
        missing = config.capacity - len(files)
        if missing > 0:
            files += await _create_files(opaque, handles, missing, config)
        pool = SAHPool(module, mountpoint, config, opaque, handles, files)
    except BaseException:
        _close_handles(files)
        raise
    try:
        if config.clear_on_init:
            pool._js.wipe()
        await pool._refresh_mtimes()
    except BaseException:
        await pool.unmount()
        raise
    logger.info(
        "mounted OPFS pool %r at %s: %d files, capacity %d, %.0f ms",
        config.directory, mountpoint, pool.file_count, pool.capacity, (time.monotonic() - started) * 1000,
    )
    quarantined = pool.quarantined
    if quarantined:
        logger.warning("%d pool file(s) quarantined: %s", len(quarantined), quarantined)
    return pool


async def _acquire(handles: dict[str, Any], config: PoolConfig, deadline: float) -> list[dict[str, Any]]:
    """A SyncAccessHandle on every pool file, or PoolBusyError with every acquired one released."""
    files: list[dict[str, Any]] = []
    try:
        for name, handle in handles.items():
            sah = await opfs.acquire_handle(handle, deadline, config.directory)
            files.append({"name": name, "sah": sah, "mtime": 0})
    except BaseException:
        _close_handles(files)
        raise
    return files


async def _create_files(opaque: Any, handles: dict[str, Any], count: int, config: PoolConfig) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    try:
        for _ in range(count):
            name = opfs.random_name()
            handle = await opfs.create_file(opaque, name)
            sah = await opfs.acquire_handle(handle, time.monotonic() + config.busy_timeout, config.directory)
            handles[name] = handle
            files.append({"name": name, "sah": sah, "mtime": 0})
    except BaseException:
        _close_handles(files)
        raise
    return files


def _close_handles(files: Iterable[dict[str, Any]]) -> None:
    for f in files:
        try:
            f["sah"].close()
        except Exception:  # already closed
            pass


class SAHPool:
    """A mounted SAH pool. Paths given to its methods are paths under the mount as Python sees
    them ("/data/app.db") or relative to the mount ("app.db")."""

    def __init__(
        self, module: Any, mountpoint: str, config: PoolConfig, opaque: Any, handles: dict[str, Any],
        files: list[dict[str, Any]],
    ) -> None:
        import pyodide_js
        from pyodide.ffi import create_proxy

        self._mountpoint = mountpoint
        self._config = config
        self._opaque = opaque
        self._handles = handles  # OPFS name -> FileSystemFileHandle
        self._refill_task: asyncio.Future[Any] | None = None
        self._on_low_spare = create_proxy(self._schedule_refill)
        self._js = module.PoolMount.new(
            compat.filesystem_env(), compat.to_js_list(files), mountpoint, config.spare_slots, self._on_low_spare
        )
        self._js.mount()
        self._closed = False
        self._fs = pyodide_js.FS

    # --- properties ---

    @property
    def mountpoint(self) -> str:
        return self._mountpoint

    @property
    def directory(self) -> str:
        """The pool's OPFS directory."""
        return self._config.directory

    @property
    def capacity(self) -> int:
        """Pool files held: each stores one file or directory."""
        return int(self._live().capacity)

    @property
    def file_count(self) -> int:
        """Slots in use (files and directories; not free, not quarantined)."""
        return int(self._live().fileCount)

    @property
    def free_count(self) -> int:
        return int(self._live().freeCount)

    @property
    def is_paused(self) -> bool:
        return bool(self._live().paused)

    @property
    def closed(self) -> bool:
        """True after :meth:`unmount`."""
        return self._closed

    @property
    def open_file_count(self) -> int:
        """Stored files open right now (``pause()`` needs this to be 0)."""
        return int(self._live().openFileCount)

    @property
    def quarantined(self) -> list[dict[str, str]]:
        """Pool files we could not read and will not touch: [{name, reason, path}]."""
        return [{str(k): str(v) for k, v in q.to_py().items()} for q in self._live().quarantined()]

    @property
    def last_error(self) -> dict[str, str] | None:
        """The hint behind the last OSError that had one ({errno, message}); cleared by reading."""
        e = self._live().takeLastError()
        return None if e is None else {"errno": str(e.errno), "message": str(e.message)}

    def file_names(self) -> list[str]:
        """Paths (under the mountpoint) of every stored file, sorted."""
        return [self._mountpoint + str(p) for p in self._live().fileNames()]

    def stored_names(self) -> list[str]:
        """Paths as stored in the pool headers ("/app.db"): what sqlite-wasm's getFileNames shows."""
        return [str(p) for p in self._live().fileNames()]

    def io_stats(self) -> list[dict[str, Any]]:
        """Per pool file: {name, path, writes, flushes, unflushed}, counted at the handle."""
        return [
            {"name": str(s.name), "path": str(s.path), "writes": int(s.writes), "flushes": int(s.flushes),
             "unflushed": bool(s.unflushed)}
            for s in self._live().stats()
        ]

    def start_io_trace(self) -> None:
        """Record every handle call until :meth:`stop_io_trace` (diagnostics and tests)."""
        self._live().startTrace()

    def stop_io_trace(self) -> list[dict[str, Any]]:
        """The recorded handle calls: {op: write|truncate|flush|header, path, others_unflushed}."""
        return [
            {"op": str(e.op), "path": str(e.path), "others_unflushed": [str(p) for p in e.othersUnflushed]}
            for e in self._live().stopTrace()
        ]

    # --- capacity ---

    async def add_capacity(self, n: int) -> int:
        """Add ``n`` pool files; returns the new capacity."""
        _check_count("n", n)
        self._not_paused("add_capacity")  # before creating files: none may be left behind
        files = await _create_files(self._opaque, self._handles, n, self._config)
        if self._closed or self._js.paused:
            # Paused or unmounted while we waited: these handles would lock the pool against the
            # context we handed it to (and against our own unpause). The new files stay, free.
            _close_handles(files)
            self._not_paused("add_capacity")
        self._js.addFiles(compat.to_js_list(files))
        return self.capacity

    async def reduce_capacity(self, n: int) -> int:
        """Remove up to ``n`` free pool files (never one in use); returns how many were removed."""
        _check_count("n", n)
        self._not_paused("reduce_capacity")
        removed = 0
        for f in self._live().takeFree(n):
            f.sah.close()
            await opfs.remove_entry(self._opaque, str(f.name))
            self._handles.pop(str(f.name), None)
            removed += 1
        return removed

    async def reserve_minimum_capacity(self, n: int) -> int:
        """Grow the pool to at least ``n`` files; returns the capacity."""
        _check_count("n", n)
        if self.capacity < n:
            await self.add_capacity(n - self.capacity)
        return self.capacity

    def _schedule_refill(self) -> None:
        if self._closed or (self._refill_task is not None and not self._refill_task.done()):
            return
        self._refill_task = asyncio.ensure_future(self._refill())

    async def _refill(self) -> None:
        await self._recycle()
        missing = self._config.spare_slots - int(self._js.freeCount)
        if missing > 0 and not self._closed and not self.is_paused:
            await self.add_capacity(missing)
            logger.debug("spare slots refilled: capacity %d", self.capacity)

    async def _recycle(self) -> None:
        """Reopen the handles of freed slots: the browser gives a SyncAccessHandle's quota back
        only when the handle closes, so without this a deleted file's space stays unusable for
        other files until the pool is unmounted or paused."""
        if self._closed or self.is_paused:
            return
        taken = list(self._js.takeRecyclable())
        if not taken:
            return
        _close_handles({"sah": f.sah} for f in taken)
        files: list[dict[str, Any]] = []
        try:
            for f in taken:
                name = str(f.name)
                try:
                    sah = await opfs.acquire_handle(
                        self._handles[name], time.monotonic() + self._config.busy_timeout, self._config.directory
                    )
                except Exception as e:  # stays in OPFS; the next mount or unpause picks it up
                    logger.warning("could not reopen pool file %s after freeing it: %s", name, e)
                    continue
                files.append({"name": name, "sah": sah, "mtime": 0})
        except BaseException:
            _close_handles(files)
            raise
        if self._closed or self.is_paused:
            _close_handles(files)
        elif files:
            self._js.addFiles(compat.to_js_list(files))

    # --- files ---

    def _path(self, path: str) -> str:
        """A path under the mount as Python sees it."""
        if not isinstance(path, str):
            raise TypeError(f"path must be a str, not {type(path).__name__}")
        full = posixpath.normpath(path if path.startswith("/") else posixpath.join(self._mountpoint, path))
        if not full.startswith(self._mountpoint + "/"):
            raise ValueError(f"{path!r} is not under the mount {self._mountpoint}")
        return full

    def export_file(self, path: str) -> bytes:
        """The contents of a stored file (e.g. a database to download)."""
        self._live()
        with open(self._path(path), "rb") as f:
            return f.read()

    async def export_chunks(self, path: str, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        """The contents of a stored file in chunks, for files too large to hold in memory."""
        self._live()
        _check_count("chunk_size", chunk_size)
        if chunk_size == 0:
            raise ValueError("chunk_size must be positive")
        with open(self._path(path), "rb") as f:
            while chunk := f.read(chunk_size):
                yield chunk
                await asyncio.sleep(0)  # let the page and the refill run between chunks

    async def import_db(
        self,
        path: str,
        data: bytes | bytearray | memoryview | AsyncIterable[bytes],
        progress: Callable[[int], Any] | None = None,
    ) -> int:
        """Store an SQLite database at ``path``; returns its size in bytes.

        ``data`` is the whole file or an async iterator of chunks (for large files);
        ``progress(bytes_so_far)`` is called after each chunk. The data is written to a temporary
        file and renamed over ``path`` only once it is complete and valid, so a failure
        (InvalidDatabaseError, OSError) leaves any existing file untouched.
        """
        self._live()
        target = self._path(path)
        for sidecar in (target + "-journal", target + "-wal"):
            # SQLite would roll a hot journal back (or replay a WAL) onto the imported database.
            if os.path.exists(sidecar):
                raise OpfsError(
                    f"{sidecar} exists: open and close {target} with sqlite3 first (or delete it "
                    "if the database is to be replaced), then import"
                )
        if isinstance(data, (bytes, bytearray, memoryview)):
            # Whole data at hand: reject it before anything touches storage.
            check_database_size(bytes(data[:100]), len(data))
        elif not hasattr(data, "__aiter__"):
            raise TypeError(f"data must be bytes or an async iterator of bytes, not {type(data).__name__}")
        temporary = f"{target}.import-{opfs.random_name()[:8]}"
        written = 0
        head = bytearray()
        try:
            with open(temporary, "wb") as out:
                async for chunk in _chunks(data):
                    if len(head) < 100:
                        head += chunk[: 100 - len(head)]
                        if len(head) >= 100:
                            check_database_header(bytes(head))
                    out.write(chunk)
                    written += len(chunk)
                    if progress is not None:
                        progress(written)
                check_database_size(bytes(head), written)
                fixed = normalise_journal_mode_bytes(bytes(head))
                if fixed is not None:
                    out.seek(18)
                    out.write(fixed)
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            try:
                os.unlink(temporary)
            except FileNotFoundError:
                pass
            raise
        return written

    def unlink(self, path: str) -> None:
        """Delete a stored file."""
        self._live()
        os.unlink(self._path(path))

    def wipe_files(self) -> None:
        """Delete every stored file and directory (quarantined pool files are left alone)."""
        self._live().wipe()

    async def forget_quarantined(self, name: str) -> None:
        """Delete a quarantined pool file (by its OPFS name, from :attr:`quarantined`) and
        replace it with a fresh free one. Its contents are lost: export them first if needed."""
        self._not_paused("forget_quarantined")
        taken = list(self._live().takeQuarantined(name))
        if not taken:
            raise KeyError(f"no quarantined pool file named {name!r}")
        for f in taken:
            f.sah.close()
            await opfs.remove_entry(self._opaque, str(f.name))
            self._handles.pop(str(f.name), None)
        await self.add_capacity(len(taken))

    # --- handing the pool to another context ---

    def pause(self) -> None:
        """Flush and release every handle so another tab or worker can mount the pool. The
        mount stays: file operations under it fail with EBUSY until :meth:`unpause` (they never
        fall through to memory). Close open files first, or this raises OpfsError."""
        js_pool = self._live()  # PoolClosedError as is, not wrapped below
        try:
            js_pool.pause()
        except Exception as e:
            raise OpfsError(str(getattr(e, "message", e))) from e

    async def unpause(self) -> None:
        """Re-acquire every handle (waiting up to ``busy_timeout``) and read the headers again."""
        js_pool = self._live()
        if not js_pool.paused:
            return
        self._handles = dict(await opfs.list_files(self._opaque))
        files = await _acquire(self._handles, self._config, time.monotonic() + self._config.busy_timeout)
        js_pool.unpause(compat.to_js_list(files))
        await self._refresh_mtimes()

    async def _refresh_mtimes(self) -> None:
        """Modification times of stored files come from OPFS (the pool header has none)."""
        for name in self._js.usedSlotNames():
            handle = self._handles.get(str(name))
            if handle is not None:
                self._js.setMtime(name, (await handle.getFile()).lastModified)

    # --- storage ---

    async def estimate(self) -> dict[str, int]:
        """The origin's storage quota and usage in bytes (navigator.storage.estimate)."""
        import js

        e = await js.navigator.storage.estimate()
        return {"quota": int(e.quota or 0), "usage": int(e.usage or 0)}

    async def request_persistence(self) -> bool:
        """Ask the browser not to evict this origin's storage; returns whether it is persistent.

        ``navigator.storage.persist()`` exists only on the page (Window), not in workers: here
        this returns ``navigator.storage.persisted()`` and logs that the page must ask."""
        import js

        storage = js.navigator.storage
        if hasattr(storage, "persist"):
            return bool(await storage.persist())
        persisted = bool(await storage.persisted())
        if not persisted:
            logger.info("storage is not persistent; call navigator.storage.persist() from the page to ask")
        return persisted

    async def unmount(self) -> None:
        """Flush, unmount, and release every handle. Data stays in OPFS. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._refill_task is not None and not self._refill_task.done():
            self._refill_task.cancel()
        try:
            self._js.unmount()  # releases every handle even when a final flush fails
        finally:
            self._on_low_spare.destroy()

    def _not_paused(self, what: str) -> None:
        if self._live().paused:
            raise OpfsError(f"{what}() needs the pool's handles: call `await pool.unpause()` first")

    def _live(self) -> Any:
        if self._closed:
            raise PoolClosedError(f"the pool mounted at {self._mountpoint} was unmounted")
        return self._js

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self.file_count}/{self.capacity} files"
        return f"<SAHPool {self._config.directory!r} at {self._mountpoint}: {state}>"


def _check_count(name: str, n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0 or n > 100_000:
        raise ValueError(f"{name} must be an int between 0 and 100000, got {n!r}")


async def _chunks(data: bytes | bytearray | memoryview | AsyncIterable[bytes]) -> AsyncIterable[bytes]:
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    if not hasattr(data, "__aiter__"):
        raise TypeError(f"data must be bytes or an async iterator of bytes, not {type(data).__name__}")
    async for chunk in data:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            raise TypeError(f"chunks must be bytes, not {type(chunk).__name__}")
        yield bytes(chunk)
