"""`pyodide-opfs bench --quick` completes and writes well-formed outputs.

Nothing here asserts speed: the figures depend on the machine. It checks that every stack ran
(or was skipped for a stated reason), that all stacks read the same data (W3 checksums agree) and
that the markdown, JSON and PNG are there and complete.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory, _browser_setup_ok: None) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [sys.executable, "-m", "pyodide_opfs.bench", "--quick", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=420,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out, proc.stdout


def test_quick_run_prints_progress_and_targets(quick_run: tuple[Path, str]) -> None:
    _, stdout = quick_run
    assert "pool-delete" in stdout and "W1" in stdout
    assert "Targets (measured vs target):" in stdout


def test_quick_run_json_is_complete(quick_run: tuple[Path, str]) -> None:
    out, _ = quick_run
    data = json.loads((out / "results.json").read_text())
    assert data["mode"] == "quick"
    for key in ("browser", "pyodide", "pyodide_sqlite", "sqlite_wasm_lib", "cpu", "cores"):
        assert data["meta"].get(key), key
    stacks = data["stacks"]
    expected = {"pool-delete", "pool-wal", "pool-truncate", "pool-persist", "memfs-delete", "idbfs-commit-delete",
                "idbfs-end-delete", "sqlitewasm-sahpool-delete", "sqlitewasm-sahpool-wal", "sqlitewasm-opfs-delete",
                "raw-sah"}
    assert expected <= set(stacks)
    for key, st in stacks.items():
        assert "error" not in st, (key, st.get("error"))
        if "skipped" in st:
            assert key.startswith("proxy"), key  # only stacks that need a missing backend are skipped
            continue
        assert st["runs"] or st.get("floor"), key
        summary = data["summary"]["stacks"][key]
        assert summary.get("w1_total", summary.get("floor_total", 0)) > 0, key
    for mode in ("delete", "wal", "truncate", "persist"):
        flushes = data["summary"]["stacks"][f"pool-{mode}"]["flushes_per_commit"]
        assert flushes >= 1, (mode, flushes)  # every commit flushed at least once (issue 11)
    assert data["summary"]["w3_checksums_agree"]
    assert data["extras"]["mount"]["ours"] and data["extras"]["heap"]["reads"]
    names = [t["name"] for t in data["summary"]["targets"]]
    assert any("sqlite-wasm opfs-sahpool" in n for n in names) and any("MEMFS" in n for n in names)


def test_quick_run_markdown_and_chart(quick_run: tuple[Path, str]) -> None:
    out, _ = quick_run
    md = (out / "results.md").read_text()
    for heading in ("## Targets", "## SQLite workloads", "## Flushes per commit", "## Files",
                    "## Mount time vs pool capacity", "## WASM heap", "## Scaling"):
        assert heading in md, heading
    assert "Chromium" in md and "Pyodide" in md
    png = (out / "bench.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
