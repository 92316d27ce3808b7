"""Drive web/harness.html in Chromium from tests: boot Pyodide in a worker, run Python there.

    session = BrowserSession(browser_type, server.url, wheel_url).open(user_data_dir)
    session.run("import sys; sys.version_info[:2]")   # -> [3, 14]
    session.reload()    # page reload: new worker, same profile (OPFS kept)
    session.restart()   # close the browser and relaunch on the same profile
    session.close()

``run`` returns the JSON value of the last expression; a Python exception raises
:class:`PythonError` carrying the traceback. Worker and page console output goes to the
``pyodide_opfs.browser`` logger (shown by pytest on failure, or live with ``--log-cli-level``).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import textwrap
import urllib.parse
from pathlib import Path
from types import ModuleType
from typing import Any

from playwright.sync_api import BrowserContext, BrowserType, ConsoleMessage, Page

REPO_ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("pyodide_opfs.browser")


def load_playwright_config() -> ModuleType:
    """The repository's ``playwright.config.py`` (its name has a dot, so load it by path)."""
    name = "pyodide_opfs_playwright_config"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "playwright.config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


config = load_playwright_config()


class HarnessError(Exception):
    """The harness itself failed: boot failure, worker crash, timeout."""


class RunTimeout(HarnessError):
    """A ``run`` took longer than its timeout (the worker was restarted)."""


class PythonError(Exception):
    """Python code in the worker raised. ``str(err)`` is the traceback."""

    def __init__(self, traceback: str, error_type: str | None = None, stdout: str = "") -> None:
        super().__init__(traceback)
        self.traceback = traceback
        self.error_type = error_type
        self.stdout = stdout


_RUN_JS = """async ([code, keep, timeoutMs]) => {
  try {
    return await window.harness.runRaw(code, {keep, timeoutMs});
  } catch (e) {
    return {ok: false, harness: true, error: String(e && e.message || e), errorType: e && e.errorType || null, stdout: ""};
  }
}"""

_READY_JS = """async (timeoutMs) => {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Pyodide worker not ready after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([window.harness.ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}"""


