"""The Pyodide releases the compatibility matrix runs on (host tooling, not the package).

The default release (``paths.PYODIDE_VERSION``) lives in ``.cache/npm`` and is served as
``/pyodide/``; every other one is an npm package in its own prefix ``.cache/pyodide-<version>``,
served as ``/pyodide-<version>/``, with the micropip wheel its lock file names in
``.cache/wheels``.

    python -m pyodide_opfs.tools.releases [--all]   # "<version> <micropip version>" per line

prints what ``./dev setup`` installs (the default pair, or with ``--all`` the whole matrix).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from . import paths

__all__ = ["Release", "RELEASES", "DEFAULT", "OLDEST", "by_version", "installed_roots"]


@dataclass(frozen=True)
class Release:
    version: str  # npm version of the `pyodide` package
    python: str  # Python of that release (its pyodide-lock.json)
    micropip: str  # micropip version in its lock file
    sqlite_builtin: bool  # stdlib sqlite3 built in (else a separate package the npm release lacks)
    default_run: bool = False  # part of the default test run (314 and the oldest supported)
    prerelease: bool = False  # tried and recorded, not claimed as supported

    @property
    def is_default(self) -> bool:
        return self.version == paths.PYODIDE_VERSION

    @property
    def npm_prefix(self) -> Path:
        return paths.NPM_PREFIX if self.is_default else paths.CACHE_DIR / f"pyodide-{self.version}"

    @property
    def dir(self) -> Path:
        return self.npm_prefix / "node_modules" / "pyodide"

    @property
    def url(self) -> str:
        """Base URL of the distribution on the dev server."""
        return "/pyodide/" if self.is_default else f"/pyodide-{self.version}/"

    @property
    def micropip_wheel_name(self) -> str:
        return f"micropip-{self.micropip}-py3-none-any.whl"

    @property
    def micropip_url(self) -> str:
        return "/wheels/" + self.micropip_wheel_name

    def missing(self) -> list[str]:
        out = []
        if not (self.dir / "pyodide.mjs").exists():
            out.append(f"Pyodide {self.version} ({self.dir})")
        if not (paths.WHEELS_DIR / self.micropip_wheel_name).exists():
            out.append(f"micropip {self.micropip} wheel (in {paths.WHEELS_DIR})")
        return out


#: Newest patch of every supported release line, oldest first, then the alpha we try.
RELEASES: tuple[Release, ...] = (
    Release("0.27.8", "3.12.7", "0.9.0", False, default_run=True),
    Release("0.28.3", "3.13.2", "0.10.1", False),
    Release("0.29.5", "3.13.2", "0.11.1", False),
    Release(paths.PYODIDE_VERSION, "3.14.2", paths.MICROPIP_VERSION, True, default_run=True),
    Release("315.0.0-alpha.2", "3.15.0rc1", "0.11.1", True, prerelease=True),
)
DEFAULT = next(r for r in RELEASES if r.is_default)
OLDEST = RELEASES[0]


def by_version(version: str) -> Release:
    for r in RELEASES:
        if r.version == version:
            return r
    raise KeyError(f"unknown Pyodide release {version!r}; known: {', '.join(r.version for r in RELEASES)}")


def installed_roots() -> dict[str, Path]:
    """Dev-server roots ``/pyodide-<version>/`` of the non-default releases that are installed."""
    return {r.url: r.dir for r in RELEASES if not r.is_default and r.dir.is_dir()}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    everything = "--all" in args
    for r in RELEASES:
        if r.is_default or not (everything or r.default_run):
            continue
        print(r.version, r.micropip)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
