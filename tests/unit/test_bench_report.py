"""The benchmark's report (no browser): targets, markdown, JSON and chart from canned results."""

from __future__ import annotations

import json
from pathlib import Path

from pyodide_opfs.bench import report, stacks
from pyodide_opfs.bench.runner import select_stacks


def _run(w1: float, p50: float, w2: float | None = None, w3: float | None = None, flushes: float | None = None) -> dict:
    w1d = {"n": 1000, "total_ms": w1, "p50": p50, "p95": p50 * 2, "max": p50 * 3}
    if flushes is not None:
        w1d.update(flushes_per_commit=flushes, writes_per_commit=5.0, io_per_commit={"db": {"writes": 2, "flushes": 1}})
    run: dict = {"w1": w1d, "db": {}}
    if w2 is not None:
        run.update(w2={"n": 100000, "total_ms": w2}, w3={"n": 10000, "total_ms": w3, "checksum": 5},
                   w4={"total_ms": 3.0, "count": 100000})
    return run


def canned() -> dict:
    defs = {s.key: {"label": s.label, "engine": s.engine, "journal": s.journal, "ours": s.ours, "note": s.note,
                    "params": s.params} for s in stacks.STACKS}
    st = {
        "pool-delete": {"runs": [_run(2000, 2.0, 600, 300, 2.0), _run(2200, 2.2, 640, 320, 2.0)],
                        "files": {"f1": [{"bytes": 64 << 20, "write_ms": 100, "read_ms": 50, "heap_growth": 0}],
                                  "f2": {"n": 1000, "total_ms": 500, "p50": 0.5, "p95": 0.9, "max": 2}},
                        "scaling": {"W1": [{"factor": 1, "size": 1000, "total_ms": 2000},
                                           {"factor": 10, "size": 10000, "total_ms": 21000},
                                           {"factor": 100, "size": 100000, "skipped": "predicted 231 s > budget 45 s"}]}},
        "pool-wal": {"runs": [_run(500, 0.5, 550, 280, 1.0)], "scaling": {}},
        "proxy-delete": {"skipped": "pyodide_opfs has no mount_proxy"},
        "memfs-delete": {"runs": [_run(280, 0.14, 530, 270)], "scaling": {}},
        "memfs-wal": {"runs": [_run(100, 0.05, 500, 260)], "scaling": {}},
        "idbfs-commit-delete": {"runs": [_run(10000, 10.0, 700, 390)], "scaling": {}},
        "sqlitewasm-sahpool-delete": {"runs": [_run(2700, 2.5, 1200, 430)], "scaling": {}},
        "sqlitewasm-sahpool-wal": {"runs": [_run(720, 0.59, 1300, 126)], "scaling": {}},
        "raw-sah": {"runs": [], "floor": [{"n": 1000, "total_ms": 450, "p50": 0.45, "p95": 0.6, "max": 1}],
                    "files": {"f1": [{"bytes": 64 << 20, "write_ms": 90, "read_ms": 45}]},
                    "scaling": {"floor": [{"factor": 1, "size": 1000, "total_ms": 450}]}},
    }
    return {
        "meta": {"date": "2026-01-01", "duration_s": 1, "browser": "156", "pyodide": "314.0.7", "cores": 2},
        "mode": "full",
        "sizes": {"w1": 1000, "w2": 100000, "w3": 10000, "f1_bytes": 64 << 20, "f2_n": 1000,
                  "f2_file_bytes": 16 << 20, "repeat": 3, "factors": [1, 10, 100], "capacities": [6, 50, 100]},
        "stack_defs": {k: v for k, v in defs.items() if k in st},
        "stacks": st,
        "extras": {
            "mount": {"ours": [{"capacity": c, "create_ms": 3 * c + 20, "remount_ms": c + 10} for c in (6, 50, 100)],
                      "sqlite_wasm": [{"capacity": 6, "create_ms": 30}]},
            "heap": {"reads": [{"bytes": 256 << 20, "chunk": 1 << 20, "read_ms": 200, "heap_before": 40 << 20,
                                "heap_after": 40 << 20, "growth": 0}], "fresh_worker": True},
        },
    }


def test_targets_from_canned_results() -> None:
    summary = report.summarize(canned())
    by_name = {t["name"]: t for t in summary["targets"]}
    t = by_name["W1 p50/commit vs sqlite-wasm opfs-sahpool, DELETE"]
    assert t["met"] is True and abs(t["ratio"] - 2.1 / 2.5) < 1e-9  # median of 2.0 and 2.2
    assert by_name["W1 speed-up vs IDBFS syncfs per commit (DELETE), ours DELETE"]["met"] is True
    assert by_name["W2 vs MEMFS, DELETE"]["met"] is True
    assert by_name["F1 read throughput vs raw handle"]["met"] is True
    assert by_name["mount (existing pool): time linear in capacity"]["met"] is True
    proxy = by_name["proxy: W3 vs sqlite-wasm \"opfs\" VFS"]  # proxy absent: listed, not judged
    assert proxy["met"] is None and "no mount_proxy" in proxy["text"]
    assert summary["stacks"]["pool-delete"]["flushes_per_commit"] == 2.0


def test_write_all(tmp_path: Path) -> None:
    written = report.write_all(canned(), tmp_path)
    md = (tmp_path / "results.md").read_text()
    assert "## Targets" in md and "| **pyodide_opfs pool, DELETE** |" in md and "skipped" in md
    assert json.loads((tmp_path / "results.json").read_text())["summary"]["w3_checksums_agree"]
    assert (tmp_path / "bench.png").read_bytes()[:4] == b"\x89PNG"
    assert "Targets" in written["summary"]


def test_linear_fit_flags_quadratic_growth() -> None:
    caps = [6, 50, 100, 250, 500, 1000]
    assert report.linear_fit(caps, [2 * c + 5 for c in caps])["growth"] <= 1.0
    assert report.linear_fit(caps, [c * c / 10 for c in caps])["growth"] >= 1.9


def test_select_stacks_by_prefix() -> None:
    keys = [s.key for s in select_stacks(["pool", "raw-sah"])]
    assert keys == ["pool-delete", "pool-wal", "pool-truncate", "pool-persist", "raw-sah"]
