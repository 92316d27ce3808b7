"""Drive the benchmark: one headless Chromium (on-disk profile), dedicated workers per stack,
progress on stdout; returns the raw results for report.py."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..tools import devserver, paths
from .stacks import FULL, QUICK, ROW_BYTES, STACKS, Sizes, Stack

INWORKER_SOURCE = Path(__file__).with_name("inworker.py")
WHEEL_DIR = paths.CACHE_DIR / "bench-wheel"  # our own copy: never clobbers the tests' wheel
CALL_TIMEOUT_MS = 900_000
BOOT_TIMEOUT_MS = 180_000


class BenchError(Exception):
    """A worker call failed; the message carries the worker's error text."""


# ------------------------------------------------------------------------------------ browser


class Page:
    """The benchmark page (web/bench/index.html) and its ``window.bench`` relay."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def spawn(self, url: str) -> tuple[int, dict[str, Any]]:
        got = self.page.evaluate("([u, t]) => window.bench.spawn(u, t)", [url, BOOT_TIMEOUT_MS])
        return int(got["wid"]), dict(got["ready"])

    def request(self, wid: int, msg: dict[str, Any]) -> dict[str, Any]:
        reply: dict[str, Any] = self.page.evaluate(
            "([w, m, t]) => window.bench.request(w, m, t)", [wid, msg, CALL_TIMEOUT_MS]
        )
        return reply

    def terminate(self, wid: int) -> None:
        self.page.evaluate("(w) => window.bench.terminate(w)", wid)

    def clear_storage(self) -> dict[str, Any]:
        got: dict[str, Any] = self.page.evaluate("() => window.bench.clearStorage(10000)")
        return got


class Worker:
    """A dedicated worker on the page; ``call(name, **args)`` runs one benchmark function."""

    engine = ""

    def __init__(self, page: Page, url: str) -> None:
        self.page = page
        self.wid, self.ready = page.spawn(url)
        self.alive = True

    def call(self, name: str, **args: Any) -> Any:
        reply = self.page.request(self.wid, self._message(name, args))
        if not reply.get("ok"):
            raise BenchError(f"{self.engine} {name}: {reply.get('error', reply)}")
        return reply.get("value")

    def _message(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"type": "call", "fn": name, "args": args}

    def terminate(self) -> None:
        if self.alive:
            self.page.terminate(self.wid)
            self.alive = False


class PyodideWorker(Worker):
    """web/worker.mjs (Pyodide + our wheel) with inworker.py loaded into its kept namespace."""

    engine = "pyodide"

    def __init__(self, page: Page, wheel_url: str) -> None:
        super().__init__(page, f"/worker.mjs?wheel={wheel_url}")
        reply = page.request(self.wid, {"type": "run", "code": INWORKER_SOURCE.read_text(), "keep": True})
        if not reply.get("ok"):
            raise BenchError(f"loading inworker.py failed: {reply.get('error')}")

    def _message(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        code = f"import json as _json\nawait bench_call({name!r}, _json.loads({json.dumps(args)!r}))"
        return {"type": "run", "code": code, "keep": True}


class JsWorker(Worker):
    engine = "js"


class Session(Worker):
    """One stack's view of a (possibly shared) Pyodide worker: every call carries the stack's
    session id, so several stacks can each have a database open in the same worker."""

    def __init__(self, base: PyodideWorker, sid: str) -> None:  # noqa: D107 - no spawn here
        self.base = base
        self.sid = sid
        self.page = base.page
        self.wid = base.wid
        self.ready = base.ready
        self.engine = base.engine

    @property
    def alive(self) -> bool:  # type: ignore[override]
        return self.base.alive

    def call(self, name: str, **args: Any) -> Any:
        return self.base.call(name, sid=self.sid, **args)

    def terminate(self) -> None:
        self.base.terminate()


# ------------------------------------------------------------------------------------- runner


class Runner:
    def __init__(self, page: Page, wheel_url: str, sizes: Sizes, *, quick: bool,
                 out: Callable[[str], None] = print) -> None:
        self.page = page
        self.wheel_url = wheel_url
        self.sizes = sizes
        self.quick = quick
        self.started = time.monotonic()
        self._print = out
        self.uniq = uuid.uuid4().hex[:6]
        self.shared_py: PyodideWorker | None = None
        self.info: dict[str, Any] = {}

    # --- progress ---

    def log(self, text: str) -> None:
        self._print(f"[{time.monotonic() - self.started:7.1f}s] {text}")

    # --- workers ---

    def pyodide_worker(self) -> PyodideWorker:
        """A fresh Pyodide worker per stack; in --quick mode one shared worker (boot is ~4 s)."""
        if self.quick and self.shared_py is not None and self.shared_py.alive:
            return self.shared_py
        t0 = time.monotonic()
        w = PyodideWorker(self.page, self.wheel_url)
        self.log(f"  Pyodide worker ready ({(time.monotonic() - t0) * 1000:,.0f} ms; boot {w.ready.get('bootMs', 0):,.0f} ms)")
        if self.quick:
            self.shared_py = w
        return w

    def release(self, w: Worker) -> None:
        if getattr(w, "base", w) is not self.shared_py:
            w.terminate()
        self.page.clear_storage()

    def new_worker(self, stack: Stack) -> Worker:
        if stack.engine == "pyodide":
            return Session(self.pyodide_worker(), stack.key)
        url = {"sqlite-wasm": "/bench/sqlite_worker.mjs", "raw": "/bench/raw_worker.mjs"}[stack.engine]
        w = JsWorker(self.page, url)
        w.engine = stack.engine
        return w

    def tag(self, *parts: object) -> str:
        return "-".join([*(str(p) for p in parts), self.uniq])

    # --- the whole run ---

    def run(self, selected: Sequence[Stack], extras: Sequence[str]) -> dict[str, Any]:
        self.log(f"clearing OPFS and IndexedDB: {self.page.clear_storage()}")
        first = self.pyodide_worker()
        self.info = first.call("info", features=sorted({s.requires for s in selected if s.requires}))
        self.log(f"Pyodide {self.info['pyodide']} (Python {self.info['python']}, SQLite {self.info['sqlite']}), "
                 f"pyodide_opfs {self.info['pyodide_opfs']}, proxy backend: {'yes' if self.info['has_proxy'] else 'no'}")
        if first is not self.shared_py:
            first.terminate()
        results: dict[str, Any] = {"stacks": {}, "extras": {}}
        runnable = []
        for stack in selected:
            if stack.requires and not self.info["features"].get(stack.requires, False):
                self.log(f"{stack.key}: skipped (pyodide_opfs has no {stack.requires})")
                results["stacks"][stack.key] = {"skipped": f"pyodide_opfs has no {stack.requires}"}
            else:
                runnable.append(stack)
                results["stacks"][stack.key] = {"runs": [], "scaling": {}, "elapsed_s": 0.0}
        self.run_rounds(runnable, results["stacks"])
        for stack in runnable:
            self.run_rest(stack, results["stacks"][stack.key])
        for extra in extras:
            try:
                results["extras"][extra] = getattr(self, f"run_{extra}")()
            except Exception as e:  # noqa: BLE001 - report and go on with the rest
                self.log(f"{extra}: FAILED: {e}")
                results["extras"][extra] = {"error": str(e)}
        if self.shared_py is not None:
            self.shared_py.terminate()
        self.page.clear_storage()
        return results

    def run_rounds(self, stacks: Sequence[Stack], out: dict[str, dict[str, Any]]) -> None:
        """W1-W4 (and the raw floor) in rounds, every stack once per round, on a fresh database
        each time. W1 itself runs in slices (e.g. 10 x 100 commits) that alternate between the
        stacks, so a slow spell of the machine (other processes' disk and CPU load) lands on all
        stacks alike instead of on one. A stack stops repeating once it has used its budget."""
        self.workers: dict[str, Worker] = {}
        s = self.sizes
        self.log(f"starting {len(stacks)} workers")
        for stack in stacks:  # before the rounds: boot time is not part of any stack's budget
            try:
                self.worker_for(stack, out[stack.key])
            except Exception as e:  # noqa: BLE001
                self.fail(stack, out[stack.key], e)
        for r in range(s.repeat):
            active = [st for st in stacks
                      if not out[st.key].get("error") and not (r and out[st.key]["elapsed_s"] > s.stack_budget_s)]
            if not active:
                break
            self.log(f"round {r + 1} of up to {s.repeat}: {len(active)} stacks; W1 in {s.w1_slices} slices that "
                     "alternate between them, then W2-W4")
            state: dict[str, dict[str, Any]] = {}
            for stack in active:
                opened = self._timed(stack, out, self._open_round, stack, out[stack.key], r)
                if opened is not None:
                    state[stack.key] = opened
            per = s.w1 // s.w1_slices
            for k in range(s.w1_slices):
                for stack in active:
                    if stack.key in state and not out[stack.key].get("error"):
                        got = self._timed(stack, out, self._w1_slice, stack, state[stack.key]["w"], per, k, s.w1_slices)
                        if got is not None:
                            state[stack.key]["slices"].append(got)
            for stack in active:  # W1 results; W2 (one bulk transaction) stack after stack
                if stack.key in state and not out[stack.key].get("error"):
                    self._timed(stack, out, self._after_w1, stack, state[stack.key], r)
            w3_stacks = [st for st in active if "W" in st.groups and st.key in state]
            per3 = s.w3 // s.w3_slices
            for k in range(s.w3_slices):  # W3 in slices that alternate, like W1
                for stack in w3_stacks:
                    if not out[stack.key].get("error"):
                        got = self._timed(stack, out, self._w3_slice, state[stack.key]["w"], per3, k)
                        if got is not None:
                            state[stack.key]["w3"].append(got)
            for stack in active:
                if stack.key in state and not out[stack.key].get("error"):
                    self._timed(stack, out, self._finish_round, stack, state[stack.key], out[stack.key], r)

    def _w3_slice(self, w: Worker, n: int, k: int) -> dict[str, Any]:
        return dict(w.call("w3", n=n, rows=self.sizes.w2, seed=42 + 1000 * k))

    def _timed(self, stack: Stack, out: dict[str, dict[str, Any]], fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args), its time charged to the stack; None (and the stack marked failed) if it raises."""
        res = out[stack.key]
        t0 = time.monotonic()
        try:
            return fn(*args)
        except Exception as e:  # noqa: BLE001 - one stack failing must not end the benchmark
            self.fail(stack, res, e)
            return None
        finally:
            res["elapsed_s"] += time.monotonic() - t0

    def _open_round(self, stack: Stack, res: dict[str, Any], r: int) -> dict[str, Any]:
        w = self.worker_for(stack, res)
        if "floor" in stack.groups:
            w.call("open", tag=self.tag(stack.key, "floor", r))
            return {"w": w, "db": None, "slices": [], "w3": []}
        return {"w": w, "db": self.open(w, stack, self.tag(stack.key, r)), "slices": [], "w3": []}

    def _w1_slice(self, stack: Stack, w: Worker, n: int, k: int, slices: int) -> dict[str, Any]:
        if "floor" in stack.groups:
            return dict(w.call("floor", n=n, start=k * n, times_out=True))
        return dict(w.call("w1", n=n, start=k * n, last=k == slices - 1, times_out=True))

    def _after_w1(self, stack: Stack, st: dict[str, Any], r: int) -> None:
        w = st["w"]
        st["w1"] = w1 = merge_slices(st["slices"])
        if "floor" in stack.groups:
            return
        msg = f"{stack.key} run {r + 1}: W1 {w1['total_ms']:,.0f} ms (p50 {w1['p50']:.3f}, p95 {w1['p95']:.3f} ms/commit"
        if "flushes_per_commit" in w1:
            msg += f", {w1['flushes_per_commit']:.2f} flushes/commit"
        if "round_trips_per_commit" in w1:
            msg += f", {w1['round_trips_per_commit']:.1f} proxy round trips/commit"
        msg += ")"
        if "W" in stack.groups:
            st["w2"] = w.call("w2", n=self.sizes.w2)
            msg += f"  W2 {st['w2']['total_ms']:,.0f} ms"
        self.log(msg)

    def _finish_round(self, stack: Stack, st: dict[str, Any], res: dict[str, Any], r: int) -> None:
        w, s = st["w"], self.sizes
        w1 = st["w1"]
        if "floor" in stack.groups:
            w.call("close")
            res.setdefault("floor", []).append(w1)
            self.log(f"{stack.key} run {r + 1}: floor {w1['n']} x (4 KiB write + flush): {w1['total_ms']:,.0f} ms "
                     f"(p50 {w1['p50']:.3f}, p95 {w1['p95']:.3f} ms)")
            return
        run: dict[str, Any] = {"db": st["db"], "w1": w1}
        if "W" in stack.groups:
            slices = st["w3"]
            if len(slices) != s.w3_slices:
                raise BenchError(f"W3 ran {len(slices)} of {s.w3_slices} slices")
            run["w2"] = st["w2"]
            run["w3"] = {"n": sum(x["n"] for x in slices), "total_ms": sum(x["total_ms"] for x in slices),
                         "checksum": sum(x["checksum"] for x in slices) % 2147483647, "slices": len(slices)}
            run["w4"] = w.call("w4")
            if run["w4"]["count"] != s.w2:
                raise BenchError(f"W4 counted {run['w4']['count']} rows, expected {s.w2}")
            self.log(f"{stack.key} run {r + 1}: W3 {run['w3']['total_ms']:,.0f} ms  W4 {run['w4']['total_ms']:,.1f} ms")
        self.release_state(w, stack)
        res["runs"].append(run)

    def worker_for(self, stack: Stack, res: dict[str, Any]) -> Worker:
        w = self.workers.get(stack.key)
        if w is None:
            w = self.workers[stack.key] = self.new_worker(stack)
            if stack.engine == "sqlite-wasm":
                res["engine_info"] = w.ready
        return w

    def fail(self, stack: Stack, res: dict[str, Any], e: Exception) -> None:
        self.log(f"  {stack.key} FAILED: {e}")
        res["error"] = str(e)
        w = self.workers.get(stack.key)
        if w is not None:
            try:
                self.release_state(w, stack)
            except Exception:  # noqa: BLE001
                pass

    def run_rest(self, stack: Stack, res: dict[str, Any]) -> None:
        """F1/F2 and the scaling steps of one stack, then its worker ends."""
        t0 = time.monotonic()
        try:
            if not res.get("error") and ({"F1", "F2"} & set(stack.groups) or stack.scaling):
                self.log(f"{stack.key}: files and scaling")
                w = self.worker_for(stack, res)
                if "F1" in stack.groups or "F2" in stack.groups:
                    res["files"] = self.file_runs(w, stack)
                for workload in stack.scaling:
                    res["scaling"][workload] = self.scale(w, stack, workload, res)
        except Exception as e:  # noqa: BLE001
            self.fail(stack, res, e)
        finally:
            w_done = self.workers.pop(stack.key, None)
            if w_done is not None:
                self.release(w_done)
            res["elapsed_s"] += time.monotonic() - t0

    def release_state(self, w: Worker, stack: Stack) -> None:
        if stack.engine == "pyodide":
            w.call("unmount")
        else:
            w.call("close")

    # --- pieces ---

    def open(self, w: Worker, stack: Stack, tag: str) -> dict[str, Any]:
        if stack.engine == "pyodide":
            mounted = w.call("mount", tag=tag, **stack.params)
            return {**mounted, **w.call("open_db")}
        if stack.engine == "sqlite-wasm":
            return dict(w.call("open", tag=tag, **stack.params))
        raise ValueError(stack.engine)

    def floor_run(self, w: Worker, stack: Stack, r: int, n: int) -> dict[str, Any]:
        w.call("open", tag=self.tag(stack.key, "floor", r, n))
        got = dict(w.call("floor", n=n))
        w.call("close")
        self.log(f"  floor n={n}: {got['total_ms']:,.0f} ms (p50 {got['p50']:.3f} ms per write+flush)")
        return got

    def file_runs(self, w: Worker, stack: Stack) -> dict[str, Any]:
        s = self.sizes
        out: dict[str, Any] = {"f1": [], "f2": None}
        tag = self.tag(stack.key, "files")
        if stack.engine == "pyodide":
            w.call("mount", tag=tag, **stack.params)
        else:
            w.call("open", tag=tag)
        try:
            if "F1" in stack.groups:
                for _ in range(max(1, s.repeat)):
                    got = dict(w.call("f1", bytes=s.f1_bytes))
                    out["f1"].append(got)
                    self.log(f"  F1 {s.f1_bytes >> 20} MiB: write {_mbps(got['bytes'], got['write_ms']):,.0f} MB/s, "
                             f"read {_mbps(got['bytes'], got['read_ms']):,.0f} MB/s")
            if "F2" in stack.groups:
                out["f2"] = got = dict(w.call("f2", n=s.f2_n, file_bytes=s.f2_file_bytes))
                self.log(f"  F2 {s.f2_n} x 4 KiB random write+fsync: {got['total_ms']:,.0f} ms "
                         f"(p50 {got['p50']:.3f}, p95 {got['p95']:.3f} ms)")
        finally:
            w.call("unmount" if stack.engine == "pyodide" else "close")
        return out

    def scale(self, w: Worker, stack: Stack, workload: str, res: dict[str, Any]) -> list[dict[str, Any]]:
        """The workload at each factor; x1 comes from the runs above."""
        s = self.sizes
        base_n = {"W1": s.w1, "W2": s.w2, "F1": s.f1_bytes, "floor": s.w1}[workload]
        first = self._base_point(workload, res)
        if first is None:
            return []
        points: list[dict[str, Any]] = [{"factor": 1, "size": base_n, "total_ms": first}]
        prev_ms, prev_factor = first, 1
        for factor in s.factors[1:]:
            n = base_n * factor
            # 1.5: costs grow faster than the size for some stacks (WAL checkpoints, bigger b-trees)
            predicted = prev_ms * factor / prev_factor * 1.5
            data_bytes = n if workload == "F1" else n * ROW_BYTES if workload == "W2" else n * 200
            budget = float(stack.extra.get("cell_budget_s", s.cell_budget_s)) if not self.quick else s.cell_budget_s
            if predicted / 1000 > budget:
                points.append({"factor": factor, "size": n, "skipped": f"predicted {predicted / 1000:,.0f} s > budget {budget:,.0f} s"})
                self.log(f"  {workload} x{factor}: skipped (predicted {predicted / 1000:,.0f} s)")
                break
            if stack.in_memory and data_bytes > s.memory_cap_bytes:
                points.append({"factor": factor, "size": n, "skipped": f"{data_bytes >> 20} MiB in memory > cap {s.memory_cap_bytes >> 20} MiB"})
                self.log(f"  {workload} x{factor}: skipped (in-memory stack, {data_bytes >> 20} MiB)")
                break
            total = self._scale_once(w, stack, workload, n, factor)
            points.append({"factor": factor, "size": n, "total_ms": total})
            self.log(f"  {workload} x{factor} ({_size_text(workload, n)}): {total:,.0f} ms")
            prev_ms, prev_factor = total, factor
        return points

    def _base_point(self, workload: str, res: dict[str, Any]) -> float | None:
        if workload in ("W1", "W2"):
            vals = [r[workload.lower()]["total_ms"] for r in res["runs"] if workload.lower() in r]
        elif workload == "F1":
            vals = [f["write_ms"] + f["read_ms"] for f in res.get("files", {}).get("f1", [])]
        else:
            vals = [f["total_ms"] for f in res.get("floor", [])]
        return statistics.median(vals) if vals else None

    def _scale_once(self, w: Worker, stack: Stack, workload: str, n: int, factor: int) -> float:
        tag = self.tag(stack.key, workload, factor)
        if workload == "floor":
            return float(self.floor_run(w, stack, 0, n)["total_ms"])
        if workload == "F1":
            if stack.engine == "pyodide":
                w.call("mount", tag=tag, **stack.params)
                try:
                    got = w.call("f1", bytes=n)
                finally:
                    w.call("unmount")
            else:
                w.call("open", tag=tag)
                try:
                    got = w.call("f1", bytes=n)
                finally:
                    w.call("close")
            return float(got["write_ms"] + got["read_ms"])
        self.open(w, stack, tag)
        try:
            got = w.call(workload.lower(), n=n)
        finally:
            self.release_state(w, stack)
        return float(got["total_ms"])

    # --- extras ---

    def run_mount(self) -> dict[str, Any]:
        caps = list(self.sizes.capacities)
        self.log(f"mount time vs capacity {caps}")
        w = self.pyodide_worker()
        try:
            ours = w.call("mount_time", capacities=caps, tag=self.tag("mnt"))
        finally:
            self.release(w)
        for p in ours:
            self.log(f"  pool capacity {p['capacity']:>5}: create {p['create_ms']:,.0f} ms, mount {p['remount_ms']:,.0f} ms")
        js = JsWorker(self.page, "/bench/sqlite_worker.mjs")
        theirs = []
        try:
            for cap in caps:
                got = js.call("mount", capacity=cap, tag=self.tag("sahmnt", cap))
                theirs.append(got)
                self.log(f"  sqlite-wasm installOpfsSAHPoolVfs capacity {got['capacity']:>5}: create {got['create_ms']:,.0f} ms")
        finally:
            self.release(js)
        return {"ours": ours, "sqlite_wasm": theirs}

    def run_profile(self) -> dict[str, Any]:
        """Where the time goes: W1-W3 with handle calls and filesystem operations timed."""
        s = self.sizes
        sizes = {"w1_n": s.w1, "w2_n": s.w2, "w3_n": s.w3}
        self.log("profile: W1-W3 (and F1) with every SyncAccessHandle call and filesystem operation timed")
        out: dict[str, Any] = {}
        w = self.pyodide_worker()
        try:
            for key, params in (("pool-delete", {"kind": "pool", "journal": "delete"}),
                                ("pool-wal", {"kind": "pool", "journal": "wal"}),
                                ("memfs-delete", {"kind": "memfs", "journal": "delete"}),
                                ("memfs-wal", {"kind": "memfs", "journal": "wal"})):
                f1 = {"f1_bytes": s.f1_bytes} if params["journal"] == "delete" else {}
                out[key] = w.call("profile", tag=self.tag("prof", key), **params, **sizes, **f1)
                self.log("  " + _profile_line(key, out[key]))
        finally:
            self.release(w)
        out["read_sweep"] = self.read_sweep()
        js = JsWorker(self.page, "/bench/sqlite_worker.mjs")
        try:
            for key, params in (("sqlitewasm-sahpool-delete", {"vfs": "opfs-sahpool", "journal": "delete"}),
                                ("sqlitewasm-sahpool-wal", {"vfs": "opfs-sahpool", "journal": "wal"})):
                out[key] = js.call("profile", tag=self.tag("prof", key), **params, **sizes)
                self.log("  " + _profile_line(key, out[key]))
        finally:
            self.release(js)
        return out

    def read_sweep(self) -> dict[str, Any]:
        """F1's read at 4 KiB, 64 KiB and 1 MiB per call: Python open() on the pool and on MEMFS,
        and the raw handle."""
        nbytes = min(self.sizes.f1_bytes, 64 << 20)
        chunks = [4096, 65536, 1 << 20]
        out: dict[str, Any] = {"bytes": nbytes}
        w = self.pyodide_worker()
        try:
            for key, kind in (("pool", "pool"), ("memfs", "memfs")):
                w.call("mount", kind=kind, tag=self.tag("sweep", key))
                try:
                    out[key] = w.call("read_sweep", bytes=nbytes, chunks=chunks)
                finally:
                    w.call("unmount")
        finally:
            self.release(w)
        raw = JsWorker(self.page, "/bench/raw_worker.mjs")
        try:
            raw.call("open", tag=self.tag("sweep", "raw"))
            out["raw"] = raw.call("read_sweep", bytes=nbytes, chunks=chunks)
            raw.call("close")
        finally:
            self.release(raw)
        for key in ("pool", "memfs", "raw"):
            self.log(f"  read sweep {key:5}: " + ", ".join(
                f"{p['chunk'] >> 10} KiB {nbytes / 1e3 / p['ms']:,.0f} MB/s ({p['us_per_call']:.1f} us/call)" for p in out[key]))
        return out

    def run_tuning(self) -> dict[str, Any]:
        """connect() settings on the pool backend: journal mode x page size x cache size, W1-W3,
        in interleaved rounds (for the recommendations in the README)."""
        s = self.sizes
        configs: list[tuple[str, int, int | None]] = [
            (j, ps, None) for j in ("delete", "persist", "wal") for ps in (4096, 8192, 16384)]
        configs += [(j, 4096, -16384) for j in ("delete", "persist", "wal")]
        self.log(f"tuning: {len(configs)} connect() settings x {max(1, min(2, s.repeat))} rounds")
        w = self.pyodide_worker()
        out: dict[str, Any] = {"configs": []}
        try:
            for r in range(max(1, min(2, s.repeat))):
                for i, (journal, page_size, cache_size) in enumerate(configs):
                    w.call("mount", kind="pool", tag=self.tag("tune", r, i), journal=journal, page_size=page_size,
                           cache_size=cache_size)
                    db = w.call("open_db")
                    got = {"w1": w.call("w1", n=s.w1), "w2": w.call("w2", n=s.w2), "w3": w.call("w3", n=s.w3, rows=s.w2)}
                    w.call("unmount")
                    if r == 0:
                        out["configs"].append({"journal": journal, "page_size": db["page_size"], "cache_size": cache_size,
                                               "runs": []})
                    out["configs"][i]["runs"].append(got)
                    self.log(f"  {journal:8} page {page_size:>5} cache {cache_size or 'default':>7}: W1 p50 "
                             f"{got['w1']['p50']:.3f} ms, {got['w1'].get('flushes_per_commit', 0):.0f} flushes/commit;"
                             f" W2 {got['w2']['total_ms']:,.0f} ms; W3 {got['w3']['total_ms']:,.0f} ms")
        finally:
            self.release(w)
        return out

    def run_heap(self) -> dict[str, Any]:
        n = self.sizes.heap_bytes
        tag = self.tag("heap")
        self.log(f"WASM heap while reading a {n >> 20} MiB file")
        w = self.pyodide_worker()
        try:
            wrote = w.call("heap_write", bytes=n, tag=tag)
            if w is self.shared_py:
                reads = [w.call("heap_read", tag=tag, chunk=1 << 20, cleanup=False), w.call("heap_read", tag=tag, chunk=65536)]
                fresh = False
            else:
                w.terminate()
                # Read in a fresh worker, so the write cannot have grown the heap in advance.
                w = self.pyodide_worker()
                reads = [w.call("heap_read", tag=tag, chunk=1 << 20, cleanup=False)]
                w.terminate()
                w = self.pyodide_worker()
                reads.append(w.call("heap_read", tag=tag, chunk=65536))
                fresh = True
        finally:
            self.release(w)
        for r in reads:
            self.log(f"  read in {r['chunk'] >> 10} KiB chunks: heap {r['heap_before'] / 2**20:,.1f} -> "
                     f"{r['heap_after'] / 2**20:,.1f} MiB (+{r['growth'] / 2**20:,.2f} MiB), "
                     f"{_mbps(r['bytes'], r['read_ms']):,.0f} MB/s")
        return {"write": wrote, "reads": reads, "fresh_worker": fresh}


def merge_slices(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """One W1 result from its slices: quantiles over every commit, totals summed, per-commit
    counters weighted by slice length."""
    times = [t for sl in slices for t in sl["times"]]
    n = sum(int(sl["n"]) for sl in slices)
    s = sorted(times)
    out: dict[str, Any] = {
        "n": n, "total_ms": sum(float(sl["total_ms"]) for sl in slices), "slices": len(slices),
        "p50": s[min(n - 1, int(0.5 * n))], "p95": s[min(n - 1, int(0.95 * n))], "max": s[-1],
    }
    for key in ("flushes_per_commit", "writes_per_commit", "round_trips_per_commit"):
        if all(key in sl for sl in slices):
            out[key] = sum(sl[key] * sl["n"] for sl in slices) / n
    if all("io_per_commit" in sl for sl in slices):
        per: dict[str, dict[str, float]] = {}
        for sl in slices:
            for kind, v in sl["io_per_commit"].items():
                acc = per.setdefault(kind, {"writes": 0.0, "flushes": 0.0})
                for k in ("writes", "flushes"):
                    acc[k] += v[k] * sl["n"] / n
        out["io_per_commit"] = per
    return out


def _profile_line(key: str, prof: dict[str, Any]) -> str:
    w1 = prof.get("w1")
    if not w1:
        return key
    n = w1["result"]["n"]
    sah = w1["sah"]
    flush = sah.get("flush", {"calls": 0, "ms": 0})
    handle_ms = sum(v["ms"] for v in sah.values())
    fs_ms = sum(v["ms"] for k, v in w1.get("fs", {}).items() if k in ("read", "write", "llseek", "fsync", "close", "open"))
    return (f"{key}: W1 {w1['total_ms'] / n:.3f} ms/commit = handle calls {handle_ms / n:.3f} "
            f"(flush {flush['calls'] / n:.1f} x {flush['ms'] / max(1, flush['calls']):.3f} ms)"
            + (f", FS ops {fs_ms / n:.3f}" if w1.get("fs") else ""))


def _mbps(nbytes: int, ms: float) -> float:
    return nbytes / 1e6 / (ms / 1000) if ms > 0 else float("inf")


def _size_text(workload: str, n: int) -> str:
    if workload == "F1":
        return f"{n >> 20} MiB"
    return f"{n:,} {'rows' if workload == 'W2' else 'commits'}"


# ---------------------------------------------------------------------------------- metadata


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    commit = ""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.REPO_ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "host_python": platform.python_version(),
        "git_commit": commit,
        "loadavg_start": _loadavg(),
    }


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _launch_kwargs(headed: bool) -> dict[str, Any]:
    """The repository's playwright.config.py settings when present (same Chromium as the tests)."""
    cfg_path = paths.REPO_ROOT / "playwright.config.py"
    kwargs: dict[str, Any] = {"executable_path": str(paths.CHROMIUM), "args": ["--no-sandbox"], "headless": True}
    if cfg_path.exists():
        import importlib.util

        spec = importlib.util.spec_from_file_location("_bench_playwright_config", cfg_path)
        if spec is not None and spec.loader is not None:
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            kwargs = dict(mod.launch_kwargs())
    if headed:
        kwargs["headless"] = False
    return kwargs


# -------------------------------------------------------------------------------------- entry


def select_stacks(names: Sequence[str] | None) -> list[Stack]:
    if not names:
        return list(STACKS)
    by_key = {s.key: s for s in STACKS}
    out = []
    for name in names:
        matched = [s for s in STACKS if s.key == name or s.key.startswith(name + "-")]
        if not matched:
            raise SystemExit(f"unknown stack {name!r}; stacks: {', '.join(by_key)}")
        out += [s for s in matched if s not in out]
    return out


def run_benchmark(*, quick: bool, stacks: Sequence[str] | None = None, extras: Sequence[str] = ("mount", "heap", "profile"),
                  repeat: int | None = None, headed: bool = False, verbose: bool = False,
                  profile_dir: Path | None = None) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from ..tools.wheel import build_wheel

    sizes = QUICK if quick else FULL
    if repeat is not None:
        sizes = Sizes(**{**sizes.__dict__, "repeat": max(1, repeat)})
    selected = select_stacks(stacks)
    started = time.time()
    meta = machine_info()
    wheel = build_wheel(WHEEL_DIR)
    print(f"[bench] wheel {wheel.name}; {'quick' if quick else 'full'} run of {len(selected)} stack(s)"
          f" + {', '.join(extras) or 'no extras'}", flush=True)
    roots = {**devserver.default_roots(), "/bench-wheel/": WHEEL_DIR}
    with devserver.start(roots=roots) as srv, tempfile.TemporaryDirectory(prefix="pyodide-opfs-bench-") as tmp:
        profile = Path(profile_dir) if profile_dir else Path(tmp) / "profile"
        profile.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(str(profile), **_launch_kwargs(headed))
            try:
                page = context.pages[0] if context.pages else context.new_page()
                if verbose:
                    page.on("console", lambda m: print(f"[console.{m.type}] {m.text}", file=sys.stderr))
                page.on("pageerror", lambda e: print(f"[page error] {e}", file=sys.stderr))
                page.goto(srv.url + "/bench/index.html", wait_until="load")
                page.wait_for_function("() => window.bench !== undefined")
                runner = Runner(Page(page), f"/bench-wheel/{wheel.name}", sizes, quick=quick,
                                out=lambda s: print(s, flush=True))
                results = runner.run(selected, extras)
                browser_version = context.browser.version if context.browser else ""
            finally:
                context.close()
    meta.update({
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "duration_s": round(time.time() - started, 1),
        "loadavg_end": _loadavg(),
        "browser": browser_version or runner.info.get("user_agent", ""),
        "user_agent": runner.info.get("user_agent", ""),
        "pyodide": runner.info.get("pyodide"),
        "python": runner.info.get("python"),
        "pyodide_sqlite": runner.info.get("sqlite"),
        "pyodide_opfs": runner.info.get("pyodide_opfs"),
        "sqlite_wasm_npm": paths.SQLITE_WASM_VERSION,
        "has_proxy": runner.info.get("has_proxy"),
        "playwright": _playwright_version(),
    })
    for st in results["stacks"].values():
        lib = st.get("engine_info", {}).get("version")
        if lib:
            meta["sqlite_wasm_lib"] = lib
    return {
        "meta": meta,
        "mode": "quick" if quick else "full",
        "sizes": sizes.__dict__ | {"capacities": list(sizes.capacities), "factors": list(sizes.factors)},
        "stack_defs": {s.key: {"label": s.label, "engine": s.engine, "journal": s.journal, "ours": s.ours,
                               "note": s.note, "params": s.params} for s in selected},
        **results,
    }


def _playwright_version() -> str:
    try:
        from importlib.metadata import version

        return version("playwright")
    except Exception:  # noqa: BLE001
        return ""
