// Timing probe for the benchmark's profile: wraps FileSystemSyncAccessHandle.prototype's methods
// in this worker so every handle call (ours, sqlite-wasm's, raw) is counted and timed. Whatever
// a workload spends outside these calls is CPU: SQLite, the filesystem glue, Python.
// Installed only by the profile step; the timed benchmark runs never load it.

const METHODS = ["read", "write", "flush", "truncate", "getSize", "close"];
let stats = null;

export function install() {
  if (stats) return stats;
  stats = {};
  const proto = FileSystemSyncAccessHandle.prototype;
  for (const m of METHODS) {
    const orig = proto[m];
    const s = (stats[m] = { calls: 0, ms: 0, bytes: 0 });
    proto[m] = function (...args) {
      const t = performance.now();
      try {
        return orig.apply(this, args);
      } finally {
        s.calls++;
        s.ms += performance.now() - t;
        if ((m === "read" || m === "write") && args[0]) s.bytes += args[0].byteLength;
      }
    };
  }
  return stats;
}

export function reset() {
  for (const s of Object.values(install())) {
    s.calls = 0;
    s.ms = 0;
    s.bytes = 0;
  }
}

/** {method: {calls, ms, bytes}} since the last reset. */
export function snapshot() {
  return JSON.parse(JSON.stringify(install()));
}

const FS_METHODS = ["read", "write", "llseek", "open", "close", "fsync", "getattr", "setattr", "lookup", "mknod",
  "unlink", "rename", "readdir", "dup"];
let fsStats = null;
let undoFs = [];

/**
 * Time the Emscripten node and stream operations of `node`'s filesystem (the objects are shared
 * by every node of the same kind, so one file node covers all files of its mount; pass the
 * mount's root too for its directory operations). Calls nest: read/write include handle calls.
 */
export function instrumentFs(...nodes) {
  fsStats ??= {};
  for (const node of nodes) {
    for (const table of [node.node_ops, node.stream_ops]) {
      if (!table || table.__probed) continue;
      table.__probed = true;
      for (const m of FS_METHODS) {
        const orig = table[m];
        if (typeof orig !== "function") continue;
        const s = (fsStats[m] ??= { calls: 0, ms: 0 });
        table[m] = function (...args) {
          const t = performance.now();
          try {
            return orig.apply(this, args);
          } finally {
            s.calls++;
            s.ms += performance.now() - t;
          }
        };
        undoFs.push(() => {
          table[m] = orig;
          delete table.__probed;
        });
      }
    }
  }
}

export function uninstrumentFs() {
  for (const undo of undoFs.reverse()) undo();
  undoFs = [];
}

export function resetFs() {
  for (const s of Object.values(fsStats ?? {})) {
    s.calls = 0;
    s.ms = 0;
  }
}

export function snapshotFs() {
  return JSON.parse(JSON.stringify(fsStats ?? {}));
}
