"""Asynchronous OPFS calls made from Python through the JS FFI: directories, entries, and
SyncAccessHandles acquired with a bounded wait when another context holds them."""

from __future__ import annotations

import asyncio
import secrets
import string
import time
from typing import Any

from .environment import check_sync_access_handle, opfs_refused
from .errors import PoolBusyError
from .log import logger

__all__ = ["open_directory", "list_files", "acquire_handle", "create_file", "remove_entry", "random_name"]

#: DOMException name when another context holds a handle on the file.
BUSY = "NoModificationAllowedError"
_ALPHABET = string.ascii_lowercase + string.digits


def random_name() -> str:
    """A new pool file name (sqlite-wasm uses random base-36 names too)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(16))


async def open_directory(path: str, create: bool = True) -> Any:
    """The FileSystemDirectoryHandle of ``path`` ("a/b") under the origin's OPFS root."""
    import js

    try:
        handle = await js.navigator.storage.getDirectory()
    except Exception as e:  # the API exists but the browser refuses it (e.g. a private window)
        if _dom_name(e) == "SecurityError" or "SecurityError" in str(e):
            raise opfs_refused(e) from e
        raise
    for part in path.split("/"):
        handle = await handle.getDirectoryHandle(part, create=create)
    return handle


async def list_files(directory: Any) -> list[tuple[str, Any]]:
    """(name, FileSystemFileHandle) of every file directly in ``directory``, sorted by name."""
    out: list[tuple[str, Any]] = []
    entries = directory.entries()
    while True:
        step = await entries.next()
        if step.done:
            break
        name, handle = step.value
        if handle.kind == "file":
            out.append((str(name), handle))
    return sorted(out, key=lambda item: item[0])


def _dom_name(error: BaseException) -> str:
    return str(getattr(error, "name", "") or getattr(getattr(error, "js_error", None), "name", "") or "")


async def acquire_handle(file: Any, deadline: float, directory: str) -> Any:
    """createSyncAccessHandle, retried with backoff while another context holds the file and
    until ``deadline`` (time.monotonic()); then PoolBusyError. Never changes anything on disk."""
    delay = 0.02
    started = time.monotonic()
    while True:
        try:
            sah = await file.createSyncAccessHandle()
        except Exception as e:  # a JsException carrying a DOMException
            if _dom_name(e) != BUSY and BUSY not in str(e):
                raise
            now = time.monotonic()
            if now >= deadline:
                raise PoolBusyError(directory, now - started, f"file {file.name}: {e}") from e
            logger.debug("pool file %s busy; retrying in %.2f s", file.name, delay)
            await asyncio.sleep(min(delay, max(0.0, deadline - now)))
            delay = min(delay * 2, 0.25)
            continue
        try:
            check_sync_access_handle(sah)
        except BaseException:
            sah.close()
            raise
        return sah


async def create_file(directory: Any, name: str) -> Any:
    """Create (or open) the file ``name`` in ``directory``; returns its FileSystemFileHandle."""
    return await directory.getFileHandle(name, create=True)


async def remove_entry(directory: Any, name: str) -> None:
    await directory.removeEntry(name)
