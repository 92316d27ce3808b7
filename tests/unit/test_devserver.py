"""The dev server: headers, MIME types, named roots, and no way out of its roots."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyodide_opfs.tools import devserver

SECRET = "top-secret-content"


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (tmp_path / "secret.txt").write_text(SECRET)

    web = tmp_path / "web"
    (web / "sub" / "deeper").mkdir(parents=True)
    (web / "index.html").write_text("<p>home</p>")
    (web / "worker.mjs").write_text("export {};")
    (web / "plain.js").write_text("1;")
    (web / "data.json").write_text("{}")
    (web / "sub" / "note.txt").write_text("note")
    (web / "sub" / "deeper" / "x.txt").write_text("x")
    (web / "escape-dir").symlink_to(outside, target_is_directory=True)
    (web / "escape-file.txt").symlink_to(outside / "secret.txt")
    (web / "inside-link.txt").symlink_to(web / "sub" / "note.txt")

    pyo = tmp_path / "pyodide"
    pyo.mkdir()
    (pyo / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0")
    (pyo / "python_stdlib.zip").write_bytes(b"PK\5\6" + b"\0" * 18)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "pkg-1.0-py3-none-any.whl").write_bytes(b"PK\5\6" + b"\0" * 18)
    return {"web": web, "pyodide": pyo, "wheels": wheels, "outside": outside}


@pytest.fixture
def srv(tree: dict[str, Path]) -> Iterator[devserver.DevServer]:
    roots = {"/": tree["web"], "/pyodide/": tree["pyodide"], "/wheels/": tree["wheels"]}
    with devserver.start(roots=roots) as s:
        yield s


def request(srv: devserver.DevServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        # skip_host etc. are not needed; http.client sends `path` byte-for-byte.
        conn.putrequest(method, path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def test_binds_loopback_on_ephemeral_port_by_default() -> None:
    with devserver.start() as s:
        host, port = s.server_address[:2]
        assert host == "127.0.0.1"
        assert port > 0
        assert s.url == f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/worker.mjs", "text/javascript"),
        ("/plain.js", "text/javascript"),
        ("/data.json", "application/json"),
        ("/index.html", "text/html"),
        ("/pyodide/pyodide.asm.wasm", "application/wasm"),
        ("/pyodide/python_stdlib.zip", "application/zip"),
        ("/wheels/pkg-1.0-py3-none-any.whl", "application/zip"),
    ],
)
def test_serves_files_with_isolation_headers_and_mime(srv: devserver.DevServer, path: str, ctype: str) -> None:
    status, headers, body = request(srv, path)
    assert status == 200
    assert headers["content-type"].split(";")[0] == ctype
    assert headers["cross-origin-opener-policy"] == "same-origin"
    assert headers["cross-origin-embedder-policy"] == "require-corp"
    assert headers["cross-origin-resource-policy"] == "same-origin"
    assert headers["cache-control"] == "no-store"
    assert int(headers["content-length"]) == len(body) > 0


def test_head_query_index_and_inside_symlink(srv: devserver.DevServer) -> None:
    status, headers, body = request(srv, "/worker.mjs", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len("export {};"))
    assert request(srv, "/worker.mjs?wheel=/wheels/x.whl#frag")[0] == 200
    assert request(srv, "/")[2] == b"<p>home</p>"
    assert request(srv, "/inside-link.txt")[2] == b"note"
    assert request(srv, "/sub/deeper/x.txt")[2] == b"x"


def test_missing_files_and_no_directory_listing(srv: devserver.DevServer) -> None:
    assert request(srv, "/nope.txt")[0] == 404
    assert request(srv, "/sub/")[0] == 404  # a directory without index.html: no listing
    assert request(srv, "/sub")[0] == 404
    assert request(srv, "/pyodide/")[0] == 404
    assert request(srv, "/sqlite-wasm/x.js")[0] == 404  # not a root here: falls to / and misses
    assert request(srv, "/x", method="POST")[0] in (405, 501)


ESCAPES = [
    "/../secret.txt",
    "/../outside/secret.txt",
    "/sub/../../secret.txt",
    "/sub/../index.html",  # even harmless `..` is refused
    "/./index.html",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/%2E%2E%2Fsecret.txt",
    "/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/sub%2f..%2f..%2fsecret.txt",
    "/..%2Foutside%2Fsecret.txt",
    "/pyodide/../../secret.txt",
    "/pyodide/%2e%2e/%2e%2e/secret.txt",
    "/wheels/..%2f..%2fsecret.txt",
    "/..\\secret.txt",
    "/sub\\..\\..\\secret.txt",
    "/%5c..%5csecret.txt",
    "/%5C..%5C..%5Csecret.txt",
    "//etc/passwd",
    "/%2fetc/passwd",
    "/%2F%2Fetc%2Fpasswd",
    "/wheels//etc/passwd",
    "/index.html%00.txt",
    "etc/passwd",
    "http://127.0.0.1/../secret.txt",
    "/escape-dir/secret.txt",
    "/escape-file.txt",
    "/escape-dir/",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_never_serves_outside_roots(srv: devserver.DevServer, path: str) -> None:
    status, _, body = request(srv, path)
    assert status in (403, 404), (path, status)
    assert SECRET.encode() not in body


def test_symlink_escape_is_forbidden_not_just_missing(srv: devserver.DevServer) -> None:
    assert request(srv, "/escape-file.txt")[0] == 403
    assert request(srv, "/escape-dir/secret.txt")[0] == 403
    assert request(srv, "/%2e%2e/secret.txt")[0] == 403


def test_absolute_filesystem_path_stays_under_root(srv: devserver.DevServer, tree: dict[str, Path]) -> None:
    absolute = str(tree["outside"] / "secret.txt")  # "/tmp/.../outside/secret.txt" -> web/tmp/...
    status, _, body = request(srv, absolute)
    assert status == 404
    assert SECRET.encode() not in body


def test_quiet_by_default(srv: devserver.DevServer, capfd: pytest.CaptureFixture[str]) -> None:
    request(srv, "/worker.mjs")
    request(srv, "/nope")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_default_roots_serve_the_harness() -> None:
    with devserver.start() as s:
        status, headers, body = request(s, "/harness.html")
        assert status == 200
        assert headers["content-type"].startswith("text/html")
        assert b"harness.mjs" in body
        status, headers, _ = request(s, "/worker.mjs")
        assert (status, headers["content-type"].split(";")[0]) == (200, "text/javascript")
