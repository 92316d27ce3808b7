"""Turn the runner's raw results into medians, target ratios, a markdown table, a JSON file and a
PNG chart (matplotlib, Agg backend)."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MiB = 1 << 20


# ------------------------------------------------------------------------------------ summary


def _median(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def summarize_stack(raw: dict[str, Any]) -> dict[str, Any]:
    """Medians over the runs of one stack."""
    if "runs" not in raw:
        return {"skipped": raw["skipped"]} if raw.get("skipped") else {}
    runs = raw.get("runs", [])
    s: dict[str, Any] = {"runs": len(runs)}

    def med(workload: str, key: str) -> float | None:
        return _median([r[workload][key] for r in runs if workload in r])

    if runs:
        s["w1_total"] = med("w1", "total_ms")
        s["w1_p50"] = med("w1", "p50")
        s["w1_p95"] = med("w1", "p95")
        s["w1_n"] = runs[0]["w1"]["n"]
        if "flushes_per_commit" in runs[0]["w1"]:
            s["flushes_per_commit"] = med("w1", "flushes_per_commit")
            s["writes_per_commit"] = med("w1", "writes_per_commit")
            s["io_per_commit"] = runs[-1]["w1"].get("io_per_commit")
        if "round_trips_per_commit" in runs[0]["w1"]:
            s["round_trips_per_commit"] = med("w1", "round_trips_per_commit")
        for w in ("w2", "w3", "w4"):
            if w in runs[0]:
                s[w] = med(w, "total_ms")
        if "w3" in runs[0]:
            s["w3_checksum"] = runs[0]["w3"]["checksum"]
        s["db"] = runs[0].get("db")
    files = raw.get("files") or {}
    f1 = files.get("f1") or []
    if f1:
        nbytes = f1[0]["bytes"]
        s["f1_bytes"] = nbytes
        s["f1_write_ms"] = _median([f["write_ms"] for f in f1])
        s["f1_read_ms"] = _median([f["read_ms"] for f in f1])
        s["f1_write_mbps"] = nbytes / 1e6 / (s["f1_write_ms"] / 1000)
        s["f1_read_mbps"] = nbytes / 1e6 / (s["f1_read_ms"] / 1000)
    if files.get("f2"):
        f2 = files["f2"]
        s["f2_total"], s["f2_p50"], s["f2_p95"], s["f2_n"] = f2["total_ms"], f2["p50"], f2["p95"], f2["n"]
    floor = raw.get("floor") or []
    if floor:
        s["floor_total"] = _median([f["total_ms"] for f in floor])
        s["floor_p50"] = _median([f["p50"] for f in floor])
        s["floor_p95"] = _median([f["p95"] for f in floor])
        s["floor_n"] = floor[0]["n"]
    return s


@dataclass(frozen=True)
class Target:
    name: str
    ours: str
    other: str | None
    metric: str
    #: "<=": ours/other must be at most `limit`;  ">=speedup": other/ours at least `limit`;
    #: ">=share": ours/other at least `limit` (a throughput share)
    kind: str
    limit: float
    informational: bool = False


TARGETS = [
    Target("W1 p50/commit vs sqlite-wasm opfs-sahpool, DELETE", "pool-delete", "sqlitewasm-sahpool-delete", "w1_p50", "<=", 1.0),
    Target("W1 p50/commit vs sqlite-wasm opfs-sahpool, EXCLUSIVE+WAL", "pool-wal", "sqlitewasm-sahpool-wal", "w1_p50", "<=", 1.0),
    Target("W1 speed-up vs IDBFS syncfs per commit (DELETE), ours DELETE", "pool-delete", "idbfs-commit-delete", "w1_total", ">=speedup", 4.0),
    Target("W1 speed-up vs IDBFS syncfs per commit (DELETE), ours WAL", "pool-wal", "idbfs-commit-delete", "w1_total", ">=speedup", 15.0),
    Target("W1 speed-up vs IDBFS syncfs per commit, both WAL", "pool-wal", "idbfs-commit-wal", "w1_total", ">=speedup", 15.0, True),
    Target("W1 speed-up vs IDBFS per commit with strict IndexedDB durability, ours DELETE", "pool-delete",
           "idbfs-commit-strict-delete", "w1_total", ">=speedup", 4.0, True),
    Target("W1 speed-up vs IDBFS per commit with strict IndexedDB durability, ours WAL", "pool-wal",
           "idbfs-commit-strict-delete", "w1_total", ">=speedup", 15.0, True),
    Target("W2 vs MEMFS, DELETE", "pool-delete", "memfs-delete", "w2", "<=", 1.3),
    Target("W2 vs MEMFS, EXCLUSIVE+WAL", "pool-wal", "memfs-wal", "w2", "<=", 1.3),
    Target("W3 vs MEMFS, DELETE", "pool-delete", "memfs-delete", "w3", "<=", 1.3),
    Target("W3 vs MEMFS, EXCLUSIVE+WAL", "pool-wal", "memfs-wal", "w3", "<=", 1.3),
    Target("F1 write throughput vs raw handle", "pool-delete", "raw-sah", "f1_write_mbps", ">=share", 0.8),
    Target("F1 read throughput vs raw handle", "pool-delete", "raw-sah", "f1_read_mbps", ">=share", 0.8),
    Target("proxy: W1 vs sqlite-wasm \"opfs\" VFS", "proxy-delete", "sqlitewasm-opfs-delete", "w1_total", "<=", 0.5),
    Target("proxy: W3 vs sqlite-wasm \"opfs\" VFS", "proxy-delete", "sqlitewasm-opfs-delete", "w3", "<=", 0.1),
    Target("proxy: W2 vs MEMFS, DELETE", "proxy-delete", "memfs-delete", "w2", "<=", 1.3),
    Target("proxy: W3 vs MEMFS, DELETE", "proxy-delete", "memfs-delete", "w3", "<=", 1.3),
    Target("proxy: F1 write throughput vs raw handle", "proxy-delete", "raw-sah", "f1_write_mbps", ">=share", 0.8),
    Target("proxy: F1 read throughput vs raw handle", "proxy-delete", "raw-sah", "f1_read_mbps", ">=share", 0.8),
]


def evaluate_targets(summary: dict[str, dict[str, Any]], extras: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in TARGETS:
        a = summary.get(t.ours, {}).get(t.metric)
        b = summary.get(t.other or "", {}).get(t.metric)
        if a is None or b is None or a <= 0 or b <= 0:
            why = summary.get(t.ours, {}).get("skipped") or summary.get(t.other or "", {}).get("skipped")
            out.append({"name": t.name, "kind": t.kind, "limit": t.limit, "ratio": None, "met": None,
                        "informational": t.informational, "ours": t.ours, "other": t.other, "metric": t.metric,
                        "text": f"not measured ({why})" if why else "not measured"})
            continue
        if t.kind == "<=":
            ratio, met, text = a / b, a / b <= t.limit, f"{a / b:.2f}x (target <= {t.limit:g}x)"
        elif t.kind == ">=speedup":
            ratio, met, text = b / a, b / a >= t.limit, f"{b / a:.1f}x faster (target >= {t.limit:g}x)"
        else:
            ratio, met, text = a / b, a / b >= t.limit, f"{100 * a / b:.0f}% (target >= {100 * t.limit:.0f}%)"
        out.append({"name": t.name, "kind": t.kind, "limit": t.limit, "ratio": ratio, "met": met,
                    "informational": t.informational, "ours": t.ours, "other": t.other, "metric": t.metric,
                    "ours_value": a, "other_value": b, "text": text})
    heap = extras.get("heap") or {}
    for r in heap.get("reads", []):
        growth = r["growth"]
        out.append({"name": f"WASM heap growth reading {r['bytes'] >> 20} MiB ({r['chunk'] >> 10} KiB f.read chunks)",
                    "kind": "abs<=", "limit": 2 * MiB, "ratio": growth / (2 * MiB), "met": growth <= 2 * MiB,
                    "informational": False, "text": f"+{growth / MiB:.2f} MiB (target <= 2 MiB)"})
    mount = extras.get("mount") or {}
    if mount.get("ours"):
        fit = linear_fit([p["capacity"] for p in mount["ours"]], [p["remount_ms"] for p in mount["ours"]])
        fit_c = linear_fit([p["capacity"] for p in mount["ours"]], [p["create_ms"] for p in mount["ours"]])
        for what, f in (("mount (existing pool)", fit), ("mount creating the pool", fit_c)):
            if f is None:
                continue
            out.append({"name": f"{what}: time linear in capacity", "kind": "linear", "limit": 0.95,
                        "ratio": f["r2"], "met": f["r2"] >= 0.95 and f["growth"] <= 1.25, "informational": False,
                        "text": f"{f['a']:.0f} ms + {f['b']:.2f} ms/file, R^2 {f['r2']:.3f}; ms/file at the two "
                                f"largest capacities x{f['growth']:.2f} (target R^2 >= 0.95, x <= 1.25)"})
    return out


def linear_fit(xs: list[float], ys: list[float]) -> dict[str, float] | None:
    """Least squares y = a + b x and its R^2, plus ``growth``: the cost per item at the largest x
    over the cost per item at the next largest (<= 1 when linear with a fixed cost, ~2 when
    quadratic and x doubles)."""
    if len(xs) < 3:
        return None
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (a + b * x)) ** 2 for x, y in zip(xs, ys))
    r2 = 1 - ss_res / ss_tot if ss_tot > 0 else 1.0
    growth = (ys[-1] / xs[-1]) / (ys[-2] / xs[-2]) if ys[-2] > 0 and xs[-2] > 0 else math.inf
    return {"a": a, "b": b, "r2": r2, "growth": growth}


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    summary = {k: summarize_stack(v) for k, v in results.get("stacks", {}).items()}
    checks = {k: v["w3_checksum"] for k, v in summary.items() if "w3_checksum" in v}
    return {
        "stacks": summary,
        "targets": evaluate_targets(summary, results.get("extras", {})),
        "w3_checksums_agree": len(set(checks.values())) <= 1,
    }


# ----------------------------------------------------------------------------------- markdown


def _ms(v: float | None, digits: int = 0) -> str:
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def _label(results: dict[str, Any], key: str) -> str:
    d = results.get("stack_defs", {}).get(key, {})
    label = d.get("label", key)
    return f"**{label}**" if d.get("ours") else label


def markdown(results: dict[str, Any], summary: dict[str, Any], chart_name: str | None) -> str:
    m = results["meta"]
    sz = results["sizes"]
    st = summary["stacks"]
    lines: list[str] = []
    add = lines.append
    add("# pyodide-opfs benchmark")
    add("")
    add(f"`pyodide-opfs bench{' --quick' if results['mode'] == 'quick' else ''}` on {m.get('date')}"
        f" ({results['mode']} run, {m.get('duration_s')} s). Every stack ran in its own dedicated worker in one"
        " headless Chromium session with an on-disk profile, on a fresh database / OPFS directory per run.")
    add("")
    add(f"- Machine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('memory_gib')} GiB, {m.get('os')};"
        f" load average {m.get('loadavg_start')} at start, {m.get('loadavg_end')} at end")
    add(f"- Browser: Chromium {m.get('browser')} (headless, Playwright {m.get('playwright')})")
    add(f"- Pyodide {m.get('pyodide')} (Python {m.get('python')}, SQLite {m.get('pyodide_sqlite')});"
        f" @sqlite.org/sqlite-wasm {m.get('sqlite_wasm_npm')} (SQLite {m.get('sqlite_wasm_lib', '?')});"
        f" pyodide_opfs {m.get('pyodide_opfs')} at {m.get('git_commit') or '?'}"
        f"; proxy backend {'present' if m.get('has_proxy') else 'not present (its rows are skipped)'}")
    add(f"- Sizes: W1 {sz['w1']:,} single-row commits; W2 {sz['w2']:,} rows in one transaction; W3 {sz['w3']:,}"
        f" random point reads; W4 close + reopen + count; F1 {sz['f1_bytes'] >> 20} MiB in 64 KiB writes then reads;"
        f" F2 {sz['f2_n']:,} random 4 KiB writes + fsync in a {sz['f2_file_bytes'] >> 20} MiB file;"
        f" up to {sz['repeat']} runs per stack, medians shown.")
    add("- Durability: sqlite-wasm runs with `synchronous=FULL` (its default: a flush at every commit);"
        " ours with `connect()`'s defaults (our filesystem flushes at every commit point whatever"
        " `synchronous` says). MEMFS never persists; IDBFS persists only at `syncfs`.")
    if chart_name:
        add("")
        add(f"![benchmark chart]({chart_name})")
    add("")
    add("## Targets")
    add("")
    add("| target | measured | met |")
    add("|---|---|---|")
    for t in summary["targets"]:
        met = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
        if t.get("informational"):
            met = f"({met}, informational)"
        add(f"| {t['name']} | {t['text']} | {met} |")
    add("")
    add("## SQLite workloads (ms; medians)")
    add("")
    add("| stack | W1 total | W1 p50 / commit | W1 p95 / commit | W2 | W3 | W4 | runs |")
    add("|---|---:|---:|---:|---:|---:|---:|---:|")
    for key, s in st.items():
        raw = results["stacks"][key]
        if raw.get("skipped"):
            add(f"| {_label(results, key)} | skipped: {raw['skipped']} | | | | | | |")
            continue
        if raw.get("error") and not s.get("w1_total"):
            add(f"| {_label(results, key)} | error: {raw['error'].splitlines()[0][:80]} | | | | | | |")
            continue
        if "w1_total" not in s:
            if "floor_total" in s:
                add(f"| {_label(results, key)}: 4 KiB write + flush per commit | {_ms(s['floor_total'])} |"
                    f" {_ms(s['floor_p50'], 3)} | {_ms(s['floor_p95'], 3)} | | | | {len(raw.get('floor', []))} |")
            continue
        add(f"| {_label(results, key)} | {_ms(s['w1_total'])} | {_ms(s['w1_p50'], 3)} | {_ms(s['w1_p95'], 3)} |"
            f" {_ms(s.get('w2'))} | {_ms(s.get('w3'))} | {_ms(s.get('w4'), 1)} | {s['runs']} |")
    if not summary.get("w3_checksums_agree", True):
        add("")
        add("**Warning: W3 checksums differ between stacks (they read different data).**")
    notes = [(k, d["note"]) for k, d in results.get("stack_defs", {}).items() if d.get("note")]
    for key, note in notes:
        add(f"\n{_label(results, key)}: {note}.")
    add("")
    add("## Flushes per commit, by journal mode (our backends, W1, counted at the SyncAccessHandles)")
    add("")
    add("| backend, journal mode | flushes / commit | handle writes / commit | proxy round trips / commit |"
        " W1 p50 ms / commit | W1 total ms |")
    add("|---|---:|---:|---:|---:|---:|")
    for key, s in st.items():
        if "flushes_per_commit" in s:
            rt = s.get("round_trips_per_commit")
            add(f"| {results['stack_defs'][key]['label']} | {s['flushes_per_commit']:.2f} | {s['writes_per_commit']:.2f} |"
                f" {'–' if rt is None else f'{rt:.1f}'} | {_ms(s['w1_p50'], 3)} | {_ms(s['w1_total'])} |")
    add("")
    add("## Files")
    add("")
    add("| stack | F1 write MB/s | F1 read MB/s | F2 p50 ms | F2 p95 ms | F2 total ms |")
    add("|---|---:|---:|---:|---:|---:|")
    for key, s in st.items():
        if "f1_write_mbps" in s or "f2_total" in s:
            add(f"| {_label(results, key)} | {_ms(s.get('f1_write_mbps'))} | {_ms(s.get('f1_read_mbps'))} |"
                f" {_ms(s.get('f2_p50'), 3)} | {_ms(s.get('f2_p95'), 3)} | {_ms(s.get('f2_total'))} |")
    add("")
    add("F1 with Python: `open(path, 'wb')` + `write(64 KiB)` (close flushes), then `open(path, 'rb', buffering=0)` +"
        " `readinto` one 64 KiB buffer. Raw: the same sizes on one SyncAccessHandle from JS, one flush.")
    extras = results.get("extras", {})
    mount = extras.get("mount") or {}
    if mount.get("ours"):
        add("")
        add("## Mount time vs pool capacity (ms)")
        add("")
        add("| capacity | pool: create + mount | pool: mount existing | sqlite-wasm installOpfsSAHPoolVfs (create) |")
        add("|---:|---:|---:|---:|")
        theirs = {p["capacity"]: p for p in mount.get("sqlite_wasm", [])}
        for p in mount["ours"]:
            t = theirs.get(p["capacity"], {})
            add(f"| {p['capacity']:,} | {_ms(p['create_ms'])} | {_ms(p['remount_ms'])} | {_ms(t.get('create_ms'))} |")
    heap = extras.get("heap") or {}
    if heap.get("reads"):
        add("")
        add("## WASM heap while reading a large file (pool backend)")
        add("")
        add("| read pattern | heap before MiB | heap after MiB | growth MiB | MB/s |")
        add("|---|---:|---:|---:|---:|")
        for r in heap["reads"]:
            add(f"| `f.read({r['chunk'] >> 10} KiB)` over {r['bytes'] >> 20} MiB | {r['heap_before'] / MiB:,.1f} |"
                f" {r['heap_after'] / MiB:,.1f} | {r['growth'] / MiB:,.2f} | {_ms(r['bytes'] / 1e3 / r['read_ms'])} |")
        add("")
        add("Each read ran in " + ("a fresh worker (the file was written by another one)." if heap.get("fresh_worker")
                                  else "the worker that wrote the file (--quick)."))
    tuning = extras.get("tuning") or {}
    if tuning.get("configs"):
        lines.extend(tuning_markdown(tuning))
    prof = extras.get("profile") or {}
    if prof and not prof.get("error"):
        lines.extend(profile_markdown(prof))
        if prof.get("read_sweep"):
            lines.extend(sweep_markdown(prof["read_sweep"]))
    for e_name, e in extras.items():
        if isinstance(e, dict) and e.get("error"):
            add(f"\n{e_name}: error: {e['error'].splitlines()[0][:200]}")
    add("")
    add("## Scaling (total ms at x1, x10, x100 the base size)")
    add("")
    add("| stack | workload | " + " | ".join(f"x{f}" for f in sz["factors"]) + " |")
    add("|---|---|" + "---:|" * len(sz["factors"]) + "")
    for key, raw in results["stacks"].items():
        for workload, points in (raw.get("scaling") or {}).items():
            if not points:
                continue
            cells = []
            for f in sz["factors"]:
                p = next((p for p in points if p["factor"] == f), None)
                if p is None:
                    cells.append("")
                elif "skipped" in p:
                    cells.append(f"skipped ({p['skipped']})")
                else:
                    cells.append(f"{p['total_ms']:,.0f} ({_per_unit(workload, p)})")
            add(f"| {_label(results, key)} | {workload} | " + " | ".join(cells) + " |")
    add("")
    return "\n".join(lines)


def sweep_markdown(sweep: dict[str, Any]) -> list[str]:
    nbytes = sweep["bytes"]
    out = ["", f"### Read throughput by call size ({nbytes >> 20} MiB file, best of 3)", "",
           "| reader | " + " | ".join(f"{p['chunk'] >> 10} KiB calls" for p in sweep.get("raw", [])) + " |",
           "|---|" + "---:|" * len(sweep.get("raw", []))]
    names = {"pool": "Python `readinto`, pool backend", "memfs": "Python `readinto`, MEMFS",
             "raw": "JS `SyncAccessHandle.read`"}
    for key in ("pool", "memfs", "raw"):
        if key in sweep:
            out.append(f"| {names[key]} | " + " | ".join(
                f"{nbytes / 1e3 / p['ms']:,.0f} MB/s, {p['us_per_call']:.1f} µs/call" for p in sweep[key]) + " |")
    return out


def tuning_markdown(tuning: dict[str, Any]) -> list[str]:
    out = ["", "## connect() settings on the pool backend (medians, ms)", "",
           "| journal mode | page size | cache_size | W1 p50 / commit | W1 p95 / commit | flushes / commit | W2 | W3 |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in tuning["configs"]:
        runs = c["runs"]

        def med(w: str, k: str, runs: list[dict[str, Any]] = runs) -> float:
            return float(statistics.median(r[w][k] for r in runs))

        flushes = statistics.median(r["w1"].get("flushes_per_commit", 0) for r in runs)
        out.append(f"| {c['journal']} | {c['page_size']} | {c['cache_size'] or 'default (-2000)'} |"
                   f" {med('w1', 'p50'):.3f} | {med('w1', 'p95'):.3f} | {flushes:.2f} |"
                   f" {med('w2', 'total_ms'):,.0f} | {med('w3', 'total_ms'):,.0f} |")
    return out


FS_DATA_OPS = ("read", "write", "llseek", "fsync", "open", "close", "dup")


def profile_rows(prof: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (stack, workload): totals split into handle calls, filesystem glue, the rest."""
    rows = []
    for key, workloads in prof.items():
        if not isinstance(workloads, dict) or key == "read_sweep":
            continue
        for wname, w in workloads.items():
            if not isinstance(w, dict) or "total_ms" not in w:
                continue
            sah = w.get("sah", {})
            fs = w.get("fs")
            handle_ms = sum(v["ms"] for v in sah.values())
            fs_ms = sum(v["ms"] for k, v in (fs or {}).items() if k in FS_DATA_OPS) if fs is not None else None
            meta_ms = sum(v["ms"] for k, v in (fs or {}).items() if k not in FS_DATA_OPS) if fs is not None else None

            def get(m: str, sah: dict[str, Any] = sah) -> dict[str, Any]:
                return dict(sah.get(m, {"calls": 0, "ms": 0.0}))

            rows.append({
                "stack": key, "workload": wname, "n": w["result"].get("n", 1), "total_ms": w["total_ms"],
                "bytes": w["result"].get("bytes"),
                "flush": get("flush"), "write": get("write"), "read": get("read"),
                "other_handle_ms": handle_ms - get("flush")["ms"] - get("write")["ms"] - get("read")["ms"],
                "other_handle_calls": sum(v["calls"] for k, v in sah.items() if k not in ("flush", "write", "read")),
                "handle_ms": handle_ms,
                "fs_ms": fs_ms, "fs_meta_ms": meta_ms,
                # outside the filesystem: SQLite + Python (ours, MEMFS) or SQLite + its VFS (sqlite-wasm)
                "rest_ms": w["total_ms"] - (fs_ms + (meta_ms or 0) if fs_ms is not None else handle_ms),
            })
    return rows


