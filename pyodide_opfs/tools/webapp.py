"""Publish our wheel for the demo app (``web/index.html``).

The app finds the wheel to install through ``/wheels/latest.json`` (``{"wheel": "/wheels/…whl",
"version": …}``), unless its page URL carries ``?wheel=/wheels/NAME.whl``. ``pyodide-opfs serve``
calls :func:`publish_wheel` at startup, so the page always installs the code in the working tree.

The wheel is built in a scratch directory and moved into ``.cache/wheels`` with one rename, so a
test run reading the same file meanwhile never sees it missing or half written.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import paths

MANIFEST_NAME = "latest.json"


def manifest_path() -> Path:
    return paths.WHEELS_DIR / MANIFEST_NAME


def write_manifest(wheel: Path) -> Path:
    """Point ``/wheels/latest.json`` at ``wheel`` (a file in ``.cache/wheels``)."""
    wheel = Path(wheel)
    if wheel.parent.resolve() != paths.WHEELS_DIR.resolve():
        raise ValueError(f"{wheel} is not in {paths.WHEELS_DIR}, so /wheels/ does not serve it")
    version = wheel.name.split("-")[1] if wheel.name.count("-") >= 2 else ""
    data = {"wheel": "/wheels/" + wheel.name, "version": version, "built": int(time.time())}
    target = manifest_path()
    fd, tmp = tempfile.mkstemp(prefix=".latest-", suffix=".json", dir=paths.WHEELS_DIR)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, target)
    return target


def publish_wheel() -> Path:
    """Build the wheel from the working tree into ``.cache/wheels`` and point the manifest at it.

    If the build fails and a wheel is already there, that one is published instead (with a
    warning on stderr); with no wheel at all the error is raised.
    """
    from .wheel import build_wheel

    paths.WHEELS_DIR.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=paths.WHEELS_DIR))
    try:
        built = build_wheel(scratch)
        target = paths.WHEELS_DIR / built.name
        os.replace(built, target)
    except Exception as exc:
        existing = sorted(paths.WHEELS_DIR.glob("pyodide_opfs-*.whl"), key=lambda p: p.stat().st_mtime)
        if not existing:
            raise
        target = existing[-1]
        print(f"pyodide-opfs: building the wheel failed ({exc}); using {target.name}", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    write_manifest(target)
    return target
