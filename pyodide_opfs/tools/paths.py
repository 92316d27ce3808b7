"""One place for the repository's paths and pinned versions used by the host tools."""

from __future__ import annotations

import os
from pathlib import Path

PYODIDE_VERSION = "314.0.7"
MICROPIP_VERSION = "0.11.1"
SQLITE_WASM_VERSION = "3.54.1-build1"
PLAYWRIGHT_VERSION = "1.65.2"

#: The repository root (the directory holding ``pyproject.toml``).
REPO_ROOT = Path(__file__).resolve().parents[2]

#: Everything downloaded or built for development lives here (gitignored).
CACHE_DIR = REPO_ROOT / ".cache"
NPM_PREFIX = CACHE_DIR / "npm"
NODE_MODULES = NPM_PREFIX / "node_modules"
PYODIDE_DIR = NODE_MODULES / "pyodide"
SQLITE_WASM_DIR = NODE_MODULES / "@sqlite.org" / "sqlite-wasm"
#: micropip's wheel and our own built wheel, served under ``/wheels/``.
WHEELS_DIR = CACHE_DIR / "wheels"
#: Where :func:`pyodide_opfs.tools.wheel.build_wheel` puts our wheel (served as ``/wheels/``).
DIST_DIR = WHEELS_DIR

#: Static files of the test harness and the demo, served as ``/``.
WEB_DIR = REPO_ROOT / "web"

CHROMIUM = Path(os.environ.get("PYODIDE_OPFS_CHROMIUM", "/usr/bin/chromium"))


def micropip_wheel() -> Path | None:
    """The cached micropip wheel, or None when ``./dev setup`` has not fetched it."""
    found = sorted(WHEELS_DIR.glob(f"micropip-{MICROPIP_VERSION}-*.whl"))
    return found[-1] if found else None


def missing_setup() -> list[str]:
    """What ``./dev setup`` would install that is missing now (empty when all is there)."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"Chromium ({CHROMIUM})")
    if not (PYODIDE_DIR / "pyodide.mjs").exists():
        missing.append(f"Pyodide {PYODIDE_VERSION} ({PYODIDE_DIR})")
    if micropip_wheel() is None:
        missing.append(f"micropip {MICROPIP_VERSION} wheel (in {WHEELS_DIR})")
    return missing
