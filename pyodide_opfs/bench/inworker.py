"""The benchmark's Python side *inside* the Pyodide worker (not imported on the host).

The host driver (runner.py) sends this file's source to a Pyodide worker (web/worker.mjs, run
with ``keep=True``) and then calls ``await bench_call(name, args)``; every function returns
JSON-able data. Workloads and data match web/bench/sqlite_worker.mjs and raw_worker.mjs exactly:
same SQL, same rows, same random ids.

Stacks (``kind``): ``pool`` (pyodide_opfs.mount_sahpool), ``proxy`` (pyodide_opfs.mount_proxy,
when the installed package has it), ``memfs`` (Emscripten MEMFS: no durability, the ceiling),
``idbfs`` (Emscripten IDBFS with ``syncfs`` after every commit, ``sync="commit"``, or once at the
end of a workload, ``sync="end"``). Every stack's database is opened with the same
``pyodide_opfs.connect()`` call, so only the filesystem differs.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import sqlite3
import sys
import time
from typing import Any, Awaitable, Callable

import js
import pyodide_js
from pyodide import ffi

import pyodide_opfs

FS = pyodide_js.FS
_DASHES = "-" * 29


def row(i: int) -> tuple[int, str]:
    """Row i of every table (as rowK/rowV in web/bench/common.mjs)."""
    return (i * 7919) % 1000003, "v%010d" % i + _DASHES


def park_miller(seed: int = 42) -> Any:
    x = seed
    while True:
        x = (x * 48271) % 2147483647
        yield x


def quantiles(times: list[float]) -> dict[str, float]:
    s = sorted(times)
    n = len(s)
    return {"p50": s[min(n - 1, int(0.5 * n))], "p95": s[min(n - 1, int(0.95 * n))], "max": s[-1]}


def now_ms() -> float:
    return time.perf_counter() * 1000.0


def heap_bytes() -> int:
    return int(pyodide_js._module.HEAPU8.length)


async def remove_opfs_entry(name: str) -> None:
    root = await js.navigator.storage.getDirectory()
    deadline = time.monotonic() + 5
    while True:
        try:
            await root.removeEntry(name, recursive=True)
            return
        except Exception as e:  # a JsException carrying a DOMException
            if "NotFoundError" in str(e) or "could not be found" in str(e):
                return
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


def syncfs(populate: bool = False, mountpoint: str | None = None) -> Awaitable[None]:
    """Emscripten's FS.syncfs as an awaitable (what IDBFS users call to persist). With
    ``mountpoint``, only that IDBFS mount (the same work when it is the only one; needed when
    several stacks share a worker, or mounting one would repopulate the others)."""
    fut: asyncio.Future[None] = asyncio.get_event_loop().create_future()

    def done(err: Any = None) -> None:
        if fut.done():
            return
        if err:
            fut.set_exception(OSError(f"syncfs failed: {err}"))
        else:
            fut.set_result(None)

    once = getattr(ffi, "create_once_callable")  # noqa: B009 - not in the repository's Pyodide stubs
    if mountpoint is None:
        FS.syncfs(populate, once(done))
    else:
        FS.filesystems.IDBFS.syncfs(FS.lookupPath(mountpoint).node.mount, populate, once(done))
    return fut


# ------------------------------------------------------------------------------------- stacks


class Stack:
    """A filesystem mounted at ``self.mountpoint`` for one run."""

    kind = "?"
    #: Awaited after every COMMIT of W1 (IDBFS per-commit sync), or None.
    after_commit: Callable[[], Awaitable[None]] | None = None

    def __init__(self, tag: str, journal: str, **options: Any) -> None:
        self.tag = tag
        self.journal = journal
        self.options = options
        self.mountpoint = f"/bench_{tag}"
        self.pool: Any = None

    async def mount(self) -> dict[str, Any]:
        raise NotImplementedError

    async def unmount(self) -> None:
        raise NotImplementedError

    async def at_end(self) -> None:
        """After a workload's last write (IDBFS one-sync-at-end)."""

    async def after_write_workload(self) -> None:
        """After W2's commit: IDBFS syncs (either variant); others nothing."""

    def connect(self, name: str = "bench.db") -> sqlite3.Connection:
        tuning = {k: self.options[k] for k in ("page_size", "cache_size") if self.options.get(k) is not None}
        return pyodide_opfs.connect(f"{self.mountpoint}/{name}", journal_mode=self.journal, isolation_level=None,
                                    **tuning)

    def io_totals(self) -> dict[str, dict[str, int]] | None:
        """{kind of file: {writes, flushes}} from the pool's handle counters, or None."""
        stats = getattr(self.pool, "io_stats", None)
        if stats is None:
            return None
        out: dict[str, dict[str, int]] = {}
        for s in stats():
            path = s.get("path") or ""
            kind = ("journal" if path.endswith("-journal") else "wal" if path.endswith("-wal")
                    else "db" if path.endswith(".db") else "freed slot (deleted journal)" if not path else "other")
            tot = out.setdefault(kind, {"writes": 0, "flushes": 0})
            tot["writes"] += int(s.get("writes", 0))
            tot["flushes"] += int(s.get("flushes", 0))
        return out


