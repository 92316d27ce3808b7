"""Python run inside the worker by several suites (sent as source text)."""

from __future__ import annotations

import hashlib
import random

#: File sizes around the 4 KiB sector and the header boundary, plus large ones.
SIZES = [0, 1, 4095, 4096, 4097, 1 << 20, 20 << 20]
TEXT = "".join(f"line {i}: ünïcödé ✓ — {'x' * (i % 50)}\n" for i in range(2000))


def content(size: int) -> bytes:
    """Deterministic bytes (the same in the host's CPython and in Pyodide)."""
    return random.Random(size).randbytes(size)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# Defines snapshot(root): every file's sha256 (except SQLite files), every directory, and each
# database's row count and integrity_check. Compared with what the host expects.
SNAPSHOT = r'''
import hashlib, os
def snapshot(root="/data"):
    files, dirs, dbs = {}, [], {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            dirs.append(os.path.relpath(os.path.join(dirpath, d), root))
        for name in filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if name.endswith(".db"):
                import sqlite3  # only where databases are (a separate package before Pyodide 314)
                con = sqlite3.connect(path)
                dbs[rel] = {
                    "rows": con.execute("select count(*) from t").fetchone()[0],
                    "sum": con.execute("select total(x) from t").fetchone()[0],
                    "integrity": con.execute("pragma integrity_check").fetchone()[0],
                }
                con.close()
            elif "-journal" in name or name.endswith("-wal"):
                continue
            else:
                with open(path, "rb") as f:
                    files[rel] = hashlib.sha256(f.read()).hexdigest()
    return {"files": files, "dirs": sorted(dirs), "dbs": dbs}
'''
