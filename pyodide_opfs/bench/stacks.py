"""What the benchmark runs: the stacks (one entry each), the workload sizes, the scaling steps.

Adding a stack is one entry in :data:`STACKS`. Stacks whose ``requires`` names an attribute of
the ``pyodide_opfs`` package (e.g. ``mount_proxy``) run only when the wheel under test has it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Workload groups a stack can run.
#:   W      W1 (single-row commits), W2 (bulk insert), W3 (point reads), W4 (close/reopen/count)
#:   W1     W1 only (for the flush-count table)
#:   F1     sequential 64 KiB writes + reads of a file;  F2  4 KiB random writes + fsync
#:   floor  raw handle: one 4 KiB write + flush per "commit" (the cheapest durable commit)
GROUPS = ("W", "W1", "F1", "F2", "floor")


@dataclass(frozen=True)
class Stack:
    key: str
    label: str
    #: "pyodide" (web/worker.mjs + inworker.py), "sqlite-wasm" (web/bench/sqlite_worker.mjs),
    #: "raw" (web/bench/raw_worker.mjs)
    engine: str
    params: dict[str, Any]
    groups: tuple[str, ...]
    #: workloads measured at x1, x10, x100 (budget permitting)
    scaling: tuple[str, ...] = ()
    journal: str | None = None
    #: one of our own backends (the subject of the targets)
    ours: bool = False
    #: the attribute of pyodide_opfs this stack needs (skipped when absent)
    requires: str | None = None
    #: holds the whole database in memory (caps the scaling sizes)
    in_memory: bool = False
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


STACKS: list[Stack] = [
    # --- ours -----------------------------------------------------------------------------
    Stack("pool-delete", "pyodide_opfs pool, DELETE", "pyodide", {"kind": "pool", "journal": "delete"},
          ("W", "F1", "F2"), ("W1", "W2", "F1"), journal="delete", ours=True),
    Stack("pool-wal", "pyodide_opfs pool, EXCLUSIVE+WAL", "pyodide", {"kind": "pool", "journal": "wal"},
          ("W",), ("W1", "W2"), journal="wal", ours=True),
    Stack("pool-truncate", "pyodide_opfs pool, TRUNCATE", "pyodide", {"kind": "pool", "journal": "truncate"},
          ("W1",), journal="truncate", ours=True),
    Stack("pool-persist", "pyodide_opfs pool, PERSIST", "pyodide", {"kind": "pool", "journal": "persist"},
          ("W1",), journal="persist", ours=True),
    Stack("proxy-delete", "pyodide_opfs proxy, DELETE", "pyodide", {"kind": "proxy", "journal": "delete"},
          ("W", "F1", "F2"), ("W1", "W2", "F1"), journal="delete", ours=True, requires="mount_proxy"),
    Stack("proxy-wal", "pyodide_opfs proxy, EXCLUSIVE+WAL", "pyodide", {"kind": "proxy", "journal": "wal"},
          ("W",), ("W1",), journal="wal", ours=True, requires="mount_proxy"),
    # --- Pyodide's own filesystems ----------------------------------------------------------
    Stack("memfs-delete", "Pyodide MEMFS, DELETE (no durability)", "pyodide", {"kind": "memfs", "journal": "delete"},
          ("W", "F1", "F2"), ("W1", "W2", "F1"), journal="delete", in_memory=True),
    Stack("memfs-wal", "Pyodide MEMFS, EXCLUSIVE+WAL (no durability)", "pyodide", {"kind": "memfs", "journal": "wal"},
          ("W",), ("W1", "W2"), journal="wal", in_memory=True),
    Stack("idbfs-commit-delete", "Pyodide IDBFS, syncfs per commit, DELETE", "pyodide",
          {"kind": "idbfs", "journal": "delete", "sync": "commit"}, ("W",), ("W1",), journal="delete", in_memory=True,
          note="Chromium commits IndexedDB transactions with relaxed durability by default (no flush to disk), "
               "so this is durable against a crash of the browser, not of the machine",
          extra={"cell_budget_s": 75.0}),
    Stack("idbfs-commit-strict-delete", "Pyodide IDBFS, syncfs per commit, strict IndexedDB durability, DELETE",
          "pyodide", {"kind": "idbfs", "journal": "delete", "sync": "commit", "durability": "strict"}, ("W",),
          journal="delete", in_memory=True,
          note="IDBFS with its IndexedDB transactions forced to durability \"strict\" (flushed before they "
               "complete): the same durability as our commits"),
    Stack("idbfs-commit-wal", "Pyodide IDBFS, syncfs per commit, EXCLUSIVE+WAL", "pyodide",
          {"kind": "idbfs", "journal": "wal", "sync": "commit"}, ("W",), journal="wal", in_memory=True),
    Stack("idbfs-end-delete", "Pyodide IDBFS, one syncfs at the end, DELETE", "pyodide",
          {"kind": "idbfs", "journal": "delete", "sync": "end"}, ("W",), journal="delete", in_memory=True,
          note="commits are not durable until the final syncfs"),
    # --- sqlite-wasm (JS) -------------------------------------------------------------------
    Stack("sqlitewasm-sahpool-delete", "sqlite-wasm JS, opfs-sahpool, DELETE", "sqlite-wasm",
          {"vfs": "opfs-sahpool", "journal": "delete"}, ("W",), ("W1", "W2"), journal="delete"),
    Stack("sqlitewasm-sahpool-wal", "sqlite-wasm JS, opfs-sahpool, EXCLUSIVE+WAL", "sqlite-wasm",
          {"vfs": "opfs-sahpool", "journal": "wal"}, ("W",), ("W1", "W2"), journal="wal"),
    Stack("sqlitewasm-opfs-delete", 'sqlite-wasm JS, "opfs" VFS (async proxy), DELETE', "sqlite-wasm",
          {"vfs": "opfs", "journal": "delete"}, ("W",), journal="delete"),
    # --- the floor --------------------------------------------------------------------------
    Stack("raw-sah", "raw JS SyncAccessHandle loop (floor)", "raw", {}, ("floor", "F1", "F2"), ("floor", "F1")),
]


@dataclass(frozen=True)
class Sizes:
    w1: int
    w2: int
    w3: int
    f1_bytes: int
    f2_n: int
    f2_file_bytes: int
    heap_bytes: int
    capacities: tuple[int, ...]
    factors: tuple[int, ...]
    #: W1 runs in this many slices, alternating between the stacks
    w1_slices: int
    #: W3 likewise
    w3_slices: int
    #: most runs of W1-W4 per stack (fewer when a stack is slow, see stack_budget_s)
    repeat: int
    #: stop repeating W1-W4 once a stack has spent this long
    stack_budget_s: float
    #: skip a scaling step predicted to take longer than this
    cell_budget_s: float
    #: skip a scaling step of an in-memory stack whose data would exceed this
    memory_cap_bytes: int


FULL = Sizes(
    w1=1_000, w2=100_000, w3=10_000, f1_bytes=64 << 20, f2_n=1_000, f2_file_bytes=16 << 20,
    heap_bytes=256 << 20, capacities=(6, 50, 100, 250, 500, 1000), factors=(1, 10, 100), w1_slices=10, w3_slices=10,
    repeat=3, stack_budget_s=30.0, cell_budget_s=30.0, memory_cap_bytes=700 << 20,
)

QUICK = Sizes(
    w1=40, w2=2_000, w3=400, f1_bytes=2 << 20, f2_n=40, f2_file_bytes=1 << 20,
    heap_bytes=8 << 20, capacities=(6, 12, 24), factors=(1, 10), w1_slices=2, w3_slices=2,
    repeat=1, stack_budget_s=5.0, cell_budget_s=4.0, memory_cap_bytes=64 << 20,
)

#: Approximate bytes per W2 row in the database file (id, k, 40-character v, b-tree overhead).
ROW_BYTES = 60
