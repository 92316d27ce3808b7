"""Browser settings for the test harness, in one place.

A plain Python module (not a Playwright Test config): tests/conftest.py loads it by path.
Chromium is Debian's package (``./dev setup`` installs it); ``playwright install`` is not used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("PYODIDE_OPFS_CHROMIUM", "/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# PYODIDE_OPFS_HEADED=1 shows the browser (needs a display).
HEADLESS = os.environ.get("PYODIDE_OPFS_HEADED", "") in ("", "0")

#: Seconds for the worker to boot Pyodide and install the wheel.
BOOT_TIMEOUT_S = 60.0
#: Default seconds for one `run` of Python code.
RUN_TIMEOUT_S = 120.0
#: Seconds for page navigation and browser launch.
NAVIGATION_TIMEOUT_S = 30.0


def launch_kwargs() -> dict[str, Any]:
    """Keyword arguments for ``browser_type.launch_persistent_context(user_data_dir, **kw)``."""
    return {
        "executable_path": CHROMIUM,
        "args": list(CHROMIUM_ARGS),
        "headless": HEADLESS,
        "timeout": NAVIGATION_TIMEOUT_S * 1000,
    }


def launch_args() -> dict[str, Any]:
    """Keyword arguments for ``browser_type.launch(**kw)`` (an off-the-record browser)."""
    return launch_kwargs()


def chromium_exists() -> bool:
    return Path(CHROMIUM).exists()
