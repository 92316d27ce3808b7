"""The demo app (web/index.html), driven like a person would: type Python, run it, watch the file
browser, reload, export and re-import files, resize the pool, open a second tab.

The tests share one browser profile and page and run in file order. Screenshots go to
test-results/demo-page/, copied there when the module ends: pytest-playwright empties
test-results/ whenever any pytest session starts, and several sessions share this tree.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from harness import REPO_ROOT, load_playwright_config
from playwright.sync_api import Page, expect

from pyodide_opfs.tools import webapp

SHOTS = REPO_ROOT / "test-results" / "demo-page"
config = load_playwright_config()
BOOT_MS = int(config.BOOT_TIMEOUT_S * 1000) + 30_000  # boot + mount (which may wait for a busy pool)
_shots_dir = SHOTS


@pytest.fixture(scope="module")
def app(browser_type: Any, server: Any, built_wheel: Path, _browser_setup_ok: None,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The app opened at / (finding the wheel through /wheels/latest.json, as after `serve`)."""
    global _shots_dir
    webapp.write_manifest(built_wheel)
    _shots_dir = tmp_path_factory.mktemp("demo-page-shots")
    profile = tmp_path_factory.mktemp("demo-page-profile")
    context = browser_type.launch_persistent_context(
        str(profile), **config.launch_kwargs(), accept_downloads=True, viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(config.NAVIGATION_TIMEOUT_S * 1000)
    page = context.pages[0] if context.pages else context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.goto(server.url + "/", wait_until="load")
    state = {"page": page, "context": context, "server": server, "errors": errors,
             "tmp": tmp_path_factory.mktemp("demo-page-files")}
    yield state
    context.close()
    shutil.copytree(_shots_dir, SHOTS, dirs_exist_ok=True)
    assert not errors, f"uncaught errors on the page: {errors}"


def wait_settled(page: Page, timeout_ms: int = BOOT_MS) -> str:
    """Wait until the app is past booting/mounting; return its state."""
    page.wait_for_function(
        "() => !['booting', 'mounting'].includes(document.body.dataset.state)", timeout=timeout_ms
    )
    return str(page.evaluate("() => document.body.dataset.state"))


def wait_ready(page: Page) -> None:
    state = wait_settled(page)
    banner = page.inner_text("#banner") if page.is_visible("#banner") else ""
    assert state == "ready", f"app state {state!r}; banner: {banner}"


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(_shots_dir / f"{name}.png"), full_page=True)


def run_code(page: Page, code: str, *, type_it: bool = False) -> str:
    """Put ``code`` in the editor, click Run, wait for the run to end; return the output text."""
    editor = page.locator("#editor")
    editor.fill("")
    if type_it:
        editor.press_sequentially(code)
    else:
        editor.fill(code)
    page.click("#run")
    expect(page.locator("#run-info")).to_have_text(re.compile(r"(done|failed) in \d+ ms"), timeout=60_000)
    return page.inner_text("#output")


def row(page: Page, path: str) -> Any:
    return page.locator(f'#files tbody tr[data-path="{path}"]')


def test_boots_and_mounts(app: dict[str, Any]) -> None:
    page = app["page"]
    wait_ready(page)
    expect(page.locator("#banner")).to_be_hidden()
    expect(page.locator("#visits")).to_have_text("First visit")
    expect(page.locator("#status")).to_contain_text("Pyodide 314")
    expect(page.locator("#pool-capacity")).not_to_have_text("–")
    expect(page.locator("#usage")).to_contain_text("used of")
    shot(page, "01-ready")


def test_type_run_and_see_the_file(app: dict[str, Any]) -> None:
    page = app["page"]
    page.click("#clear-output")
    code = (
        "with open('greeting.txt', 'w') as f:\n"
        "    f.write('hello from the editor\\n' * 3)\n"
        "print('wrote', os.path.getsize('greeting.txt'), 'bytes')\n"
        "os.getcwd()"
    )
    out = run_code(page, "import os\n" + code, type_it=True)
    assert "wrote 66 bytes" in out
    assert "'/data'" in out
    expect(row(page, "greeting.txt")).to_be_visible()
    expect(row(page, "greeting.txt").locator("td.num")).to_have_text("66 B")
    # An error shows its traceback, trimmed to the user's code.
    out = run_code(page, "1 / 0")
    assert "ZeroDivisionError" in out and 'File "<editor>", line 1' in out
    assert "_pyodide" not in out
    expect(page.locator("#run-info")).to_contain_text("failed")
    shot(page, "02-ran-code")


