// Test utility: a module worker that runs the official @sqlite.org/sqlite-wasm build on its
// `opfs-sahpool` VFS, so tests can check that it and pyodide_opfs share pool directories.
//
// Message in: {directory, sql: [statements run on /app.db or `db`], query, db}
// Message out: {ok, rows, fileNames} | {ok: false, error}
// The worker releases the pool (removes nothing) before answering, so Python can mount it next.

import sqlite3InitModule from "/sqlite-wasm/dist/index.mjs";

self.onmessage = async ({ data }) => {
  try {
    const sqlite3 = await sqlite3InitModule();
    const pool = await sqlite3.installOpfsSAHPoolVfs({ directory: data.directory });
    const db = new pool.OpfsSAHPoolDb(data.db ?? "/app.db");
    for (const sql of data.exec ?? []) db.exec(sql);
    const rows = data.query ? db.selectArrays(data.query) : [];
    db.close();
    const fileNames = pool.getFileNames();
    pool.pauseVfs(); // release every handle; keeps all files
    self.postMessage({ ok: true, rows, fileNames });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e?.stack ?? e) });
  }
};