class PoolStack(Stack):
    kind = "pool"

    async def mount(self) -> dict[str, Any]:
        t0 = now_ms()
        self.pool = await pyodide_opfs.mount_sahpool(
            self.mountpoint, directory=f"bench-{self.tag}", capacity=self.options.get("capacity", 8),
            clear_on_init=True,
        )
        return {"mount_ms": now_ms() - t0}

    async def unmount(self) -> None:
        await self.pool.unmount()
        await remove_opfs_entry(f"bench-{self.tag}")


class ProxyStack(PoolStack):
    """pyodide_opfs.mount_proxy (the async proxy backend), when the package has it."""

    kind = "proxy"

    async def mount(self) -> dict[str, Any]:
        mount_proxy = getattr(pyodide_opfs, "mount_proxy")  # noqa: B009 - absent from older versions
        params = inspect.signature(mount_proxy).parameters
        kwargs: dict[str, Any] = {}
        # the OPFS directory to use: `root` in mount_proxy's signature (`directory` in the pool's)
        for name in ("root", "directory"):
            if name in params:
                kwargs[name] = f"bench-{self.tag}"
                break
        t0 = now_ms()
        self.pool = await mount_proxy(self.mountpoint, **kwargs)
        return {"mount_ms": now_ms() - t0}

    async def unmount(self) -> None:
        unmount = getattr(self.pool, "unmount", None)
        if unmount is not None:
            result = unmount()
            if inspect.isawaitable(result):
                await result
        await remove_opfs_entry(f"bench-{self.tag}")


class MemfsStack(Stack):
    kind = "memfs"

    async def mount(self) -> dict[str, Any]:
        FS.mkdirTree(self.mountpoint)
        FS.mount(FS.filesystems.MEMFS, js.Object.new(), self.mountpoint)
        return {}

    async def unmount(self) -> None:
        for name in os.listdir(self.mountpoint):
            os.unlink(f"{self.mountpoint}/{name}")
        FS.unmount(self.mountpoint)
        FS.rmdir(self.mountpoint)


class IdbfsStack(Stack):
    kind = "idbfs"

    def __init__(self, tag: str, journal: str, **options: Any) -> None:
        super().__init__(tag, journal, **options)
        self.sync = options.get("sync", "commit")
        if self.sync == "commit":
            self.after_commit = self._sync

    def _sync(self) -> Awaitable[None]:
        return syncfs(False, self.mountpoint)

    async def mount(self) -> dict[str, Any]:
        FS.mkdirTree(self.mountpoint)
        FS.mount(FS.filesystems.IDBFS, js.Object.new(), self.mountpoint)
        await syncfs(True, self.mountpoint)
        if self.options.get("durability"):
            # Chromium commits IndexedDB transactions with "relaxed" durability by default (no
            # flush); IDBFS passes no option. This variant asks for the given one on this mount's
            # database only (IDBFS caches the open IDBDatabase per mountpoint).
            from pyodide.code import run_js

            force = run_js("""(db, durability) => {
                const tx = IDBDatabase.prototype.transaction;
                db.transaction = (stores, mode, opts) => tx.call(db, stores, mode, { ...(opts || {}), durability });
            }""")
            force(js.Reflect.get(FS.filesystems.IDBFS.dbs, self.mountpoint), self.options["durability"])
        return {}

    async def at_end(self) -> None:
        if self.sync == "end":
            await self._sync()

    async def after_write_workload(self) -> None:
        await self._sync()

    async def unmount(self) -> None:
        for name in os.listdir(self.mountpoint):
            os.unlink(f"{self.mountpoint}/{name}")
        await self._sync()
        FS.unmount(self.mountpoint)
        FS.rmdir(self.mountpoint)
        idbfs = FS.filesystems.IDBFS
        cached = js.Reflect.get(idbfs.dbs, self.mountpoint)
        if cached:  # IDBFS caches its open IndexedDB connection: close it so the delete runs
            cached.close()
            js.Reflect.deleteProperty(idbfs.dbs, self.mountpoint)
        js.indexedDB.deleteDatabase(self.mountpoint)


