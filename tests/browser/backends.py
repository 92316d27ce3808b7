"""Which filesystem the browser suites run against, and the Python that mounts it.

``PYODIDE_OPFS_TEST_BACKENDS`` (comma-separated) picks them; the default is every real backend.
``memfs`` mounts Emscripten's in-memory filesystem instead: the suites must FAIL on it (that is
how we know they test persistence, not just file semantics).
"""

from __future__ import annotations

import os

REAL_BACKENDS = ("sahpool", "proxy")
#: Options of mount_sahpool that mean nothing to mount_proxy (dropped for it).
POOL_ONLY_OPTIONS = ("capacity", "spare_slots", "clear_on_init", "directory")
ALL_BACKENDS = REAL_BACKENDS + ("memfs",)


def selected() -> list[str]:
    raw = os.environ.get("PYODIDE_OPFS_TEST_BACKENDS", "")
    names = [n.strip() for n in raw.split(",") if n.strip()] or list(REAL_BACKENDS)
    unknown = [n for n in names if n not in ALL_BACKENDS]
    if unknown:
        raise ValueError(f"unknown backend(s) {unknown}; choose from {ALL_BACKENDS}")
    return names


def mount_code(backend: str, mountpoint: str = "/data", var: str = "pool", **options: object) -> str:
    """Python (for the worker) that mounts ``backend`` at ``mountpoint`` into the variable ``var``."""
    opts = "".join(f", {k}={v!r}" for k, v in options.items())
    if backend == "sahpool":
        return f"import pyodide_opfs\n{var} = await pyodide_opfs.mount_sahpool({mountpoint!r}{opts})\n"
    if backend == "proxy":
        opts = "".join(f", {k}={v!r}" for k, v in options.items() if k not in POOL_ONLY_OPTIONS)
        return f"import pyodide_opfs\n{var} = await pyodide_opfs.mount_proxy({mountpoint!r}{opts})\n"
    if backend == "memfs":
        return (
            "import pyodide_js\n"
            f"pyodide_js.FS.mkdirTree({mountpoint!r})\n"
            f"pyodide_js.FS.mount(pyodide_js.FS.filesystems.MEMFS, {{}}, {mountpoint!r})\n"
            f"class _MemPool:\n"
            f"    async def unmount(self): pyodide_js.FS.unmount({mountpoint!r})\n"
            f"{var} = _MemPool()\n"
        )
    raise ValueError(backend)
