// @sqlite.org/sqlite-wasm (JS, from npm) in a dedicated module worker: the same workloads as
// pyodide_opfs/bench/inworker.py, on its "opfs-sahpool" VFS (DELETE or EXCLUSIVE+WAL journal)
// or on its "opfs" VFS (async proxy). Driven through common.mjs's serve() protocol.
//
// synchronous stays at SQLite's default (FULL), so every COMMIT is flushed before it returns:
// the same durability as pyodide_opfs, whose filesystem flushes at each commit point.

import sqlite3InitModule from "/sqlite-wasm/dist/index.mjs";
import { now, parkMiller, removeOpfsEntry, rowK, rowV, serve } from "/bench/common.mjs";

let sqlite3 = null;
let state = null; // {vfs, journal, tag, dir, file, pool, db}

function applyPragmas(db, journal) {
  if (journal === "wal") {
    db.exec("PRAGMA locking_mode=EXCLUSIVE");
  }
  const got = String(db.selectValue(`PRAGMA journal_mode=${journal}`)).toLowerCase();
  if (got !== journal) throw new Error(`journal_mode=${journal} refused (got ${got})`);
}

function openDb() {
  const { vfs, pool, file, journal } = state;
  const db = vfs === "opfs-sahpool" ? new pool.OpfsSAHPoolDb(file) : new sqlite3.oo1.OpfsDb(file, "c");
  applyPragmas(db, journal);
  return db;
}

function quantiles(times) {
  const s = [...times].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

const fns = {
  /** Start a fresh database: {vfs: "opfs-sahpool"|"opfs", journal: "delete"|"wal", tag}. */
  async open({ vfs, journal, tag }) {
    if (state) await fns.close();
    const dir = `bench-${tag}`;
    state = { vfs, journal, tag, dir, pool: null, db: null, file: null };
    if (vfs === "opfs-sahpool") {
      state.pool = await sqlite3.installOpfsSAHPoolVfs({ name: `sah-${tag}`, directory: dir, clearOnInit: true });
      state.file = "/bench.db";
    } else if (vfs === "opfs") {
      if (!sqlite3.capi.sqlite3_vfs_find("opfs")) throw new Error('the "opfs" VFS is not available');
      state.file = `/${dir}/bench.db`;
    } else {
      throw new Error(`unknown vfs ${vfs}`);
    }
    state.db = openDb();
    return {
      journal: String(state.db.selectValue("PRAGMA journal_mode")),
      synchronous: Number(state.db.selectValue("PRAGMA synchronous")),
      page_size: Number(state.db.selectValue("PRAGMA page_size")),
    };
  },

  /** n single-row commits; in slices: `start` = rows so far; `times_out` returns each commit's time. */
  w1({ n, start = 0, times_out = false }) {
    const db = state.db;
    if (start === 0) db.exec("CREATE TABLE w1(id INTEGER PRIMARY KEY, k INTEGER, v TEXT)");
    const begin = db.prepare("BEGIN");
    const ins = db.prepare("INSERT INTO w1(k, v) VALUES(?, ?)");
    const commit = db.prepare("COMMIT");
    const times = new Float64Array(n);
    const t0 = now();
    for (let i = 0; i < n; i++) {
      const t = now();
      begin.stepReset();
      ins.bind([rowK(start + i), rowV(start + i)]).stepReset();
      commit.stepReset();
      times[i] = now() - t;
    }
    const total = now() - t0;
    begin.finalize();
    ins.finalize();
    commit.finalize();
    const count = Number(db.selectValue("SELECT count(*) FROM w1"));
    if (count !== start + n) throw new Error(`w1: ${count} rows, expected ${start + n}`);
    return { n, total_ms: total, ...quantiles(times), ...(times_out ? { times: Array.from(times) } : {}) };
  },

  w2({ n }) {
    const db = state.db;
    db.exec("CREATE TABLE w2(id INTEGER PRIMARY KEY, k INTEGER, v TEXT)");
    const t0 = now();
    db.exec("BEGIN");
    const ins = db.prepare("INSERT INTO w2(k, v) VALUES(?, ?)");
    for (let i = 0; i < n; i++) ins.bind([rowK(i), rowV(i)]).stepReset();
    ins.finalize();
    db.exec("COMMIT");
    return { n, total_ms: now() - t0 };
  },

  w3({ n, rows, seed = 42 }) {
    const db = state.db;
    const rnd = parkMiller(seed);
    const sel = db.prepare("SELECT k, v FROM w2 WHERE id = ?");
    let checksum = 0;
    const t0 = now();
    for (let i = 0; i < n; i++) {
      sel.bind([(rnd.next().value % rows) + 1]);
      if (!sel.step()) throw new Error("w3: row not found");
      checksum = (checksum + sel.getInt(0) + sel.getString(1).length) % 2147483647;
      sel.reset();
    }
    const total = now() - t0;
    sel.finalize();
    return { n, total_ms: total, checksum };
  },

  w4() {
    const t0 = now();
    state.db.close();
    state.db = openDb();
    const count = Number(state.db.selectValue("SELECT count(*) FROM w2"));
    return { total_ms: now() - t0, count };
  },

  async close() {
    if (!state) return null;
    const { db, pool, dir, vfs } = state;
    state = null;
    db?.close();
    if (pool) await pool.removeVfs();
    if (vfs === "opfs") await removeOpfsEntry(dir);
    return null;
  },

  /** W1/W2/W3 with every SyncAccessHandle call counted and timed (probe.mjs). */
  async profile({ vfs, journal, tag, w1_n = 0, w2_n = 0, w3_n = 0 }) {
    const probe = await import("/bench/probe.mjs");
    probe.install();
    await fns.open({ vfs, journal, tag });
    const out = {};
    try {
      for (const [name, args] of [["w1", { n: w1_n }], ["w2", { n: w2_n }], ["w3", { n: w3_n, rows: w2_n }]]) {
        if (!args.n || (name === "w3" && !w2_n)) continue;
        probe.reset();
        const t0 = now();
        const result = fns[name](args);
        out[name] = { result, total_ms: now() - t0, sah: probe.snapshot() };
      }
    } finally {
      await fns.close();
    }
    return out;
  },

  /** Install an opfs-sahpool VFS of `capacity` files in a new directory: {create_ms}. */
  async mount({ capacity, tag }) {
    const t0 = now();
    const pool = await sqlite3.installOpfsSAHPoolVfs({ name: `mnt-${tag}`, directory: `bench-mnt-${tag}`, initialCapacity: capacity });
    const create = now() - t0;
    const got = pool.getCapacity();
    await pool.removeVfs();
    return { capacity: got, create_ms: create };
  },
};

serve(fns, async () => {
  sqlite3 = await sqlite3InitModule({ print: console.log, printErr: console.warn });
  return {
    version: sqlite3.version.libVersion,
    opfs: Boolean(sqlite3.capi.sqlite3_vfs_find("opfs")),
  };
});
