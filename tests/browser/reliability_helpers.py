"""Shared by the reliability suites (tests/browser/test_reliability_*.py): killing a browser,
a second tab of the same profile, acknowledgements from a busy worker, and raw OPFS snapshots."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import time
from pathlib import Path
from typing import Any

from harness import BrowserSession, HarnessError
from playwright.sync_api import ConsoleMessage

log = logging.getLogger("pyodide_opfs.reliability")

#: Rounds of the crash suites: a few by default, PYODIDE_OPFS_CRASH_ROUNDS (or `-m slow`) for more.
DEFAULT_ROUNDS = 2
SLOW_ROUNDS = int(os.environ.get("PYODIDE_OPFS_CRASH_ROUNDS", "20"))


#: Figures of every run (rounds, kills, timings) are appended here, one JSON object a line:
#: docs/reliability.md quotes them.
FIGURES_FILE = Path(__file__).resolve().parents[2] / "test-results" / "reliability" / "figures.jsonl"


def record_figures(name: str, figures: dict[str, Any]) -> None:
    """Log ``figures`` and append them to FIGURES_FILE with the test name and the time."""
    log.info("[reliability] %s: %s", name, figures)
    FIGURES_FILE.parent.mkdir(parents=True, exist_ok=True)
    entry = {"name": name, "at": time.strftime("%Y-%m-%dT%H:%M:%S"), **figures}
    with FIGURES_FILE.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


# --------------------------------------------------------------------------------- processes


def _processes() -> dict[int, tuple[int, list[str]]]:
    """pid -> (ppid, argv) of every process we can read."""
    out: dict[int, tuple[int, list[str]]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out[int(entry)] = (ppid, [a.decode(errors="replace") for a in argv if a])
    return out


def browser_pids(user_data_dir: Path | str) -> list[int]:
    """Chromium processes of the browser on ``user_data_dir``: every process whose command line
    names it, and all their descendants. The browser process itself (no ``--type=``) comes first."""
    flag = f"--user-data-dir={Path(user_data_dir)}"
    procs = _processes()
    roots = {pid for pid, (_, argv) in procs.items() if flag in argv}
    found = set(roots)
    changed = True
    while changed:
        changed = False
        for pid, (ppid, _) in procs.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    main = [p for p in found if p in roots and not any(a.startswith("--type=") for a in procs[p][1])]
    return main + sorted(found - set(main))


def kill_browser(session: BrowserSession, timeout: float = 10.0) -> int:
    """SIGKILL the whole Chromium process tree of ``session``'s profile (a crash: no unload, no
    flush, no goodbye to the worker) and wait until it is gone. Returns how many were killed.
    The session is left closed; ``session.open(session.user_data_dir)`` relaunches."""
    assert session.user_data_dir is not None
    pids = browser_pids(session.user_data_dir)
    if not pids:
        raise HarnessError(f"no Chromium process found for {session.user_data_dir}")
    for pid in pids:  # the browser first, then everything under it, back to back
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            raise HarnessError(f"Chromium processes survived SIGKILL: {[p for p in pids if _alive(p)]}")
        time.sleep(0.02)
    try:
        if session.context is not None:
            session.context.close()
    except Exception:  # noqa: BLE001 - the browser is gone; Playwright may say so
        pass
    session.context = None
    session.page = None
    return len(pids)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie is dead; its parent reaps it


# --------------------------------------------------------------------------------- second tab


class ExtraPage(BrowserSession):
    """Another harness page (its own worker) in ``owner``'s browser context: a second tab of the
    same origin and profile. ``close()`` closes only this page."""

    def __init__(self, owner: BrowserSession) -> None:
        super().__init__(
            owner.browser_type, owner.base_url, owner.wheel_url,
            boot_timeout=owner.boot_timeout, run_timeout=owner.run_timeout, page_path=owner.page_path,
            pyodide_url=getattr(owner, "pyodide_url", None), micropip_url=getattr(owner, "micropip_url", None),
        )
        assert owner.context is not None, "open the owner first"
        self.user_data_dir = owner.user_data_dir
        self.context = owner.context
        self.page = self.context.new_page()
        self._forward_console(self.page)
        self.page.goto(self.page_url, wait_until="load")
        self._wait_ready()

    def open(self, user_data_dir: Path | str) -> BrowserSession:
        raise HarnessError("an ExtraPage lives in its owner's browser; open the owner instead")

    def close(self) -> None:
        if self.page is not None:
            try:
                self.page.close()
            finally:
                self.page = None
                self.context = None


# --------------------------------------------------------------------------------- acks


class Acks:
    """Collects ``ACK <tag> <n>`` lines that worker code prints (each after the work it
    acknowledges has returned). Console messages reach Playwright while the test thread is inside
    any Playwright call, so poll with :meth:`wait_for`."""

    PATTERN = re.compile(r"ACK (\S+) (\d+)")

    def __init__(self, session: BrowserSession) -> None:
        self.ids: dict[str, list[int]] = {}
        self.session = session
        assert session.page is not None
        self._page = session.page
        self._page.on("console", self._on_console)

    def _on_console(self, msg: ConsoleMessage) -> None:
        for tag, n in self.PATTERN.findall(msg.text):
            self.ids.setdefault(tag, []).append(int(n))

    def count(self, tag: str) -> int:
        return len(self.ids.get(tag, []))

    def last(self, tag: str) -> int:
        return max(self.ids.get(tag, [-1]))

    def wait_for(self, tag: str, count: int = 1, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count(tag) < count:
            if time.monotonic() > deadline:
                raise HarnessError(f"no ACK {tag} after {timeout} s (got {self.count(tag)})")
            self._page.wait_for_timeout(20)

    def sleep(self, seconds: float) -> None:
        """Sleep while still receiving console messages."""
        self._page.wait_for_timeout(int(seconds * 1000))

    def detach(self) -> None:
        try:
            self._page.remove_listener("console", self._on_console)
        except Exception:  # noqa: BLE001 - the page may be gone
            pass


def start_run(session: BrowserSession, code: str, timeout: float = 300.0) -> None:
    """Start ``code`` in the worker without waiting; :func:`finish_run` collects the reply."""
    import textwrap

    assert session.page is not None
    session.page.evaluate(
        "([code, t]) => { window.__job = window.harness.runRaw(code, {timeoutMs: t})"
        ".catch((e) => ({ok: false, harness: true, error: String(e && e.message || e)})); }",
        [textwrap.dedent(code), int(timeout * 1000)],
    )


def finish_run(session: BrowserSession) -> dict[str, Any]:
    assert session.page is not None
    reply: dict[str, Any] = session.page.evaluate("() => window.__job")
    return reply


# --------------------------------------------------------------------------------- snapshots

#: Python for the worker: ``await opfs_snapshot()`` -> {path: sha256} of every file in the
#: origin's OPFS (read with getFile(), which works while SyncAccessHandles are open), and
#: ``await opfs_dirs()``. Raw bytes: the strongest "nothing changed" check, backend-agnostic.
OPFS_SNAPSHOT = r'''
import hashlib, js
async def _opfs_walk(handle, prefix, files, dirs):
    it = handle.entries()
    while True:
        step = await it.next()
        if step.done:
            break
        name, child = step.value
        path = prefix + str(name)
        if child.kind == "directory":
            dirs.append(path + "/")
            await _opfs_walk(child, path + "/", files, dirs)
        else:
            data = (await (await child.getFile()).arrayBuffer()).to_py()
            files[path] = hashlib.sha256(bytes(data)).hexdigest()
async def opfs_snapshot(sub=None):
    root = await js.navigator.storage.getDirectory()
    if sub:
        for part in sub.split("/"):
            root = await root.getDirectoryHandle(part)
    files, dirs = {}, []
    await _opfs_walk(root, "", files, dirs)
    return {"files": files, "dirs": sorted(dirs)}
'''

#: Python for the worker: ``tree(root)`` -> {relpath: sha256 | "dir"} of what a mount shows.
TREE = r'''
import hashlib, os
def tree(root="/data"):
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for name in filenames:
            p = os.path.join(dirpath, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = hashlib.sha256(f.read()).hexdigest()
    return out
'''