class BrowserSession:
    """One persistent Chromium profile with the harness page open and its worker booted."""

    def __init__(
        self,
        browser_type: BrowserType,
        base_url: str,
        wheel_url: str | None,
        *,
        boot_timeout: float | None = None,
        run_timeout: float | None = None,
        page_path: str = "/harness.html",
        pyodide_url: str | None = None,
        micropip_url: str | None = None,
    ) -> None:
        self.browser_type = browser_type
        self.base_url = base_url.rstrip("/")
        self.wheel_url = wheel_url
        self.boot_timeout = boot_timeout if boot_timeout is not None else config.BOOT_TIMEOUT_S
        self.run_timeout = run_timeout if run_timeout is not None else config.RUN_TIMEOUT_S
        self.page_path = page_path
        #: Base URL of another Pyodide distribution (e.g. "/pyodide-0.27.8/") and its micropip
        #: wheel; None: the release named by $PYODIDE_OPFS_TEST_PYODIDE (e.g. "0.27.8": every
        #: suite on another release), else the worker's defaults (/pyodide/, micropip 0.11.1).
        if pyodide_url is None and os.environ.get("PYODIDE_OPFS_TEST_PYODIDE"):
            from pyodide_opfs.tools import releases

            release = releases.by_version(os.environ["PYODIDE_OPFS_TEST_PYODIDE"])
            pyodide_url, micropip_url = release.url, micropip_url or release.micropip_url
        self.pyodide_url = pyodide_url
        self.micropip_url = micropip_url
        self.user_data_dir: Path | None = None
        self.context: BrowserContext | None = None
        self.page: Page | None = None
        #: ``{"version": ..., "bootMs": ...}`` of the current worker.
        self.boot_info: dict[str, Any] = {}

    # lifecycle ------------------------------------------------------------------------------
    @property
    def page_url(self) -> str:
        query = {"wheel": self.wheel_url, "pyodide": self.pyodide_url, "micropip": self.micropip_url}
        given = {k: v for k, v in query.items() if v}
        return self.base_url + self.page_path + ("?" + urllib.parse.urlencode(given, safe="/") if given else "")

    def open(self, user_data_dir: Path | str) -> BrowserSession:
        """Launch Chromium on ``user_data_dir``, open the harness, wait for the worker."""
        self.user_data_dir = Path(user_data_dir)
        self.user_data_dir.mkdir(parents=True, exist_ok=True)
        self.context = self.browser_type.launch_persistent_context(
            str(self.user_data_dir), **config.launch_kwargs()
        )
        self.context.set_default_timeout(config.NAVIGATION_TIMEOUT_S * 1000)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self._forward_console(self.page)
        self.page.goto(self.page_url, wait_until="load")
        self._wait_ready()
        return self

    def reload(self) -> None:
        """Reload the page (the old worker ends, a new one boots); the profile is kept."""
        page = self._need_page()
        page.reload(wait_until="load")
        self._wait_ready()

    def restart_worker(self) -> None:
        """Terminate the worker and boot a new one, without reloading the page."""
        page = self._need_page()
        page.evaluate("() => window.harness.restartWorker().then(() => null)")
        self._wait_ready()

    def restart(self) -> None:
        """Close the browser and relaunch it on the same profile."""
        assert self.user_data_dir is not None, "open() first"
        self.close()
        self.open(self.user_data_dir)

    def close(self) -> None:
        if self.context is not None:
            try:
                self.context.close()
            finally:
                self.context = None
                self.page = None

    def __enter__(self) -> BrowserSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # running Python -------------------------------------------------------------------------
    def run_raw(self, code: str, keep: bool = False, timeout: float | None = None) -> dict[str, Any]:
        """The worker's whole reply: ``{ok, value | error, errorType, stdout}``."""
        page = self._need_page()
        seconds = self.run_timeout if timeout is None else timeout
        reply: dict[str, Any] = page.evaluate(
            _RUN_JS, [textwrap.dedent(code), keep, int(seconds * 1000)]
        )
        if reply.get("stdout"):
            log.debug("[py stdout]\n%s", reply["stdout"])
        return reply

    def run(self, code: str, keep: bool = False, timeout: float | None = None) -> Any:
        """Run Python code in the worker; return the JSON value of its last expression.

        ``keep=True`` runs in the namespace shared by all ``keep`` runs of this worker.
        Raises PythonError (with the traceback) when the code raises.
        """
        reply = self.run_raw(code, keep=keep, timeout=timeout)
        if reply.get("ok"):
            return reply.get("value")
        if reply.get("errorType") == "Timeout":
            log.warning("run timed out; restarting the worker")
            try:
                self.restart_worker()
            except Exception:  # noqa: BLE001 - report the timeout, not the recovery
                log.exception("worker restart after a timeout failed")
            raise RunTimeout(reply.get("error", "timeout"))
        if reply.get("harness"):
            raise HarnessError(reply.get("error", "harness error"))
        raise PythonError(reply.get("error", ""), reply.get("errorType"), reply.get("stdout", ""))

    # internals ------------------------------------------------------------------------------
    def _need_page(self) -> Page:
        if self.page is None:
            raise HarnessError("the browser session is not open")
        return self.page

    def _wait_ready(self) -> None:
        page = self._need_page()
        try:
            self.boot_info = page.evaluate(_READY_JS, int(self.boot_timeout * 1000))
        except Exception as exc:
            raise HarnessError(f"harness did not become ready: {exc}") from exc
        log.info("Pyodide %s ready in %.0f ms", self.boot_info.get("version"),
                 self.boot_info.get("bootMs", 0))

    def _forward_console(self, page: Page) -> None:
        def on_console(msg: ConsoleMessage) -> None:
            level = {"error": logging.ERROR, "warning": logging.WARNING}.get(msg.type, logging.DEBUG)
            log.log(level, "[console.%s] %s", msg.type, msg.text)

        # The page's console event also carries its dedicated workers' messages.
        page.on("console", on_console)
        page.on("pageerror", lambda err: log.error("[page error] %s", err))
