"""Environment checks, run before anything touches storage. Each failure says what is missing
and how to fix it."""

from __future__ import annotations

from typing import Any

from .compat import check_pyodide_version
from .errors import MountError, UnsupportedEnvironmentError

__all__ = [
    "check_worker_environment",
    "check_cross_origin_isolation",
    "check_mountpoint",
    "check_sync_access_handle",
    "opfs_refused",
]


def _global_scope_name(js: Any) -> str:
    try:
        return str(js.globalThis.constructor.name)
    except Exception:
        return "unknown"


def check_worker_environment() -> None:
    """A dedicated worker of a secure context with OPFS SyncAccessHandles, on a supported Pyodide."""
    try:
        import js
    except ImportError as e:
        raise UnsupportedEnvironmentError("pyodide_opfs runs only inside Pyodide (no `js` module here)") from e
    scope = _global_scope_name(js)
    if scope != "DedicatedWorkerGlobalScope":
        where = {
            "Window": "the page's main thread",
            "SharedWorkerGlobalScope": "a shared worker",
            "ServiceWorkerGlobalScope": "a service worker",
        }.get(scope, f"a {scope} global scope")
        raise UnsupportedEnvironmentError(
            f"pyodide_opfs must run in a dedicated Web Worker, not in {where}: OPFS SyncAccessHandles "
            "exist only there. Load Pyodide in `new Worker(url, {type: 'module'})`."
        )
    if not getattr(js, "isSecureContext", False):
        raise UnsupportedEnvironmentError(
            "OPFS needs a secure context: serve the page over https:// or from http://localhost / 127.0.0.1."
        )
    storage = getattr(js.navigator, "storage", None)
    if storage is None or not hasattr(storage, "getDirectory"):
        raise UnsupportedEnvironmentError(
            "this browser has no Origin Private File System (navigator.storage.getDirectory); "
            "use a current Chromium, Firefox (not in private mode) or Safari."
        )
    handle_class = getattr(js, "FileSystemFileHandle", None)
    if handle_class is None or not hasattr(handle_class.prototype, "createSyncAccessHandle"):
        raise UnsupportedEnvironmentError(
            "this browser has OPFS but no FileSystemFileHandle.createSyncAccessHandle "
            "(needed for synchronous file I/O); use a current Chromium, Firefox or Safari."
        )
    check_pyodide_version()


def check_sync_access_handle(sah: Any) -> None:
    """The handle's methods must be synchronous. Browsers that implemented an early draft of the
    standard (Safari before 16.4, Chromium before 108) return Promises from getSize(), truncate(),
    flush() and close(): a filesystem cannot work on those."""
    size = sah.getSize()
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise UnsupportedEnvironmentError(
            "this browser's FileSystemSyncAccessHandle methods are asynchronous (an early draft of the "
            "File System standard: Safari before 16.4, Chromium before 108); pyodide_opfs needs the "
            "synchronous ones. Update the browser (Chromium 108+, Firefox 111+, Safari 16.4+)."
        )


def opfs_refused(error: BaseException) -> UnsupportedEnvironmentError:
    """The error for a browser that has OPFS but refuses it to this page (SecurityError)."""
    return UnsupportedEnvironmentError(
        "the browser refused access to the Origin Private File System (navigator.storage.getDirectory "
        f"failed with SecurityError: {error}). Firefox does this in private windows; browsers also do it "
        "when site data is blocked for the page. Use a normal window and allow site data."
    )


def check_cross_origin_isolation() -> None:
    """SharedArrayBuffer, which the proxy backend blocks on, needs cross-origin isolation."""
    import js

    if not getattr(js, "crossOriginIsolated", False) or not hasattr(js, "SharedArrayBuffer"):
        raise UnsupportedEnvironmentError(
            "the proxy backend needs SharedArrayBuffer, which needs cross-origin isolation: serve the page "
            "with the headers `Cross-Origin-Opener-Policy: same-origin` and "
            "`Cross-Origin-Embedder-Policy: require-corp` (or use mount_sahpool, which needs neither)."
        )


def check_mountpoint(FS: Any, mountpoint: str) -> str:
    """Absolute, not the root, not already a mountpoint, and (if it exists) an empty directory.
    Returns the mountpoint without a trailing slash."""
    if not isinstance(mountpoint, str) or not mountpoint.startswith("/") or mountpoint.rstrip("/") == "":
        raise MountError(f"mountpoint must be an absolute path other than '/', got {mountpoint!r}")
    if any(part in (".", "..") for part in mountpoint.split("/")) or "\0" in mountpoint:
        raise MountError(f"mountpoint must not contain '.', '..' or NUL: {mountpoint!r}")
    try:
        node = FS.lookupPath(mountpoint, follow_mount=False).node
    except Exception:
        return mountpoint.rstrip("/")  # does not exist yet: the installer creates it
    if FS.isMountpoint(node):
        raise MountError(f"{mountpoint} is already a mountpoint; unmount it first")
    if not FS.isDir(node.mode):
        raise MountError(f"mountpoint {mountpoint} exists and is not a directory")
    entries = [name for name in FS.readdir(mountpoint) if name not in (".", "..")]
    if entries:
        raise MountError(
            f"mountpoint {mountpoint} is not empty ({len(entries)} entries, e.g. {entries[0]!r}); "
            "its files would be hidden by the mount. Use an empty or new directory."
        )
    return mountpoint.rstrip("/")