def profile_markdown(prof: dict[str, Any]) -> list[str]:
    out = ["", "## Where the time goes (profile run: every handle call and filesystem operation timed)", "",
           "W1 figures are per commit, W2/W3/F1 per whole workload (ms; F1 = write + read of the file). *FS glue* = time inside our (or MEMFS's)"
           " Emscripten node/stream operations minus the handle calls they make; *FS metadata ops* (lookup, getattr,"
           " mknod, unlink, ...) include their handle calls; *rest* = everything else"
           " (SQLite, Python, sqlite-wasm's own VFS code). The probe itself adds ~1 µs per call, and this run is"
           " not interleaved between stacks: compare counts more than times.", "",
           "| stack | workload | total | flush (calls × ms) | write (calls, ms) | read (calls, ms) | other handle calls |"
           " FS glue | FS metadata ops | rest |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in profile_rows(prof):
        d = r["n"] if r["workload"] == "w1" else 1
        fl, wr, rd = r["flush"], r["write"], r["read"]
        # every handle call happens inside some FS operation (data or metadata): glue = the rest
        glue = "–" if r["fs_ms"] is None else f"{(r['fs_ms'] + (r['fs_meta_ms'] or 0) - r['handle_ms']) / d:,.3f}"
        meta = "–" if r["fs_meta_ms"] is None else f"{r['fs_meta_ms'] / d:,.3f}"
        out.append(
            f"| {r['stack']} | {r['workload'].upper()}{' /commit' if d != 1 else ''} | {r['total_ms'] / d:,.3f} |"
            f" {fl['calls'] / d:,.2f} × {fl['ms'] / max(1, fl['calls']):.3f} = {fl['ms'] / d:,.3f} |"
            f" {wr['calls'] / d:,.1f}, {wr['ms'] / d:,.3f} | {rd['calls'] / d:,.1f}, {rd['ms'] / d:,.3f} |"
            f" {r['other_handle_calls'] / d:,.1f}, {r['other_handle_ms'] / d:,.3f} |"
            f" {glue} | {meta} | {r['rest_ms'] / d:,.3f} |")
    return out


def _per_unit(workload: str, p: dict[str, Any]) -> str:
    if workload == "F1":
        return f"{p['size'] / 1e6 / (p['total_ms'] / 1000):,.0f} MB/s r+w"
    if workload == "W2":
        return f"{1000 * p['total_ms'] / p['size']:.1f} µs/row"
    return f"{p['total_ms'] / p['size']:.3f} ms/commit"


# -------------------------------------------------------------------------------------- chart

OURS_COLOR = "#1f77b4"
OTHER_COLOR = "#9e9e9e"


def chart(results: dict[str, Any], summary: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    st = summary["stacks"]
    defs = results.get("stack_defs", {})
    fig, axes = plt.subplots(3, 2, figsize=(15, 15))
    m = results["meta"]
    fig.suptitle(f"pyodide-opfs benchmark ({results['mode']}): Chromium {m.get('browser')}, Pyodide {m.get('pyodide')},"
                 f" sqlite-wasm {m.get('sqlite_wasm_lib', '?')}, {m.get('cores')} cores", fontsize=12)

    # (a) W1 p50 per commit
    ax = axes[0][0]
    rows = [(k, s["w1_p50"]) for k, s in st.items() if s.get("w1_p50")]
    rows += [(k + " (write+flush)", s["floor_p50"]) for k, s in st.items() if s.get("floor_p50")]
    rows.sort(key=lambda r: r[1])
    if rows:
        colors = [OURS_COLOR if defs.get(k.split(" ")[0], {}).get("ours") else OTHER_COLOR for k, _ in rows]
        ax.barh([k for k, _ in rows], [v for _, v in rows], color=colors)
        ax.set_xscale("log")
        for i, (_, v) in enumerate(rows):
            ax.text(v, i, f" {v:.3g}", va="center", fontsize=8)
    ax.set_title("W1: p50 ms per commit (log; blue = ours)")
    ax.invert_yaxis()

    # (b) targets: margin (<= 1 means met)
    ax = axes[0][1]
    trows = []
    for t in summary["targets"]:
        if t["ratio"] is None:
            continue
        if t["kind"] in ("<=", "abs<="):
            margin = t["ratio"] / t["limit"] if t["kind"] == "<=" else t["ratio"]
        elif t["kind"] == "linear":
            margin = (1 - t["ratio"]) / (1 - t["limit"]) if t["limit"] < 1 else 0
        else:
            margin = t["limit"] / t["ratio"]
        trows.append((t["name"], margin, t["met"], t.get("informational")))
    if trows:
        names = [r[0] if len(r[0]) < 58 else r[0][:55] + "..." for r in trows]
        colors = ["#999999" if r[3] else ("#2ca02c" if r[2] else "#d62728") for r in trows]
        ax.barh(names, [max(r[1], 1e-3) for r in trows], color=colors)
        ax.axvline(1.0, color="black", lw=1)
        ax.set_xscale("log")
        ax.tick_params(axis="y", labelsize=7)
        ax.invert_yaxis()
    ax.set_title("Targets: measured / allowed (< 1 = met)")

    # (c)(d)(e) scaling curves
    for ax, workload, unit in ((axes[1][0], "W1", "commits"), (axes[1][1], "W2", "rows"), (axes[2][0], "F1", "MiB")):
        for key, raw in results.get("stacks", {}).items():
            pts = [p for p in (raw.get("scaling") or {}).get(workload if not (workload == "W1" and key == "raw-sah") else "floor", []) if "total_ms" in p]
            if len(pts) < 1:
                continue
            xs = [p["size"] / (MiB if workload == "F1" else 1) for p in pts]
            ys = [p["total_ms"] for p in pts]
            ours = defs.get(key, {}).get("ours")
            ax.plot(xs, ys, marker="o", lw=2 if ours else 1, ls="-" if ours else "--", label=key)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(unit)
        ax.set_ylabel("total ms")
        ax.set_title(f"Scaling: {workload} total time vs size (log-log)")
        ax.grid(True, which="both", alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)

    # (f) mount time vs capacity
    ax = axes[2][1]
    mount = (results.get("extras") or {}).get("mount") or {}
    if mount.get("ours"):
        caps = [p["capacity"] for p in mount["ours"]]
        ax.plot(caps, [p["remount_ms"] for p in mount["ours"]], marker="o", lw=2, label="pool: mount existing")
        ax.plot(caps, [p["create_ms"] for p in mount["ours"]], marker="o", lw=2, label="pool: create + mount")
        if mount.get("sqlite_wasm"):
            ax.plot([p["capacity"] for p in mount["sqlite_wasm"]], [p["create_ms"] for p in mount["sqlite_wasm"]],
                    marker="s", ls="--", label="sqlite-wasm install (create)")
        ax.legend(fontsize=8)
    ax.set_xlabel("pool capacity (files)")
    ax.set_ylabel("ms")
    ax.set_title("Mount time vs pool capacity")
    ax.grid(True, alpha=0.3)

    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


# -------------------------------------------------------------------------------------- write


def short_summary(results: dict[str, Any], summary: dict[str, Any]) -> str:
    """The targets, side by side, for the terminal."""
    lines = ["Targets (measured vs target):"]
    width = max((len(t["name"]) for t in summary["targets"]), default=20)
    for t in summary["targets"]:
        met = "  --  " if t["met"] is None else (" MET  " if t["met"] else "MISSED")
        if t.get("informational"):
            met = " info "
        lines.append(f"  [{met}] {t['name']:<{width}}  {t['text']}")
    return "\n".join(lines)


def write_all(results: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(results)
    files: dict[str, Path] = {}
    chart_name: str | None = "bench.png"
    try:
        files["chart"] = chart(results, summary, out_dir / "bench.png")
    except Exception as e:  # noqa: BLE001 - a chart failure must not lose the numbers
        print(f"[bench] chart failed: {e}")
        chart_name = None
    md = markdown(results, summary, chart_name)
    (out_dir / "results.md").write_text(md)
    files["markdown"] = out_dir / "results.md"
    (out_dir / "results.json").write_text(json.dumps({**results, "summary": summary}, indent=1, default=str))
    files["json"] = out_dir / "results.json"
    return {"files": files, "summary": short_summary(results, summary), "markdown": md}
