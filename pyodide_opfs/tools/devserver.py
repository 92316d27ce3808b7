"""A small threaded static file server for the test harness, the demo and benchmarks.

Named roots (longest prefix wins)::

    /              -> web/
    /pyodide/      -> .cache/npm/node_modules/pyodide
    /sqlite-wasm/  -> .cache/npm/node_modules/@sqlite.org/sqlite-wasm
    /wheels/       -> .cache/wheels
    /pyodide-<v>/  -> .cache/pyodide-<v>/node_modules/pyodide (other releases, when installed)

Every response carries the cross-origin isolation headers (COOP/COEP/CORP), which Pyodide
workers need for SharedArrayBuffer, and ``Cache-Control: no-store`` so tests always get the
files as they are now. It never serves a file outside its roots: ``..``/``.`` segments (also
percent-encoded), backslashes, NUL bytes, empty segments (``//etc``) and symlinks that resolve
outside the root are refused. Directory listings are off (a directory serves its
``index.html`` or 404).

Usage::

    with devserver.start() as srv:      # 127.0.0.1, ephemeral port
        page = srv.url + "/harness.html"
"""

from __future__ import annotations

import http.server
import shutil
import socket
import sys
import threading
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from . import paths, releases

MIME_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".tar": "application/x-tar",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".ts": "text/plain; charset=utf-8",
    ".py": "text/x-python; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

ISOLATION_HEADERS: dict[str, str] = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def default_roots() -> dict[str, Path]:
    return {
        "/": paths.WEB_DIR,
        "/pyodide/": paths.PYODIDE_DIR,
        "/sqlite-wasm/": paths.SQLITE_WASM_DIR,
        "/wheels/": paths.WHEELS_DIR,
        **releases.installed_roots(),
    }


class Forbidden(Exception):
    """The request path tries to leave its root."""


def _content_type(path: Path) -> str:
    return MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")


class _Handler(http.server.BaseHTTPRequestHandler):
    server: DevServer
    protocol_version = "HTTP/1.1"
    server_version = "pyodide-opfs-devserver"
    timeout = 60  # an idle keep-alive connection's thread ends after this

    def version_string(self) -> str:
        return self.server_version

    def end_headers(self) -> None:
        for name, value in ISOLATION_HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            sys.stderr.write(f"[devserver] {self.address_string()} {format % args}\n")

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, send_body: bool) -> None:
        try:
            file = self.server.resolve(self.path)
        except Forbidden:
            self.send_error(403)
            return
        if file is None:
            self.send_error(404)
            return
        try:
            f = file.open("rb")
        except OSError:
            self.send_error(404)
            return
        with f:
            size = file.stat().st_size
            self.send_response(200)
            self.send_header("Content-Type", _content_type(file))
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if send_body:
                try:
                    shutil.copyfileobj(f, self.wfile, 1 << 20)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True


class DevServer(http.server.ThreadingHTTPServer):
    """The server object: ``.url``, ``.stop()``, and a context manager."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        roots: Mapping[str, Path | str] | None = None,
        verbose: bool = False,
    ) -> None:
        self.verbose = verbose
        raw = default_roots() if roots is None else roots
        mounts: list[tuple[str, Path]] = []
        for prefix, root in raw.items():
            if not prefix.startswith("/") or not prefix.endswith("/"):
                raise ValueError(f"root prefix must start and end with '/': {prefix!r}")
            mounts.append((prefix, Path(root).resolve()))
        # Longest prefix first, so /pyodide/ wins over /.
        self.mounts = sorted(mounts, key=lambda m: len(m[0]), reverse=True)
        self._thread: threading.Thread | None = None
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def resolve(self, request_path: str) -> Path | None:
        """Map a request path to a file inside one root; None if there is no such file.

        Raises Forbidden for any attempt to step outside a root.
        """
        raw = request_path.split("?", 1)[0].split("#", 1)[0]
        if not raw.startswith("/") or "\\" in raw:
            raise Forbidden(request_path)
        try:
            decoded = urllib.parse.unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if "\\" in decoded or "\x00" in decoded:
            raise Forbidden(request_path)
        for prefix, root in self.mounts:
            if decoded.startswith(prefix):
                rest = decoded[len(prefix):]
                break
            if decoded == prefix.rstrip("/") and prefix != "/":
                return None  # "/pyodide" without its slash: not a file
        else:
            return None
        segments = rest.split("/")
        if segments and segments[-1] == "":
            segments.pop()  # trailing slash: a directory
        for seg in segments:
            if seg in ("", ".", ".."):
                raise Forbidden(request_path)
        candidate = root.joinpath(*segments)
        resolved = candidate.resolve()
        if not resolved.is_relative_to(root):
            raise Forbidden(request_path)
        if resolved.is_dir():
            resolved = (resolved / "index.html").resolve()
            if not resolved.is_relative_to(root):
                raise Forbidden(request_path)
        return resolved if resolved.is_file() else None

    # lifecycle ------------------------------------------------------------------------------
    def start_background(self) -> DevServer:
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name="pyodide-opfs-devserver", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.server_close()

    def __enter__(self) -> DevServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start(
    port: int = 0,
    host: str = "127.0.0.1",
    roots: Mapping[str, Path | str] | None = None,
    verbose: bool = False,
) -> DevServer:
    """Start serving in a background thread; port 0 picks a free port. Returns the server."""
    return DevServer((host, port), roots=roots, verbose=verbose).start_background()
