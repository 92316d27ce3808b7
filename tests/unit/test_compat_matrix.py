"""Host-side checks of the compatibility work (issue 9): the release table, the wheel metadata
that states the support, and the environment checks that need no browser."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pyodide_opfs.compat import OLDEST_SUPPORTED, check_pyodide_version
from pyodide_opfs.environment import check_sync_access_handle, opfs_refused
from pyodide_opfs.errors import UnsupportedEnvironmentError
from pyodide_opfs.tools import devserver, paths, releases

PYPROJECT = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())


def test_release_table() -> None:
    versions = [r.version for r in releases.RELEASES]
    assert len(set(versions)) == len(versions)
    assert releases.DEFAULT.version == paths.PYODIDE_VERSION
    assert releases.DEFAULT.micropip == paths.MICROPIP_VERSION
    # the oldest release in the matrix is the oldest the installer accepts, and is in the default run
    major, minor = (int(p) for p in releases.OLDEST.version.split(".")[:2])
    assert (major, minor) == OLDEST_SUPPORTED and releases.OLDEST.default_run
    for r in releases.RELEASES:
        assert check_pyodide_version((int(r.version.split(".")[0]), int(r.version.split(".")[1])))
        assert r.url.startswith("/pyodide") and r.url.endswith("/")
        assert r.micropip_url == f"/wheels/micropip-{r.micropip}-py3-none-any.whl"
    with pytest.raises(KeyError, match="0.26.0"):
        releases.by_version("0.26.0")


def test_setup_lists_the_default_pair_or_everything(capsys: pytest.CaptureFixture[str]) -> None:
    releases.main([])
    default = capsys.readouterr().out.split()
    releases.main(["--all"])
    everything = capsys.readouterr().out.split()
    assert default == [releases.OLDEST.version, releases.OLDEST.micropip]
    assert len(everything) == 2 * (len(releases.RELEASES) - 1)  # all but the default (.cache/npm)


def test_devserver_serves_installed_releases() -> None:
    roots = devserver.default_roots()
    for r in releases.RELEASES:
        if r.is_default:
            assert roots["/pyodide/"] == r.dir
        elif r.dir.is_dir():
            assert roots[r.url] == r.dir


def test_wheel_metadata_states_the_support() -> None:
    project = PYPROJECT["project"]
    # host tooling (dev server, CLI, tests) runs on 3.11; inside Pyodide it is 3.12 or later
    assert project["requires-python"] == ">=3.11"
    classifiers = set(project["classifiers"])
    assert "Framework :: Pyodide" in classifiers
    assert "Environment :: WebAssembly :: Emscripten" in classifiers
    for r in releases.RELEASES:
        if not r.prerelease:
            py = ".".join(r.python.split(".")[:2])
            assert f"Programming Language :: Python :: {py}" in classifiers
    trove = pytest.importorskip("trove_classifiers")
    assert classifiers <= set(trove.classifiers)


class _Handle:
    def __init__(self, size: object) -> None:
        self.size = size

    def getSize(self) -> object:  # noqa: N802 - the JS name
        return self.size


def test_sync_access_handle_check() -> None:
    check_sync_access_handle(_Handle(0))
    check_sync_access_handle(_Handle(4096))
    with pytest.raises(UnsupportedEnvironmentError, match="asynchronous.*Safari before 16.4"):
        check_sync_access_handle(_Handle(object()))  # a Promise, as the early draft returns


def test_refused_opfs_message() -> None:
    e = opfs_refused(Exception("SecurityError: Security error when calling GetDirectory"))
    assert isinstance(e, UnsupportedEnvironmentError)
    assert "private windows" in str(e) and "GetDirectory" in str(e)


def test_newer_release_than_tested_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="pyodide_opfs"):
        assert check_pyodide_version((399, 1)) == (399, 1)
        assert check_pyodide_version((399, 1)) == (399, 1)
        assert check_pyodide_version((314, 0)) == (314, 0)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "Pyodide 399.1 is newer" in warnings[0] and "0.27 - 314.x" in warnings[0]