def test_reload_keeps_file_and_counts_the_visit(app: dict[str, Any]) -> None:
    page = app["page"]
    page.reload(wait_until="load")
    wait_ready(page)
    expect(page.locator("#visits")).to_have_text("Visit #2")
    expect(row(page, "greeting.txt").locator("td.num")).to_have_text("66 B")
    expect(row(page, "visits.json")).to_be_visible()
    # The editor keeps the last code run across the reload (localStorage); the file its contents (OPFS).
    assert page.input_value("#editor") == "1 / 0"
    out = run_code(page, "open('greeting.txt').read().count('hello')")
    assert out.strip().endswith("3")
    shot(page, "03-after-reload")


def test_export_import_round_trip(app: dict[str, Any]) -> None:
    page, tmp = app["page"], app["tmp"]
    page.click("#clear-output")
    run_code(page, (
        "import pyodide_opfs\n"
        "con = pyodide_opfs.connect('birds.db')\n"
        "con.execute('create table birds(name text)')\n"
        "con.executemany('insert into birds values (?)', [('wren',), ('robin',), ('kite',)])\n"
        "con.commit(); con.close()"
    ))
    expect(row(page, "birds.db")).to_be_visible()

    # Export (a download), delete, import the downloaded file again.
    with page.expect_download() as dl_info:
        row(page, "birds.db").locator("button[data-action=export]").click()
    download = dl_info.value
    assert download.suggested_filename == "birds.db"
    exported = tmp / "birds.db"
    download.save_as(exported)
    assert exported.read_bytes()[:16] == b"SQLite format 3\x00"

    delete = row(page, "birds.db").locator("button[data-action=delete]")
    delete.click()
    expect(delete).to_have_text("Sure?")
    delete.click()
    expect(row(page, "birds.db")).to_have_count(0)

    with page.expect_file_chooser() as fc_info:
        page.click("#import")
    fc_info.value.set_files(str(exported))
    expect(page.locator("#output")).to_contain_text("imported birds.db", timeout=30_000)
    expect(page.locator("#output")).to_contain_text("SQLite database, checked")
    expect(row(page, "birds.db")).to_be_visible()
    assert "undefined" not in page.inner_text("#output")  # a run ending in None prints nothing
    out = run_code(page, (
        "con = pyodide_opfs.connect('birds.db')\n"
        "names = [r[0] for r in con.execute('select name from birds order by rowid')]\n"
        "con.close(); names"
    ))
    assert "['wren', 'robin', 'kite']" in out

    # A large plain file: imported with progress, exported back identical.
    big = tmp / "photo.raw"
    data = os.urandom(5 * (1 << 20) + 123)
    big.write_bytes(data)
    page.evaluate("""() => {
      window.__pcts = [];
      new MutationObserver(() => window.__pcts.push(document.querySelector('#import-pct').textContent))
        .observe(document.querySelector('#import-pct'), {childList: true, characterData: true, subtree: true});
    }""")
    with page.expect_file_chooser() as fc_info:
        page.click("#import")
    fc_info.value.set_files(str(big))
    expect(page.locator("#output")).to_contain_text("imported photo.raw", timeout=60_000)
    shot(page, "04-imported")
    pcts = page.evaluate("() => window.__pcts")
    assert "100%" in pcts and len(set(pcts)) >= 4, pcts
    expect(row(page, "photo.raw").locator("td.num")).to_have_text("5.0 MiB")
    with page.expect_download() as dl_info:
        row(page, "photo.raw").locator("button[data-action=export]").click()
    again = tmp / "photo-again.raw"
    dl_info.value.save_as(again)
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(data).digest()


