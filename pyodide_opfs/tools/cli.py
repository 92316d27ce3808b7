"""``pyodide-opfs`` command line: ``serve``, ``demo``, ``bench``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import sys
import time
from collections.abc import Sequence

from . import paths


def _check_setup(need_chromium: bool) -> None:
    missing = paths.missing_setup()
    if not need_chromium:
        missing = [m for m in missing if not m.startswith("Chromium")]
    if missing:
        raise SystemExit(
            "pyodide-opfs: missing " + ", ".join(missing) + ".\n"
            "Run ./dev setup from the repository root to install them."
        )


def _serve(args: argparse.Namespace) -> int:
    from . import devserver

    _check_setup(need_chromium=False)
    from .webapp import publish_wheel

    wheel = publish_wheel()  # the app installs the wheel /wheels/latest.json names
    srv = devserver.start(port=args.port, host=args.host, verbose=args.verbose)
    print(f"pyodide-opfs app: {srv.url}/  (wheel {wheel.name})", flush=True)
    print(f"Serving on {srv.url}/  (harness: {srv.url}/harness.html)  Ctrl-C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    finally:
        srv.stop()
    return 0


def _run_module(module: str, what: str, argv: Sequence[str]) -> int:
    if not _find_spec_safe(module):
        print(f"pyodide-opfs {what}: not yet implemented (no module {module})", file=sys.stderr)
        return 2
    _check_setup(need_chromium=True)
    mod = importlib.import_module(module)
    takes_argv = bool(inspect.signature(mod.main).parameters)
    rc = mod.main(list(argv)) if takes_argv else mod.main()
    return int(rc or 0)


def _find_spec_safe(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pyodide-opfs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_serve = sub.add_parser("serve", help="serve web/, Pyodide and wheels with COOP/COEP")
    p_serve.add_argument("--port", type=int, default=8000, help="port (default 8000, 0 = any)")
    p_serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    p_serve.add_argument("-v", "--verbose", action="store_true", help="log every request")

    sub.add_parser("demo", help="run the demo in Chromium", add_help=False)
    sub.add_parser("bench", help="run the benchmarks", add_help=False)

    args, rest = parser.parse_known_args(argv)
    if args.command == "serve":
        if rest:
            parser.error(f"unrecognized arguments: {' '.join(rest)}")
        return _serve(args)
    if args.command == "demo":
        return _run_module("pyodide_opfs.tools.demo", "demo", rest)
    if args.command == "bench":
        return _run_module("pyodide_opfs.bench", "bench", rest)
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