STACKS: dict[str, type[Stack]] = {"pool": PoolStack, "proxy": ProxyStack, "memfs": MemfsStack, "idbfs": IdbfsStack}

#: One session per stack sharing this worker (the host names it with ``sid``): its mounted stack
#: and open connection. bench_call() points _state at the caller's session.
_sessions: dict[str, dict[str, Any]] = {}
_state: dict[str, Any] = _sessions.setdefault("default", {"stack": None, "con": None})


def _stack() -> Stack:
    stack = _state["stack"]
    if stack is None:
        raise RuntimeError("no stack mounted: call mount first")
    return stack  # type: ignore[no-any-return]


def _con() -> sqlite3.Connection:
    con = _state["con"]
    if con is None:
        raise RuntimeError("no database open: call open_db first")
    return con  # type: ignore[no-any-return]


# ------------------------------------------------------------------------------------ calls


async def info(features: list[str] | None = None) -> dict[str, Any]:
    """Versions, and which of the ``features`` (attributes of pyodide_opfs) exist."""
    return {
        "features": {name: hasattr(pyodide_opfs, name) for name in features or []},
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "pyodide": str(pyodide_js.version),
        "pyodide_opfs": pyodide_opfs.__version__,
        "has_proxy": hasattr(pyodide_opfs, "mount_proxy"),
        "user_agent": str(js.navigator.userAgent),
        "heap": heap_bytes(),
    }


async def mount(kind: str, tag: str, journal: str = "delete", **options: Any) -> dict[str, Any]:
    if _state["stack"] is not None:
        await unmount()
    stack = STACKS[kind](tag, journal, **options)
    out = await stack.mount()
    _state["stack"] = stack
    return out


async def unmount() -> None:
    con, stack = _state["con"], _state["stack"]
    _state["con"] = _state["stack"] = None
    if con is not None:
        con.close()
    if stack is not None:
        await stack.unmount()


async def open_db() -> dict[str, Any]:
    """A fresh database on the mounted stack."""
    con = _stack().connect()
    _state["con"] = con
    return {
        "journal": con.execute("PRAGMA journal_mode").fetchone()[0],
        "synchronous": con.execute("PRAGMA synchronous").fetchone()[0],
        "page_size": con.execute("PRAGMA page_size").fetchone()[0],
    }


async def w1(n: int, start: int = 0, last: bool = True, times_out: bool = False) -> dict[str, Any]:
    """n single-row transactions, each committed (and synced, for IDBFS per commit). The host
    may run W1 in slices (``start`` = rows so far, ``last`` = the final slice) so that slices of
    all stacks alternate; ``times_out`` returns every commit's time."""
    stack, con = _stack(), _con()
    if start == 0:
        con.execute("CREATE TABLE w1(id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")
    after = stack.after_commit
    io0 = stack.io_totals()
    rpc = getattr(stack.pool, "rpc_stats", None)
    rt0 = rpc()["round_trips"] if rpc is not None else 0
    sql = "INSERT INTO w1(k, v) VALUES(?, ?)"
    times = [0.0] * n
    t0 = now_ms()
    for i in range(n):
        t = now_ms()
        con.execute("BEGIN")
        con.execute(sql, row(start + i))
        con.execute("COMMIT")
        if after is not None:
            await after()
        times[i] = now_ms() - t
    if last:
        await stack.at_end()
    total = now_ms() - t0
    io1 = stack.io_totals()
    count = con.execute("SELECT count(*) FROM w1").fetchone()[0]
    if count != start + n:
        raise AssertionError(f"w1: {count} rows, expected {start + n}")
    out: dict[str, Any] = {"n": n, "total_ms": total, **quantiles(times)}
    if times_out:
        out["times"] = times
    if io0 is not None and io1 is not None:
        per: dict[str, dict[str, float]] = {}
        for kind, tot in io1.items():
            base = io0.get(kind, {"writes": 0, "flushes": 0})
            per[kind] = {k: (tot[k] - base[k]) / n for k in ("writes", "flushes")}
        out["io_per_commit"] = per
        out["flushes_per_commit"] = sum(v["flushes"] for v in per.values())
        out["writes_per_commit"] = sum(v["writes"] for v in per.values())
    if rpc is not None:
        out["round_trips_per_commit"] = (rpc()["round_trips"] - rt0) / n
    return out


