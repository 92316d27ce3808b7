"""Build the pyodide-opfs wheel into ``.cache/wheels/`` (served to the browser as ``/wheels/``).

``python -m pyodide_opfs.tools.wheel`` builds it and prints the wheel's path.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from . import paths

PROJECT = "pyodide_opfs"


def build_wheel(out_dir: Path | None = None) -> Path:
    """Build our wheel into ``out_dir`` (default ``.cache/wheels``); return its path.

    Older ``pyodide_opfs-*.whl`` files there are removed, so exactly one is left. The wheel is
    built in a scratch directory and renamed into place, so a browser fetching it meanwhile (a
    test run in parallel) gets the old or the new file whole, never a half-written one.
    Uses hatchling's builder in-process when importable (fast), else ``pip wheel``.
    """
    out = Path(out_dir) if out_dir is not None else paths.DIST_DIR
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".build-") as tmp:
        try:
            built = _build_with_hatchling(Path(tmp))
        except ImportError:
            built = _build_with_pip(Path(tmp))
        target = out / built.name
        for old in out.glob(f"{PROJECT}-*.whl"):
            if old.name != target.name:
                old.unlink(missing_ok=True)
        built.replace(target)
    return target


def _build_with_hatchling(out: Path) -> Path:
    from hatchling.builders.wheel import WheelBuilder

    builder = WheelBuilder(str(paths.REPO_ROOT))
    built = [Path(p) for p in builder.build(directory=str(out), versions=["standard"])]
    if len(built) != 1:
        raise RuntimeError(f"expected one wheel, hatchling built {built}")
    return built[0]


def _build_with_pip(out: Path) -> Path:
    # Build into a scratch directory so we know exactly which file is ours.
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--disable-pip-version-check", "-q", "-w", tmp, str(paths.REPO_ROOT.resolve())],
            check=True,
        )
        found = list(Path(tmp).glob(f"{PROJECT}-*.whl"))
        if len(found) != 1:
            raise RuntimeError(f"expected one wheel, pip built {found}")
        target = out / found[0].name
        found[0].replace(target)
    return target


def main() -> None:
    print(build_wheel())


if __name__ == "__main__":
    main()
