"""Static checks that keep the typing honest: mypy --strict over the package, and tsc over the
JS it ships against its declarations (pyodide_opfs/js/types.d.ts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TSC = REPO / ".cache" / "npm" / "node_modules" / ".bin" / "tsc"


def run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_mypy_strict() -> None:
    result = run([sys.executable, "-m", "mypy"])  # settings in pyproject.toml: strict, files
    assert result.returncode == 0, result.stdout + result.stderr


def test_js_matches_its_type_declarations() -> None:
    assert TSC.exists(), f"{TSC} is missing: run ./dev setup"
    result = run([str(TSC), "-p", "tsconfig.json"])
    assert result.returncode == 0, result.stdout + result.stderr
    checked = [p.name for p in (REPO / "pyodide_opfs" / "js").glob("*.mjs")
               if p.read_text(encoding="utf-8").startswith("// @ts-check")]
    assert {"emscripten_fs.mjs", "flush_policy.mjs", "sahpool.mjs", "pool_mount.mjs", "header.mjs", "errno.mjs",
            "proxy_client.mjs", "proxy_mount.mjs", "proxy_protocol.mjs", "proxy_worker.mjs"} <= set(checked)
