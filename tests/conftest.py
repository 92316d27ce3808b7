"""Shared fixtures.

Session:   built_wheel (Path of our wheel), wheel_url, server (dev server), playwright_config
Browser:   fresh_profile (a new user-data dir), browser_session (function scope, fresh profile),
           shared_session (module scope: one booted worker for a whole test module),
           session_factory (open more sessions, e.g. two tabs' worth of profiles)
Helpers:   `from harness import BrowserSession, PythonError` (tests/harness.py)

Tests under tests/browser/ get the `browser` marker automatically.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
for p in (str(TESTS_DIR), str(REPO_ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

from harness import BrowserSession, load_playwright_config  # noqa: E402

from pyodide_opfs.tools import devserver, paths  # noqa: E402
from pyodide_opfs.tools.wheel import build_wheel  # noqa: E402

BROWSER_DIR = TESTS_DIR / "browser"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(BROWSER_DIR):
            item.add_marker(pytest.mark.browser)


# ---------------------------------------------------------------------------------- session


@pytest.fixture(scope="session")
def playwright_config() -> ModuleType:
    return load_playwright_config()


@pytest.fixture(scope="session")
def built_wheel() -> Path:
    """Our wheel in .cache/wheels; `./dev test` builds it and passes PYODIDE_OPFS_WHEEL."""
    given = os.environ.get("PYODIDE_OPFS_WHEEL")
    if given and Path(given).is_file() and Path(given).parent.resolve() == paths.WHEELS_DIR.resolve():
        return Path(given)
    return build_wheel()


@pytest.fixture(scope="session")
def wheel_url(built_wheel: Path) -> str:
    return "/wheels/" + built_wheel.name


@pytest.fixture(scope="session")
def server() -> Iterator[devserver.DevServer]:
    with devserver.start() as srv:
        yield srv


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], playwright_config: ModuleType
) -> dict[str, Any]:
    """pytest-playwright's own fixtures (`browser`, `page`) also use Debian's Chromium."""
    return {**browser_type_launch_args, **playwright_config.launch_args()}


@pytest.fixture(scope="session")
def _browser_setup_ok(playwright_config: ModuleType) -> None:
    missing = paths.missing_setup()
    if not Path(playwright_config.CHROMIUM).exists():
        missing.append(f"Chromium ({playwright_config.CHROMIUM})")
    if missing:
        pytest.fail("missing " + ", ".join(sorted(set(missing))) + ": run ./dev setup", pytrace=False)


# ---------------------------------------------------------------------------------- browser


@pytest.fixture
def fresh_profile(tmp_path: Path) -> Path:
    """An empty Chromium user-data dir (on disk, so OPFS is real and persistent)."""
    d = tmp_path / "profile"
    d.mkdir()
    return d


@pytest.fixture
def session_factory(
    _browser_setup_ok: None,
    browser_type: Any,
    server: devserver.DevServer,
    wheel_url: str,
) -> Iterator[Callable[..., BrowserSession]]:
    """``session_factory(user_data_dir, **kw)`` opens a BrowserSession; all are closed after."""
    opened: list[BrowserSession] = []

    def make(user_data_dir: Path | str, **kwargs: Any) -> BrowserSession:
        s = BrowserSession(browser_type, server.url, wheel_url, **kwargs)
        opened.append(s)
        return s.open(user_data_dir)

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def browser_session(
    session_factory: Callable[..., BrowserSession], fresh_profile: Path
) -> BrowserSession:
    """A booted worker on a fresh on-disk profile, closed after the test."""
    return session_factory(fresh_profile)


@pytest.fixture(scope="module")
def module_sessions(
    _browser_setup_ok: None,
    browser_type: Any,
    server: devserver.DevServer,
    wheel_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], BrowserSession]]:
    """``module_sessions(label)`` boots a worker on a fresh on-disk profile; every session it
    opened is closed when the test module ends (for module-scoped, per-backend fixtures)."""
    opened: list[BrowserSession] = []

    def make(label: str) -> BrowserSession:
        s = BrowserSession(browser_type, server.url, wheel_url)
        opened.append(s)
        return s.open(tmp_path_factory.mktemp(label))

    yield make
    for s in opened:
        s.close()


@pytest.fixture(scope="module")
def shared_session(
    _browser_setup_ok: None,
    browser_type: Any,
    server: devserver.DevServer,
    wheel_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BrowserSession]:
    """One booted worker shared by every test of a module (fast; tests must not rely on a
    clean state: use unique file names, or `keep=True` deliberately)."""
    s = BrowserSession(browser_type, server.url, wheel_url)
    s.open(tmp_path_factory.mktemp("shared-profile"))
    yield s
    s.close()
