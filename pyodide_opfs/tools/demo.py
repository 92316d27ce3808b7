"""``pyodide-opfs demo``: the main job, headless, in under a minute.

Starts the dev server, launches Chromium on a fresh temporary on-disk profile, boots Pyodide in a
module worker (``web/harness.html``), mounts OPFS at ``/data``, writes an SQLite database (one
commit per row) and a few files, then

1. reloads the page (a new worker) and remounts,
2. closes the browser and relaunches it on the same profile, and remounts,

printing what survived each step and a few timings. The pool is never unmounted before a reload
or a restart: the data must survive the worker simply going away. Exit status 0 when everything
survived both, 1 when anything did not, 2 when the demo could not run.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import importlib.util
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from . import paths

#: Fixed, so the origin (and with it the OPFS storage) is the same for every step of a run and
#: recognisable between runs; any free port is used if it is taken.
DEFAULT_PORT = 8765
MOUNTPOINT = "/data"
BLOB_SIZE = 1 << 20
TEXT = "".join(f"line {i}: durable text ✓\n" for i in range(200))
SETUP_HINT = "Run ./dev setup from the repository root to install it."

# --- Python run in the worker ----------------------------------------------------------------

SNAPSHOT = r'''
import hashlib, os, sqlite3
def snapshot(root):
    files, dbs = {}, {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if name.endswith(".db"):
                con = sqlite3.connect(path)
                dbs[rel] = {
                    "rows": con.execute("select count(*) from t").fetchone()[0],
                    "last": con.execute("select max(i) from t").fetchone()[0],
                    "integrity": con.execute("pragma integrity_check").fetchone()[0],
                }
                con.close()
            elif not name.endswith("-journal"):
                with open(path, "rb") as f:
                    data = f.read()
                files[rel] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    return {"files": files, "dbs": dbs}
'''

MOUNT = '''
import time, pyodide_opfs
_t = time.perf_counter()
pool = await pyodide_opfs.mount_sahpool({mountpoint!r}, capacity=12)
mount_ms = (time.perf_counter() - _t) * 1000
'''

WRITE = '''
import os, random
con = pyodide_opfs.connect({mountpoint!r} + "/demo.db")
con.execute("create table t(i integer primary key, v text)")
con.commit()
commit_ms = []
for i in range(1, {rows} + 1):
    _t = time.perf_counter()
    con.execute("insert into t(i, v) values (?, ?)", (i, f"row {{i}}"))
    con.commit()
    commit_ms.append((time.perf_counter() - _t) * 1000)
con.close()
with open({mountpoint!r} + "/notes.txt", "w", encoding="utf-8") as f:
    f.write({text!r})
with open({mountpoint!r} + "/blob.bin", "wb") as f:
    f.write(random.Random(7).randbytes({blob_size}))
os.makedirs({mountpoint!r} + "/docs/2026", exist_ok=True)
with open({mountpoint!r} + "/docs/2026/readme.md", "w") as f:
    f.write("# written before the reload\\n")
# No unmount: the reload and the restart must not depend on a clean shutdown.
{{"mount_ms": mount_ms, "commit_ms": commit_ms, "snapshot": snapshot({mountpoint!r})}}
'''

CHECK = '''
{{"mount_ms": mount_ms, "snapshot": snapshot({mountpoint!r}), "files": pool.file_count}}
'''


def _expected(rows: int) -> dict[str, Any]:
    def entry(data: bytes) -> dict[str, Any]:
        return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    return {
        "files": {
            "notes.txt": entry(TEXT.encode("utf-8")),
            "blob.bin": entry(random.Random(7).randbytes(BLOB_SIZE)),
            "docs/2026/readme.md": entry(b"# written before the reload\n"),
        },
        "dbs": {"demo.db": {"rows": rows, "last": rows, "integrity": "ok"}},
    }


# --- the browser -----------------------------------------------------------------------------

_READY_JS = """async (timeoutMs) => {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Pyodide not ready after ${timeoutMs} ms`)), timeoutMs);
  });
  try { return await Promise.race([window.harness.ready, timeout]); } finally { clearTimeout(timer); }
}"""

_RUN_JS = """async ([code, timeoutMs]) => {
  const reply = await window.harness.runRaw(code, {timeoutMs});
  return reply;
}"""


class DemoError(Exception):
    """The demo could not run (not: data did not survive)."""


class _Browser:
    def __init__(self, pw: Any, config: ModuleType, profile: Path, url: str) -> None:
        self.pw, self.config, self.profile, self.url = pw, config, profile, url
        self.context: Any = None
        self.page: Any = None
        self.boot_ms = 0.0

    def open(self) -> None:
        try:
            self.context = self.pw.chromium.launch_persistent_context(str(self.profile), **self.config.launch_kwargs())
        except Exception as exc:
            raise DemoError(f"Chromium did not start ({self.config.CHROMIUM}): {_first_line(exc)}. {SETUP_HINT}") from exc
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.goto(self.url, wait_until="load")
        self._wait_ready()

    def reload(self) -> None:
        self.page.reload(wait_until="load")
        self._wait_ready()

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = self.page = None

    def run(self, code: str, timeout_s: float = 60.0) -> Any:
        reply = self.page.evaluate(_RUN_JS, [code, int(timeout_s * 1000)])
        if not reply.get("ok"):
            raise DemoError(f"Python in the worker failed:\n{reply.get('error')}")
        return reply.get("value")

    def _wait_ready(self) -> None:
        try:
            info = self.page.evaluate(_READY_JS, int(self.config.BOOT_TIMEOUT_S * 1000))
        except Exception as exc:
            raise DemoError(
                f"the Pyodide worker did not start: {_first_line(exc)}\n"
                f"(is Pyodide in {paths.PYODIDE_DIR}? {SETUP_HINT})"
            ) from exc
        self.boot_ms = float(info.get("bootMs", 0))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _load_config() -> ModuleType:
    path = paths.REPO_ROOT / "playwright.config.py"
    spec = importlib.util.spec_from_file_location("pyodide_opfs_playwright_config", path)
    if spec is None or spec.loader is None or not path.exists():
        raise DemoError(f"{path} is missing: run the demo from a checkout of the repository")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _start_server(port: int) -> Any:
    from . import devserver

    try:
        return devserver.start(port=port)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE or port == 0:
            raise
        print(f"  (port {port} is taken; using a free one)")
        return devserver.start(port=0)


# --- report ----------------------------------------------------------------------------------


def _compare(expected: dict[str, Any], got: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """[(name, survived, description)] for each expected file and database."""
    out = []
    for name, exp in expected["dbs"].items():
        g = got["dbs"].get(name)
        ok = g == exp
        desc = "missing" if g is None else f"{g['rows']:,} rows, last id {g['last']}, integrity {g['integrity']}"
        out.append((name, ok, desc))
    for name, exp in expected["files"].items():
        g = got["files"].get(name)
        if g is None:
            desc = "missing"
        elif g == exp:
            desc = f"{_size(g['size'])}, sha256 {g['sha256'][:12]}… matches"
        else:
            desc = f"{_size(g['size'])}, sha256 {g['sha256'][:12]}… DIFFERS"
        out.append((name, g == exp, desc))
    return out


def _size(n: int) -> str:
    return f"{n:,} B" if n < 1024 else (f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.1f} MiB")


def _report(title: str, expected: dict[str, Any], got: dict[str, Any]) -> bool:
    rows = _compare(expected, got)
    survived = sum(ok for _, ok, _ in rows)
    print(f"  {title}: {survived}/{len(rows)} survived")
    for name, ok, desc in rows:
        print(f"    {'✓' if ok else '✗'} {name:<20} {desc}")
    return survived == len(rows)


def _ms(v: float) -> str:
    return f"{v / 1000:.2f} s" if v >= 1000 else (f"{v:.0f} ms" if v >= 10 else f"{v:.2f} ms")


# --- main ------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pyodide-opfs demo", description="Headless run of the main job: mount, write, reload, browser restart.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"dev server port (default {DEFAULT_PORT})")
    parser.add_argument("--rows", type=int, default=1000, help="rows to insert, one commit each (default 1000)")
    args = parser.parse_args(argv)
    try:
        return _demo(args.port, args.rows)
    except DemoError as exc:
        print(f"\npyodide-opfs demo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def _demo(port: int, rows: int) -> int:
    missing = paths.missing_setup()
    if missing:
        raise DemoError("missing " + ", ".join(missing) + ".\n" + SETUP_HINT.replace("it.", "them."))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise DemoError(f"Playwright is not installed (pip install -e '.[dev]'). {SETUP_HINT}") from exc
    config = _load_config()
    if not Path(config.CHROMIUM).exists():
        raise DemoError(f"Chromium is missing at {config.CHROMIUM}. {SETUP_HINT}")

    from .webapp import publish_wheel

    started = time.perf_counter()
    wheel = publish_wheel()
    expected = _expected(rows)
    fmt = {"mountpoint": MOUNTPOINT, "rows": rows, "text": TEXT, "blob_size": BLOB_SIZE}
    write_code = SNAPSHOT + MOUNT.format(**fmt) + WRITE.format(**fmt)
    check_code = SNAPSHOT + MOUNT.format(**fmt) + CHECK.format(**fmt)
    profile = Path(tempfile.mkdtemp(prefix="pyodide-opfs-demo-"))
    srv = _start_server(port)
    ok = True
    timings: list[tuple[str, str]] = []
    try:
        url = f"{srv.url}/harness.html?wheel=/wheels/{wheel.name}"
        print(f"pyodide-opfs demo · server {srv.url} · wheel {wheel.name}")
        print(f"  fresh Chromium profile {profile}")
        with sync_playwright() as pw:
            browser = _Browser(pw, config, profile, url)

            t = time.perf_counter()
            browser.open()
            first_open = (time.perf_counter() - t) * 1000
            boot = browser.boot_ms
            w = browser.run(write_code, timeout_s=120)
            commits = w["commit_ms"]
            p50 = statistics.median(commits)
            p95 = sorted(commits)[int(len(commits) * 0.95) - 1] if commits else 0.0
            print(f"\n[1/3] wrote demo.db ({rows:,} rows, one commit each, {_ms(sum(commits))} in all), "
                  "notes.txt, blob.bin (1 MiB), docs/2026/readme.md; pool left mounted")
            ok &= _report("written", expected, w["snapshot"])
            timings += [
                ("browser launch + page + Pyodide boot (cold profile)", _ms(first_open)),
                ("  of which worker boot (Pyodide + micropip + wheel)", _ms(boot)),
                ("mount (fresh pool, 12 files)", _ms(w["mount_ms"])),
                ("commit, one row: p50 / p95", f"{_ms(p50)} / {_ms(p95)}"),
            ]

            t = time.perf_counter()
            browser.reload()
            reload_ms = (time.perf_counter() - t) * 1000
            r = browser.run(check_code)
            print("\n[2/3] page reloaded (the old worker ended without unmounting), remounted")
            ok &= _report("after reload", expected, r["snapshot"])
            timings += [("reload until Pyodide ready", _ms(reload_ms)), ("remount after reload", _ms(r["mount_ms"]))]

            t = time.perf_counter()
            browser.close()
            browser.open()
            restart_ms = (time.perf_counter() - t) * 1000
            s = browser.run(check_code)
            print("\n[3/3] browser closed and relaunched on the same profile, remounted")
            ok &= _report("after restart", expected, s["snapshot"])
            timings += [("browser restart until Pyodide ready", _ms(restart_ms)),
                        ("remount after restart", _ms(s["mount_ms"]))]
            browser.close()
    finally:
        srv.stop()
        shutil.rmtree(profile, ignore_errors=True)

    print("\ntimings")
    width = max(len(k) for k, _ in timings)
    for k, v in timings:
        print(f"  {k:<{width}}  {v}")
    total = time.perf_counter() - started
    if ok:
        print(f"\nOK: everything survived the reload and the browser restart ({total:.1f} s).")
        return 0
    print(f"\nFAILED: some data did not survive (see ✗ above) ({total:.1f} s).")
    return 1


if __name__ == "__main__":
    sys.exit(main())