async def w2(n: int) -> dict[str, Any]:
    """n rows in one transaction."""
    stack, con = _stack(), _con()
    con.execute("CREATE TABLE w2(id INTEGER PRIMARY KEY, k INTEGER, v TEXT)")
    t0 = now_ms()
    con.execute("BEGIN")
    con.executemany("INSERT INTO w2(k, v) VALUES(?, ?)", (row(i) for i in range(n)))
    con.execute("COMMIT")
    await stack.after_write_workload()
    return {"n": n, "total_ms": now_ms() - t0}


async def w3(n: int, rows: int, seed: int = 42) -> dict[str, Any]:
    """n random point reads of w2 (ids from the shared Park-Miller sequence; the host runs W3 in
    slices with one seed each)."""
    con = _con()
    rnd = park_miller(seed)
    sql = "SELECT k, v FROM w2 WHERE id = ?"
    checksum = 0
    t0 = now_ms()
    for _ in range(n):
        k, v = con.execute(sql, (next(rnd) % rows + 1,)).fetchone()
        checksum = (checksum + k + len(v)) % 2147483647
    return {"n": n, "total_ms": now_ms() - t0, "checksum": checksum}


async def w4() -> dict[str, Any]:
    """Close, reopen, count."""
    stack = _stack()
    t0 = now_ms()
    _con().close()
    con = _state["con"] = stack.connect()
    count = con.execute("SELECT count(*) FROM w2").fetchone()[0]
    return {"total_ms": now_ms() - t0, "count": count}


def _pattern(size: int) -> bytes:
    return bytes((i * 31 + 7) & 0xFF for i in range(size))


