"""Databases move between the official @sqlite.org/sqlite-wasm (its opfs-sahpool VFS, in JS)
and pyodide_opfs in the same origin and pool directory, in both directions; a non-database file
stored from Python survives sqlite-wasm opening the pool (issue 4)."""

from __future__ import annotations

from typing import Any

from harness import BrowserSession

DIRECTORY = ".opfs-sahpool"  # both libraries' default


def sqlite_wasm(session: BrowserSession, **message: Any) -> dict[str, Any]:
    """Run the official sqlite-wasm in its own module worker of the harness page."""
    assert session.page is not None
    reply: dict[str, Any] = session.page.evaluate(
        """(message) => new Promise((resolve) => {
            const w = new Worker("/interop/sqlite_wasm_worker.mjs", {type: "module"});
            w.onmessage = ({data}) => { w.terminate(); resolve(data); };
            w.onerror = (e) => { w.terminate(); resolve({ok: false, error: String(e.message)}); };
            w.postMessage(message);
        })""",
        {"directory": DIRECTORY, **message},
    )
    assert reply["ok"], reply.get("error")
    return reply


def test_databases_cross_between_sqlite_wasm_and_python(browser_session: BrowserSession) -> None:
    # 1. Python writes a database and a plain text file, then releases the pool.
    python_wrote = browser_session.run(f'''
import pyodide_opfs
pool = await pyodide_opfs.mount_sahpool("/data", directory={DIRECTORY!r})
con = pyodide_opfs.connect("/data/from_python.db")
con.execute("create table t(id integer primary key, who text)")
con.executemany("insert into t(who) values (?)", [("python",)] * 250)
con.commit()
con.close()
with open("/data/notes.txt", "w") as f:
    f.write("plain file from Python")
names = pool.stored_names()
await pool.unmount()
names
''')
    assert python_wrote == ["/from_python.db", "/notes.txt"]

    # 2. sqlite-wasm reads Python's database and writes its own.
    js = sqlite_wasm(browser_session, db="/from_python.db", query="select count(*), min(who) from t")
    assert js["rows"] == [[250, "python"]]
    assert sorted(js["fileNames"]) == ["/from_python.db", "/notes.txt"]
    js = sqlite_wasm(
        browser_session, db="/from_js.db",
        exec=["create table t(id integer primary key, who text)",
              "with recursive n(i) as (select 1 union all select i+1 from n where i < 300) "
              "insert into t(who) select 'sqlite-wasm' from n"],
        query="select count(*) from t",
    )
    assert js["rows"] == [[300]]

    # 3. Python sees sqlite-wasm's database, its own database and the plain file, intact.
    seen = browser_session.run(f'''
import pyodide_opfs, sqlite3
pool = await pyodide_opfs.mount_sahpool("/data", directory={DIRECTORY!r})
res = {{"names": pool.stored_names(), "quarantined": pool.quarantined}}
for name in ("from_js", "from_python"):
    con = sqlite3.connect(f"/data/{{name}}.db")
    res[name] = con.execute("select count(*), min(who) from t").fetchone()
    res[name + "_ok"] = con.execute("pragma integrity_check").fetchone()[0]
    con.close()
res["notes"] = open("/data/notes.txt").read()
await pool.unmount()
res
''')
    assert seen == {
        "names": ["/from_js.db", "/from_python.db", "/notes.txt"], "quarantined": [],
        "from_js": [300, "sqlite-wasm"], "from_js_ok": "ok",
        "from_python": [250, "python"], "from_python_ok": "ok",
        "notes": "plain file from Python",
    }
