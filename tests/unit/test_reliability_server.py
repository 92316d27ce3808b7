"""Dev server security, the parts tests/unit/test_devserver.py does not already cover (issue 6):
the CLI's default bind address, double-encoded traversal, and symlinks from one served root into
another (each root is a boundary of its own)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyodide_opfs.tools import cli, devserver

SECRET = "secret-in-the-other-root"


@pytest.fixture
def srv(tmp_path: Path) -> Iterator[devserver.DevServer]:
    web = tmp_path / "web"
    wheels = tmp_path / "wheels"
    web.mkdir()
    wheels.mkdir()
    (web / "index.html").write_text("home")
    (wheels / "private.txt").write_text(SECRET)
    (web / "into-wheels.txt").symlink_to(wheels / "private.txt")
    (web / "wheels-dir").symlink_to(wheels, target_is_directory=True)
    (web / "%2e%2e").mkdir()  # a directory literally named "%2e%2e"
    (web / "%2e%2e" / "x.txt").write_text("literal")
    with devserver.start(roots={"/": web, "/wheels/": wheels}) as s:
        yield s


def get(srv: devserver.DevServer, path: str) -> tuple[int, bytes]:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_cli_serve_binds_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    class Stop(Exception):
        pass

    class FakeServer:
        url = "http://127.0.0.1:1"

        def stop(self) -> None:
            seen["stopped"] = True

    def fake_start(**kwargs: Any) -> FakeServer:
        seen.update(kwargs)
        return FakeServer()

    def interrupt(_seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(devserver, "start", fake_start)
    monkeypatch.setattr(cli, "_check_setup", lambda need_chromium: None)
    monkeypatch.setattr(cli.time, "sleep", interrupt)
    assert cli.main(["serve"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["stopped"]


def test_double_encoded_dots_are_a_name_not_a_step_up(srv: devserver.DevServer) -> None:
    # %252e%252e decodes once to "%2e%2e": a (here existing) directory name, never "..".
    assert get(srv, "/%252e%252e/x.txt") == (200, b"literal")
    status, body = get(srv, "/%252e%252e/%252e%252e/wheels/private.txt")
    assert status in (403, 404) and SECRET.encode() not in body


@pytest.mark.parametrize("path", ["/into-wheels.txt", "/wheels-dir/private.txt", "/%77heels-dir/private.txt"])
def test_symlink_into_another_root_is_refused(srv: devserver.DevServer, path: str) -> None:
    status, body = get(srv, path)
    assert status == 403
    assert SECRET.encode() not in body


def test_the_other_root_serves_its_own_files(srv: devserver.DevServer) -> None:
    assert get(srv, "/wheels/private.txt") == (200, SECRET.encode())
