"""Compatibility matrix (issue 9): the package on every supported Pyodide release.

For each release (pyodide_opfs/tools/releases.py): our wheel installs with ``micropip.install``;
the create / reopen / persist suite of test_lifecycle.py runs on a fresh on-disk profile per
backend (create, page reload, browser restart); the environment checks and the version gate give
their messages. Releases whose stdlib sqlite3 is a separate package that the npm release does not carry
(0.27 - 0.29) run the file part of the suite and skip the SQLite part with the reason.

Default run: the oldest supported release, two boots (create, then reopen after a page reload;
314 and the browser restart are covered by test_lifecycle.py).
Whole matrix (every release, 314 and the 315 alpha included)::

    ./dev matrix            # = ./dev setup --all-pyodide; pytest -m matrix tests/browser/test_compat.py
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from backends import REAL_BACKENDS, selected
from harness import BrowserSession
from packaging.version import Version
from test_lifecycle import (
    CREATE_DB,
    CREATE_FILES,
    MODIFY_DB,
    MODIFY_FILES,
    expected_after_create,
    expected_after_modify,
    run_on_mount,
)

from pyodide_opfs.tools import releases
from pyodide_opfs.tools.releases import Release

pytestmark = pytest.mark.matrix


def _param(release: Release, backend: str = "sahpool", matrix_only: bool = False) -> Any:
    marks = []
    if matrix_only or backend != "sahpool" or not release.default_run or release.is_default:
        marks.append(pytest.mark.slow)  # only in the matrix run (314: test_lifecycle.py)
    if release.prerelease:
        marks.append(pytest.mark.xfail(reason=f"Pyodide {release.version} is a pre-release: tried, not supported",
                                       strict=False))
    return pytest.param(f"{release.version}/{backend}", marks=marks, id=f"{release.version}-{backend}")


#: Release checks (install, environment, sqlite3) run once per release, on the SAH pool's session.
ALL = [_param(r) for r in releases.RELEASES]
WITHOUT_SQLITE = [_param(r) for r in releases.RELEASES if not r.sqlite_builtin]
#: The suite runs per release and backend ($PYODIDE_OPFS_TEST_BACKENDS picks them, as for
#: test_lifecycle.py); the default run: the SAH pool on the oldest release.
SUITE = [_param(r, b) for r in releases.RELEASES for b in selected() if b in REAL_BACKENDS]
#: The browser restart costs a third boot; what it checks (OPFS keeps data across a browser
#: restart) is the browser's, not the release's: in the default run test_lifecycle.py covers it.
SUITE_IN_MATRIX = [_param(r, b, matrix_only=True) for r in releases.RELEASES for b in selected() if b in REAL_BACKENDS]


@pytest.fixture(scope="module")
def release_session(request: pytest.FixtureRequest, browser_type: Any, server: Any, wheel_url: str,
                    tmp_path_factory: pytest.TempPathFactory, _browser_setup_ok: None) -> Iterator[dict[str, Any]]:
    """One release booted on a fresh on-disk profile for one backend: {release, session, backend,
    sqlite} (the param is "<version>/<backend>")."""
    version, backend = request.param.split("/")
    release = releases.by_version(version)
    missing = release.missing()
    if missing:
        pytest.fail("missing " + ", ".join(missing) + ": run ./dev setup --all-pyodide", pytrace=False)
    session = BrowserSession(browser_type, server.url, wheel_url,
                             pyodide_url=release.url, micropip_url=release.micropip_url)
    session.open(tmp_path_factory.mktemp(f"compat-{release.version}-{backend}"))
    yield {"release": release, "session": session, "backend": backend, "sqlite": release.sqlite_builtin}
    session.close()


def _create(state: dict[str, Any]) -> str:
    return CREATE_FILES + (CREATE_DB if state["sqlite"] else "") + "result = snapshot()\n"


def _modify(state: dict[str, Any]) -> str:
    return MODIFY_FILES + (MODIFY_DB if state["sqlite"] else "") + "result = snapshot()\n"


@pytest.mark.parametrize("release_session", ALL, indirect=True)
def test_installed_with_micropip(release_session: dict[str, Any]) -> None:
    """The release booted (its Python), and our wheel came in through micropip.install."""
    release: Release = release_session["release"]
    session: BrowserSession = release_session["session"]
    assert Version(session.boot_info["version"]) == Version(release.version)
    got = session.run("""
import importlib.metadata, importlib.util, platform, pyodide_opfs
[platform.python_version(), importlib.metadata.distribution("pyodide-opfs").read_text("INSTALLER").strip(),
 pyodide_opfs.__version__, importlib.util.find_spec("sqlite3") is not None]