async def f1(bytes: int, chunk: int = 65536) -> dict[str, Any]:
    """Sequential chunk writes of a ``bytes``-byte file with open() (close flushes), then reads
    of it with readinto() into one buffer."""
    stack = _stack()
    path = f"{stack.mountpoint}/f1.bin"
    buf = _pattern(chunk)
    heap0 = heap_bytes()
    t0 = now_ms()
    with open(path, "wb") as f:
        for _ in range(bytes // chunk):
            f.write(buf)
    await stack.at_end()
    write = now_ms() - t0
    into = bytearray(chunk)
    view = memoryview(into)
    total = 0
    t0 = now_ms()
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(view):
            total += n
    read = now_ms() - t0
    if total != bytes:
        raise AssertionError(f"f1: read {total} of {bytes} bytes")
    heap1 = heap_bytes()
    os.unlink(path)
    return {"bytes": bytes, "write_ms": write, "read_ms": read, "heap_growth": heap1 - heap0}


async def read_sweep(bytes: int, chunks: list[int]) -> list[dict[str, Any]]:
    """Read one ``bytes``-byte file with readinto() at several chunk sizes: how much of a read
    call's cost is per call (Python + Emscripten + FS glue) rather than per byte."""
    stack = _stack()
    path = f"{stack.mountpoint}/sweep.bin"
    block = _pattern(1 << 20)
    with open(path, "wb") as f:
        for _ in range(bytes // len(block)):
            f.write(block)
    out = []
    for chunk in chunks:
        view = memoryview(bytearray(chunk))
        best = float("inf")
        for _ in range(3):
            total = 0
            t0 = now_ms()
            with open(path, "rb", buffering=0) as f:
                while n := f.readinto(view):
                    total += n
            best = min(best, now_ms() - t0)
            if total != bytes:
                raise AssertionError(f"read_sweep: {total} of {bytes} bytes")
        out.append({"chunk": chunk, "ms": best, "calls": bytes // chunk, "us_per_call": 1000 * best / (bytes // chunk)})
    os.unlink(path)
    return out


async def f2(n: int, file_bytes: int) -> dict[str, Any]:
    """n random 4 KiB-aligned writes into a ``file_bytes`` file, each followed by os.fsync."""
    stack = _stack()
    path = f"{stack.mountpoint}/f2.bin"
    block = _pattern(65536)
    with open(path, "wb") as f:
        for _ in range(file_bytes // len(block)):
            f.write(block)
    page = _pattern(4096)
    blocks = file_bytes // 4096
    rnd = park_miller(7)
    times = [0.0] * n
    with open(path, "r+b", buffering=0) as f:
        fd = f.fileno()
        t0 = now_ms()
        for i in range(n):
            t = now_ms()
            os.pwrite(fd, page, (next(rnd) % blocks) * 4096)
            os.fsync(fd)
            times[i] = now_ms() - t
        total = now_ms() - t0
    os.unlink(path)
    return {"n": n, "total_ms": total, **quantiles(times)}


async def mount_time(capacities: list[int], tag: str) -> list[dict[str, Any]]:
    """Mount a new pool of each capacity (creates its files), unmount, mount it again
    (acquires existing files): the times of both."""
    out = []
    for cap in capacities:
        directory = f"bench-mnt-{tag}-{cap}"
        mp = f"/bench_mnt_{tag}_{cap}"
        t0 = now_ms()
        pool = await pyodide_opfs.mount_sahpool(mp, directory=directory, capacity=cap, spare_slots=0)
        create = now_ms() - t0
        await pool.unmount()
        t0 = now_ms()
        pool = await pyodide_opfs.mount_sahpool(mp, directory=directory, capacity=cap, spare_slots=0)
        remount = now_ms() - t0
        got = pool.capacity
        await pool.unmount()
        await remove_opfs_entry(directory)
        out.append({"capacity": got, "create_ms": create, "remount_ms": remount})
    return out


async def heap_write(bytes: int, tag: str) -> dict[str, Any]:
    """Write the heap test's file (in 1 MiB chunks) on a pool at /bench_heap; leave it there."""
    pool = await pyodide_opfs.mount_sahpool("/bench_heap", directory=f"bench-{tag}", capacity=4)
    chunk = _pattern(1 << 20)
    h0 = heap_bytes()
    with open("/bench_heap/big.bin", "wb") as f:
        for _ in range(bytes // len(chunk)):
            f.write(chunk)
    h1 = heap_bytes()
    await pool.unmount()
    return {"bytes": bytes, "heap_before": h0, "heap_after": h1}


async def heap_read(tag: str, chunk: int = 1 << 20, cleanup: bool = True) -> dict[str, Any]:
    """Read the heap test's file with f.read(chunk) (each chunk a new bytes object, as most code
    does): HEAPU8.length before and after."""
    pool = await pyodide_opfs.mount_sahpool("/bench_heap", directory=f"bench-{tag}", capacity=4)
    h0 = heap_bytes()
    total = 0
    t0 = now_ms()
    with open("/bench_heap/big.bin", "rb") as f:
        while data := f.read(chunk):
            total += len(data)
    read = now_ms() - t0
    h1 = heap_bytes()
    await pool.unmount()
    if cleanup:
        await remove_opfs_entry(f"bench-{tag}")
    return {"bytes": total, "chunk": chunk, "read_ms": read, "heap_before": h0, "heap_after": h1, "growth": h1 - h0}


async def profile(kind: str, tag: str, journal: str = "delete", w1_n: int = 0, w2_n: int = 0, w3_n: int = 0,
                  f1_bytes: int = 0, **options: Any) -> dict[str, Any]:
    """W1/W2/W3 with every SyncAccessHandle call and every filesystem operation of the mount
    counted and timed (web/bench/probe.mjs): where the time goes. Not the timed runs: the probe
    adds a little to every call."""
    from pyodide.code import run_js

    probe = await run_js("import('/bench/probe.mjs')")
    probe.install()
    await mount(kind, tag, journal, **options)
    await open_db()
    stack = _stack()
    _con().execute("CREATE TABLE IF NOT EXISTS probe(x)")  # the database file exists from here
    probe.instrumentFs(FS.lookupPath(stack.mountpoint).node, FS.lookupPath(f"{stack.mountpoint}/bench.db").node)
    out: dict[str, Any] = {}
    try:
        steps: list[tuple[str, Callable[..., Awaitable[dict[str, Any]]], dict[str, int]]] = [
            ("w1", w1, {"n": w1_n}), ("w2", w2, {"n": w2_n}), ("w3", w3, {"n": w3_n, "rows": w2_n}),
            ("f1", f1, {"bytes": f1_bytes})]
        for name, fn, args in steps:
            if not next(iter(args.values())) or (name == "w3" and not w2_n):
                continue
            probe.reset()
            probe.resetFs()
            t0 = now_ms()
            result = await fn(**args)
            total = now_ms() - t0
            out[name] = {"result": result, "total_ms": total, "sah": probe.snapshot().to_py(),
                         "fs": probe.snapshotFs().to_py()}
    finally:
        probe.uninstrumentFs()
        await unmount()
    return out


CALLS: dict[str, Callable[..., Awaitable[Any]]] = {
    f.__name__: f
    for f in (info, mount, unmount, open_db, w1, w2, w3, w4, f1, f2, read_sweep, mount_time, heap_write, heap_read,
              profile)
}


async def bench_call(name: str, args: dict[str, Any]) -> Any:
    global _state
    _state = _sessions.setdefault(str(args.pop("sid", "default")), {"stack": None, "con": None})
    return await CALLS[name](**args)
