"""``pyodide-opfs bench`` / ``python -m pyodide_opfs.bench``: side-by-side figures for every
storage stack Python (and SQLite) can use in a browser worker.

Host-side: it builds our wheel, serves ``web/`` with the dev server, starts one headless Chromium
on an on-disk profile, and runs each stack in its own dedicated worker (fresh OPFS state per
stack and run): our pool backend (DELETE, EXCLUSIVE+WAL, TRUNCATE, PERSIST), the proxy backend
when the package has ``mount_proxy``, Pyodide's MEMFS and IDBFS, ``@sqlite.org/sqlite-wasm`` on
``opfs-sahpool`` and on ``opfs``, and a raw SyncAccessHandle loop. Output (default
``bench-results/``): ``results.md``, ``results.json``, ``bench.png``.

Modules: ``stacks`` (what runs; adding a stack is one entry), ``runner`` (the browser side of the
host), ``inworker`` (the Python that runs inside Pyodide), ``report`` (table, targets, chart).
Nothing here is imported by the package itself, and importing this module needs no browser.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pyodide-opfs bench",
        description="Benchmark pyodide_opfs against sqlite-wasm, Pyodide MEMFS/IDBFS and raw OPFS handles "
                    "in headless Chromium.",
    )
    p.add_argument("--quick", action="store_true", help="smoke run: small sizes, one shared Pyodide worker (seconds)")
    p.add_argument("--out", type=Path, default=Path("bench-results"), help="output directory (default bench-results/)")
    p.add_argument("--stacks", help="comma-separated stack keys or prefixes (default: all); see --list")
    p.add_argument("--extras", default="mount,heap,profile",
                   help="comma-separated extra measurements: mount (mount time vs capacity), heap (WASM heap "
                        "growth reading a large file), profile (W1-W3 with every handle call and filesystem "
                        "operation timed), tuning (connect() journal mode x page size x cache size on the pool; "
                        "not in the default set); '' for none (default: mount,heap,profile)")
    p.add_argument("--repeat", type=int, help="runs of W1-W4 per stack (default 3, --quick 1)")
    p.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    p.add_argument("--verbose", action="store_true", help="print the browser console")
    p.add_argument("--list", action="store_true", help="list the stacks and exit")
    p.add_argument("--from-json", type=Path, metavar="RESULTS_JSON",
                   help="do not run: regenerate the table and chart from an earlier results.json")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from . import report as report_mod
    from . import stacks

    if args.list:
        for s in stacks.STACKS:
            extra = f"  (needs pyodide_opfs.{s.requires})" if s.requires else ""
            print(f"{s.key:28} {s.label}{extra}")
        return 0
    if args.from_json:
        import json

        results = json.loads(args.from_json.read_text())
    else:
        from . import runner

        names = [n.strip() for n in args.stacks.split(",") if n.strip()] if args.stacks else None
        extras = [e.strip() for e in args.extras.split(",") if e.strip()]
        bad = sorted(set(extras) - {"mount", "heap", "profile", "tuning"})
        if bad:
            raise SystemExit(f"unknown extra(s) {bad}; choose from mount, heap, profile, tuning")
        results = runner.run_benchmark(quick=args.quick, stacks=names, extras=extras, repeat=args.repeat,
                                       headed=args.headed, verbose=args.verbose)
    written = report_mod.write_all(results, args.out)
    print()
    print(written["summary"])
    for kind, path in written["files"].items():
        print(f"[bench] {kind}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