def test_pool_capacity_controls(app: dict[str, Any]) -> None:
    page = app["page"]
    capacity = int(page.inner_text("#pool-capacity"))
    page.fill("#capacity-n", "5")
    page.click("#add-capacity")
    expect(page.locator("#pool-capacity")).to_have_text(str(capacity + 5))
    free = int(page.inner_text("#pool-free"))
    page.fill("#capacity-n", "3")
    page.click("#reduce-capacity")
    expect(page.locator("#pool-capacity")).to_have_text(str(capacity + 2))
    expect(page.locator("#pool-free")).to_have_text(str(free - 3))
    expect(page.locator("#output")).to_contain_text("removed 3 free pool file(s)")
    # Files in use are never removed.
    page.fill("#capacity-n", "1000")
    page.click("#reduce-capacity")
    expect(page.locator("#output")).to_contain_text("files in use are never removed")
    expect(page.locator("#pool-free")).to_have_text("0")
    used = int(page.inner_text("#pool-used"))
    assert int(page.inner_text("#pool-capacity")) == used


def test_second_tab_sees_the_busy_banner_and_can_take_over(app: dict[str, Any]) -> None:
    first, server = app["page"], app["server"]
    second = app["context"].new_page()
    second.on("pageerror", lambda err: app["errors"].append(str(err)))
    second.goto(server.url + "/?busy_timeout=1", wait_until="load")
    assert wait_settled(second) == "busy"
    banner = second.locator("#banner [data-problem=busy]")
    expect(banner).to_contain_text("Another tab is using this storage")
    expect(banner).to_contain_text("Release to other tabs")
    expect(second.locator("#run")).to_be_disabled()
    shot(second, "05-busy-banner")

    # Hand over: the first tab releases the storage, the second retries and gets it.
    first.click("#pause")
    expect(first.locator("#pause")).to_have_text("Take the storage back")
    second.locator("#banner button", has_text="Retry").click()
    wait_ready(second)
    expect(second.locator("#banner")).to_be_hidden()
    expect(row(second, "greeting.txt")).to_be_visible()
    expect(second.locator("#visits")).to_have_text("Visit #3")
    second.close()

    # The second tab's worker is gone: the first takes the storage back.
    first.click("#pause")
    expect(first.locator("#pause")).to_have_text("Release to other tabs")
    expect(row(first, "greeting.txt")).to_be_visible()
    out = run_code(first, "open('greeting.txt').read().count('hello')")
    assert out.strip().endswith("3")


def test_banner_explains_a_missing_opfs(app: dict[str, Any]) -> None:
    """A browser without OPFS (simulated): the banner says so and nothing starts."""
    page = app["context"].new_page()
    page.add_init_script("Object.defineProperty(StorageManager.prototype, 'getDirectory', {value: undefined})")
    page.goto(app["server"].url + "/", wait_until="load")
    assert wait_settled(page, 10_000) == "error"
    expect(page.locator("#banner [data-problem=no-opfs]")).to_contain_text("no Origin Private File System")
    shot(page, "06-no-opfs-banner")
    page.close()


def test_banner_notes_missing_isolation_but_the_app_works(app: dict[str, Any]) -> None:
    """Served without COOP/COEP: a note explains it; the SAH pool still works (own pool dir)."""
    server = app["server"]
    page = app["context"].new_page()

    def strip_isolation(route: Any) -> None:
        response = route.fetch()
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("cross-origin-opener-policy", "cross-origin-embedder-policy")}
        route.fulfill(response=response, headers=headers)

    page.route(re.compile(r"/\?directory=no-isolation-pool$"), strip_isolation)
    page.goto(server.url + "/?directory=no-isolation-pool", wait_until="load")
    wait_ready(page)
    assert page.evaluate("() => crossOriginIsolated") is False
    expect(page.locator("#banner [data-problem=not-isolated]")).to_contain_text("not cross-origin isolated")
    out = run_code(page, "open('x.txt', 'w').write('ok')")
    assert out.strip().endswith("2")
    shot(page, "07-not-isolated-note")
    page.close()
