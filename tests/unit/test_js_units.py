"""Runs the JS unit tests (tests/unit/js/*.test.mjs) under Node's built-in test runner, one
pytest test per file. Skipped only when `node` is not installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"
JS_TESTS = sorted(JS_DIR.glob("*.test.mjs"))
NODE = shutil.which("node")


def test_js_tests_exist() -> None:
    assert JS_TESTS, f"no *.test.mjs files in {JS_DIR}"


@pytest.mark.skipif(NODE is None, reason="node is not installed (needed for the JS unit tests)")
@pytest.mark.parametrize("test_file", JS_TESTS, ids=[p.name for p in JS_TESTS])
def test_js_unit_file(test_file: Path) -> None:
    assert NODE is not None
    proc = subprocess.run(
        [NODE, "--test", str(test_file)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=JS_DIR,
    )
    if proc.returncode != 0:
        pytest.fail(
            f"node --test {test_file.name} exited with {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}",
            pytrace=False,
        )