""")
    assert got[0] == release.python
    assert got[1] == "micropip"
    assert got[3] is release.sqlite_builtin


@pytest.mark.parametrize("release_session", SUITE, indirect=True)
def test_create(release_session: dict[str, Any]) -> None:
    """Fresh origin storage: files of every size, nested and empty dirs (and a database)."""
    assert run_on_mount(release_session, "result = snapshot()") == {"files": {}, "dirs": [], "dbs": {}}
    assert run_on_mount(release_session, _create(release_session)) == expected_after_create(release_session["sqlite"])


@pytest.mark.parametrize("release_session", SUITE, indirect=True)
def test_reopen(release_session: dict[str, Any]) -> None:
    """Page reload (a new worker): everything is back; modify it."""
    sqlite = release_session["sqlite"]
    release_session["session"].reload()
    assert run_on_mount(release_session, "result = snapshot()") == expected_after_create(sqlite)
    assert run_on_mount(release_session, _modify(release_session)) == expected_after_modify(sqlite)


@pytest.mark.parametrize("release_session", SUITE_IN_MATRIX, indirect=True)
def test_persist(release_session: dict[str, Any]) -> None:
    """Browser closed and relaunched on the same profile: the modified state is back."""
    release_session["session"].restart()
    assert run_on_mount(release_session, "result = snapshot()") == expected_after_modify(release_session["sqlite"])


@pytest.mark.parametrize("release_session", WITHOUT_SQLITE, indirect=True)
def test_sqlite(release_session: dict[str, Any]) -> None:
    """Without its sqlite3 package, connect() says what to load; SQLite itself is not checked."""
    release: Release = release_session["release"]
    message = release_session["session"].run("""
import pyodide_opfs
try:
    pyodide_opfs.connect("/nowhere.db")
    result = None
except ModuleNotFoundError as e:
    result = str(e)
result
""")
    assert message is not None and "loadPackage('sqlite3')" in message
    pytest.skip(f"SQLite not checked on Pyodide {release.version}: its stdlib sqlite3 is a separate package "
                "that only the full distribution (CDN) serves, not the npm package or PyPI (file I/O is checked)")


ENVIRONMENT = r'''
import js, pyodide_opfs
from pyodide_opfs import compat, opfs
from pyodide.code import run_js

async def mount_error():
    try:
        pool = await pyodide_opfs.mount_sahpool("/envcheck", directory="envcheck")
    except pyodide_opfs.UnsupportedEnvironmentError as e:
        return str(e)
    await pool.unmount()
    return None

result = {}
# Replace (or, with no code, delete) a method on a prototype; returns a function restoring it.
patch = run_js("""(owner, name, code) => {
  const proto = owner.prototype;
  const saved = Object.getOwnPropertyDescriptor(proto, name);
  if (code) proto[name] = new Function(code);
  else delete proto[name];
  return () => Object.defineProperty(proto, name, saved);
}""")
for key, owner, name, code in [
    ("sah", js.FileSystemFileHandle, "createSyncAccessHandle", None),
    ("opfs", js.StorageManager, "getDirectory", None),
    # Firefox private windows: the API is there but refuses
    ("refused", js.StorageManager, "getDirectory",
     "return Promise.reject(new DOMException('Security error when calling GetDirectory', 'SecurityError'))"),
    # Safari < 16.4, Chromium < 108: the early draft's asynchronous methods
    ("async_methods", js.FileSystemSyncAccessHandle, "getSize", "return Promise.resolve(0)"),
]:
    restore = patch(owner, name, code)
    try:
        result[key] = await mount_error()
    finally:
        restore()
# What OPFS errors look like from Python (JsException attributes differ between releases)
try:
    await run_js("() => Promise.reject(new DOMException('held', 'NoModificationAllowedError'))")()
except Exception as e:
    result["dom_name"] = opfs._dom_name(e)
real = compat.pyodide_version
compat.pyodide_version = lambda: (0, 26)
try:
    result["version"] = await mount_error()
finally:
    compat.pyodide_version = real
result["restored"] = await mount_error()
result
'''


@pytest.mark.parametrize("release_session", ALL, indirect=True)
def test_environment_checks(release_session: dict[str, Any]) -> None:
    """A browser without the APIs (deleted in the worker), one that refuses OPFS, one with the
    early draft's asynchronous handle methods, and a too-old Pyodide all get clear errors and
    nothing is mounted. With the APIs back, mounting works."""
    got = release_session["session"].run(ENVIRONMENT)
    assert "createSyncAccessHandle" in got["sah"] and "Chromium, Firefox or Safari" in got["sah"]
    assert "navigator.storage.getDirectory" in got["opfs"]
    assert "refused access to the Origin Private File System" in got["refused"]
    assert "private windows" in got["refused"]
    assert "asynchronous" in got["async_methods"] and "Safari 16.4" in got["async_methods"]
    assert got["dom_name"] == "NoModificationAllowedError"
    assert "Pyodide 0.26 is not supported" in got["version"] and "0.27" in got["version"]
    assert got["restored"] is None

