# The demo app's Python side. worker.mjs runs this file once after installing pyodide-opfs and
# calls dispatch(op, args, progress) for each request of the page. Every op returns JSON-able
# data (or, for "export", a Uint8Array); dispatch turns any exception into an error reply.

import inspect
import json
import os
import time
import traceback

import js
import pyodide_opfs
from pyodide.code import eval_code_async
from pyodide.ffi import to_js

MOUNT = "/data"
VISITS = MOUNT + "/visits.json"
CHUNK = 1 << 20  # bytes read from an imported File at a time
SQLITE_MAGIC = b"SQLite format 3\x00"

pool = None
user_ns = {"__name__": "__main__"}


def _stats():
    if pool is None:
        return None
    paused = pool.is_paused
    return {
        "capacity": pool.capacity,
        "used": pool.file_count,
        "free": pool.free_count,
        "paused": paused,
        "quarantined": len(pool.quarantined),
        "directory": pool.directory,
    }


def _need_pool():
    if pool is None:
        raise RuntimeError("the storage is not mounted")
    return pool


def _path(name):
    """A path under the mount from a name the page sent ("notes/a.txt" or "/data/notes/a.txt")."""
    name = str(name)
    full = os.path.normpath(name if name.startswith("/") else os.path.join(MOUNT, name))
    if not full.startswith(MOUNT + "/"):
        raise ValueError(f"{name!r} is not under {MOUNT}")
    return full


# --- ops -------------------------------------------------------------------------------------


async def mount(options=None):
    global pool
    if pool is None:
        opts = dict(options.to_py()) if options is not None else {}
        pool = await pyodide_opfs.mount_sahpool(MOUNT, **opts)
        user_ns.update(pool=pool, pyodide_opfs=pyodide_opfs)
        os.chdir(MOUNT)
    return _stats()


def visit():
    """Count this page load in /data/visits.json (so a reload shows persistence)."""
    now = int(time.time() * 1000)
    data = {"count": 0, "first": now}
    try:
        with open(VISITS, encoding="utf-8") as f:
            loaded = json.load(f)
        if isinstance(loaded, dict) and isinstance(loaded.get("count"), int):
            data = loaded
    except (FileNotFoundError, ValueError):
        pass
    data["count"] += 1
    data["last"] = now
    with open(VISITS, "w", encoding="utf-8") as f:
        json.dump(data, f)
    return data


def _user_traceback(exc):
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != "<editor>":
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


async def run(code):
    """Run the editor's code in one namespace kept across runs (like a console)."""
    started = time.perf_counter()
    try:
        result = await eval_code_async(str(code), user_ns, filename="<editor>")
        error = None
    except BaseException as exc:  # noqa: BLE001 - shown to the user, like a console would
        result, error = None, _user_traceback(exc)
    return {
        "repr": None if result is None else repr(result),
        "error": error,
        "ms": (time.perf_counter() - started) * 1000,
    }


def listing():
    """Every file and directory under the mount: {path, kind, size, mtime (ms)}."""
    p = _need_pool()
    entries = []
    if not p.is_paused:
        for root, dirs, files in os.walk(MOUNT):
            dirs.sort()
            for name in dirs + sorted(files):
                full = os.path.join(root, name)
                st = os.stat(full)
                entries.append({
                    "path": os.path.relpath(full, MOUNT),
                    "kind": "dir" if name in dirs else "file",
                    "size": st.st_size,
                    "mtime": int(st.st_mtime * 1000),
                })
    return {"entries": entries, "pool": _stats()}


def export(name):
    """The bytes of a stored file, as a Uint8Array the worker hands to the page without a copy."""
    p = _need_pool()
    path = _path(name)
    data = p.export_file(path)
    array = js.Uint8Array.new(len(data))
    array.assign(data)
    return {"name": os.path.basename(path), "size": len(data), "data": array}


async def import_file(file, name, progress):
    """Store a browser File under the mount: through import_db (validated, atomic) when it is an
    SQLite database, else written to a temporary file and renamed. Reads it in 1 MiB slices."""
    p = _need_pool()
    path = _path(name)
    total = int(file.size)

    async def chunks():
        pos = 0
        while pos < total:
            buf = await file.slice(pos, min(pos + CHUNK, total)).arrayBuffer()
            data = buf.to_bytes()
            pos += len(data)
            yield data

    head = (await file.slice(0, 16).arrayBuffer()).to_bytes()
    progress(0, total)
    if head == SQLITE_MAGIC:
        size = await p.import_db(path, chunks(), progress=lambda done: progress(done, total))
        kind = "database"
    else:
        temporary = path + ".part"
        size = 0
        try:
            with open(temporary, "wb") as out:
                async for chunk in chunks():
                    out.write(chunk)
                    size += len(chunk)
                    progress(size, total)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        kind = "file"
    return {"path": os.path.relpath(path, MOUNT), "size": size, "kind": kind}


def delete(name):
    path = _path(name)
    if os.path.isdir(path):
        os.rmdir(path)  # only empty directories
    else:
        _need_pool().unlink(path)
    return None


async def add_capacity(n):
    await _need_pool().add_capacity(int(n))
    return _stats()


async def reduce_capacity(n):
    removed = await _need_pool().reduce_capacity(int(n))
    return {"removed": removed, "pool": _stats()}


def pause():
    _need_pool().pause()
    return _stats()


async def unpause():
    await _need_pool().unpause()
    return _stats()


OPS = {
    f.__name__: f
    for f in (mount, visit, run, listing, export, import_file, delete, add_capacity, reduce_capacity, pause, unpause)
}


async def dispatch(op, args, progress):
    try:
        fn = OPS[str(op)]
        call_args = list(args)
        if fn is import_file:
            call_args.append(progress)
        value = fn(*call_args)
        if inspect.isawaitable(value):
            value = await value
        reply = {"ok": True, "value": value}
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the page
        reply = {
            "ok": False,
            "errorType": type(exc).__name__,
            "error": str(exc) or type(exc).__name__,
            "traceback": "".join(traceback.format_exception(exc)),
        }
        errno = getattr(exc, "errno", None)
        if errno is not None:
            reply["errno"] = errno
            try:
                hint = pool.last_error if pool is not None else None
            except pyodide_opfs.OpfsError:
                hint = None
            if hint:
                reply["hint"] = hint["message"]
    return to_js(reply, dict_converter=js.Object.fromEntries, create_pyproxies=False)
