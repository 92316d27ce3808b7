"""Bad input (issue 6): each case asserts the exception type (and errno, for OSError) *and* that
storage is unchanged: the raw bytes of every file in the origin's OPFS and the tree under the
mount, compared before and after.

One worker per backend runs every case (module-scoped), with the pool mounted at /data holding
a few files, a directory tree, a database and a directory whose path is 306 bytes long. Paths over 511 bytes (relative to the
mount) are a limit of the SAH pool's header (sqlite-wasm's format); the proxy keeps to it too, so
that files can move between the backends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest
from backends import mount_code, selected
from harness import BrowserSession
from reliability_helpers import OPFS_SNAPSHOT, TREE

LONG = "/data/long/" + "p" * 150 + "/" + "p" * 149  # stored as "/long/ppp…/ppp…": 306 bytes
Q250 = "q" * 250


class Case(NamedTuple):
    id: str
    code: str  # body of an async function run in the worker's namespace
    expected: str | tuple[str, str | tuple[str, ...]]  # type name, or (type name, errno name(s))
    pool_only: bool = False  # uses the SAH pool API (skipped on other backends)
    #: False: bytes of existing OPFS files may change, names and the mounted tree may not (a
    #: streamed import must write before it can judge the data; its temporary file is freed).
    raw: bool = True


E = "OSError"

CASES: list[Case] = [
    # --- names and paths ---------------------------------------------------------------------
    Case("name-over-511-bytes", 'open("/data/" + "x" * 600, "w")', (E, "ENAMETOOLONG")),
    Case("nested-path-over-511-bytes", f'open({LONG!r} + "/" + {Q250!r}, "w")', (E, "ENAMETOOLONG")),
    Case("utf8-path-over-511-bytes-under-511-chars", f'open({LONG!r} + "/" + "é" * 120, "w")', (E, "ENAMETOOLONG")),
    Case("mkdir-over-511-bytes", f'os.mkdir({LONG!r} + "/" + {Q250!r})', (E, "ENAMETOOLONG")),
    Case("rename-to-over-511-bytes", f'os.rename("/data/file.txt", {LONG!r} + "/" + {Q250!r})', (E, "ENAMETOOLONG")),
    Case("rename-dir-whose-child-would-exceed-511", 'os.rename("/data/long", "/data/" + "L" * 250)', (E, "ENAMETOOLONG")),
    Case("nul-in-open", 'open("/data/a\\0b", "w")', "ValueError"),
    Case("nul-in-mkdir", 'os.mkdir("/data/a\\0b")', "ValueError"),
    Case("nul-in-rename-target", 'os.rename("/data/file.txt", "/data/a\\0b")', "ValueError"),
    Case("nul-in-sqlite-path", 'sqlite3.connect("/data/a\\0b.db")', "ValueError"),
    Case("nul-in-pool-unlink", 'pool.unlink("a\\0b")', "ValueError", pool_only=True),
    Case("lone-surrogate-open", 'open("/data/\\ud800.txt", "w")', "UnicodeEncodeError"),
    Case("lone-surrogate-mkdir", 'os.mkdir("/data/x\\udbff")', "UnicodeEncodeError"),
    Case("lone-surrogate-rename", 'os.rename("/data/file.txt", "/data/\\ud801")', "UnicodeEncodeError"),
    Case("escaped-surrogate-open", 'open("/data/\\udc80.txt", "w")', (E, ("EILSEQ", "EINVAL"))),
    Case("dotdot-pool-unlink", 'pool.unlink("../etc/passwd")', "ValueError", pool_only=True),
    Case("dotdot-pool-export", 'pool.export_file("/data/../etc/passwd")', "ValueError", pool_only=True),
    Case("dotdot-import-db", 'await pool.import_db("../escaped.db", DB)', "ValueError", pool_only=True),
    Case("absolute-path-outside-mount-export", 'pool.export_file("/etc/passwd")', "ValueError", pool_only=True),
    Case("rename-out-of-the-mount", 'os.rename("/data/file.txt", "/tmp/file.txt")', (E, "EXDEV")),
    Case("rename-dir-into-itself", 'os.rename("/data/dir", "/data/dir/sub/inner")', (E, "EINVAL")),
    Case("rename-dir-into-its-child-name", 'os.rename("/data/dir", "/data/dir/new")', (E, "EINVAL")),
    Case("rmdir-the-mountpoint", 'os.rmdir("/data")', (E, "EBUSY")),
    Case("rename-the-mountpoint", 'os.rename("/data", "/data2")', (E, "EBUSY")),
    # --- kinds ---------------------------------------------------------------------------------
    Case("open-dir-for-writing", 'open("/data/dir", "w")', "IsADirectoryError"),
    Case("open-dir-for-append", 'open("/data/dir", "a")', "IsADirectoryError"),
    Case("os-open-dir-rdwr", 'os.open("/data/dir", os.O_RDWR)', "IsADirectoryError"),
    Case("read-a-dir-fd", 'fd = os.open("/data/dir", os.O_RDONLY)\ntry:\n    os.read(fd, 10)\nfinally:\n    os.close(fd)',
         "IsADirectoryError"),
    Case("file-used-as-dir", 'open("/data/file.txt/x", "w")', "NotADirectoryError"),
    Case("listdir-a-file", 'os.listdir("/data/file.txt")', "NotADirectoryError"),
    Case("unlink-a-dir", 'os.unlink("/data/dir")', "IsADirectoryError"),
    Case("rmdir-a-file", 'os.rmdir("/data/file.txt")', "NotADirectoryError"),
    Case("rmdir-non-empty", 'os.rmdir("/data/dir")', (E, "ENOTEMPTY")),
    Case("mkdir-existing", 'os.mkdir("/data/dir")', "FileExistsError"),
    Case("create-exclusive-existing", 'os.open("/data/file.txt", os.O_CREAT | os.O_EXCL | os.O_WRONLY)', "FileExistsError"),
    Case("open-missing", 'open("/data/missing.txt")', "FileNotFoundError"),
    Case("rename-missing", 'os.rename("/data/missing.txt", "/data/x.txt")', "FileNotFoundError"),
    Case("rename-file-over-dir", 'os.rename("/data/file.txt", "/data/dir")', "IsADirectoryError"),
    Case("rename-dir-over-file", 'os.rename("/data/dir", "/data/file.txt")', "NotADirectoryError"),
    Case("symlink", 'os.symlink("/data/file.txt", "/data/link")', "PermissionError"),
    Case("write-a-read-only-fd", 'fd = os.open("/data/file.txt", os.O_RDONLY)\ntry:\n    os.write(fd, b"x")\nfinally:\n    os.close(fd)',
         (E, "EBADF")),
    Case("read-a-write-only-fd", 'fd = os.open("/data/file.txt", os.O_WRONLY)\ntry:\n    os.read(fd, 1)\nfinally:\n    os.close(fd)',
         (E, "EBADF")),
    # --- seeks and truncates -----------------------------------------------------------------
    Case("lseek-negative", 'fd = os.open("/data/file.txt", os.O_RDONLY)\ntry:\n    os.lseek(fd, -1, os.SEEK_SET)\nfinally:\n    os.close(fd)',
         (E, "EINVAL")),
    Case("lseek-before-start-from-end", 'fd = os.open("/data/file.txt", os.O_RDONLY)\ntry:\n    os.lseek(fd, -100, os.SEEK_END)\nfinally:\n    os.close(fd)',
         (E, "EINVAL")),
    Case("fileobject-seek-negative", 'with open("/data/file.txt", "rb") as f:\n    f.seek(-1)', (E, "EINVAL")),
    Case("lseek-past-2-63", 'fd = os.open("/data/file.txt", os.O_RDONLY)\ntry:\n    os.lseek(fd, 2**63, os.SEEK_SET)\nfinally:\n    os.close(fd)',
         "OverflowError"),
    Case("write-at-2-62", 'fd = os.open("/data/file.txt", os.O_WRONLY)\ntry:\n    os.lseek(fd, 2**62, 0)\n    os.write(fd, b"x")\nfinally:\n    os.close(fd)',
         (E, ("EOVERFLOW", "EFBIG"))),
    Case("write-at-2-53", 'fd = os.open("/data/file.txt", os.O_WRONLY)\ntry:\n    os.lseek(fd, 2**53, 0)\n    os.write(fd, b"x")\nfinally:\n    os.close(fd)',
         (E, ("EFBIG", "EINVAL", "EOVERFLOW"))),
    Case("write-at-1-tib", 'fd = os.open("/data/file.txt", os.O_WRONLY)\ntry:\n    os.lseek(fd, 2**40, 0)\n    os.write(fd, b"x")\nfinally:\n    os.close(fd)',
         (E, ("ENOSPC", "EFBIG"))),
    Case("truncate-negative", 'os.truncate("/data/file.txt", -1)', (E, "EINVAL")),
    Case("ftruncate-negative", 'fd = os.open("/data/file.txt", os.O_WRONLY)\ntry:\n    os.ftruncate(fd, -1)\nfinally:\n    os.close(fd)',
         (E, "EINVAL")),
    Case("truncate-2-62", 'os.truncate("/data/file.txt", 2**62)', (E, ("EOVERFLOW", "EFBIG"))),
    Case("truncate-1-tib", 'os.truncate("/data/file.txt", 2**40)', (E, ("ENOSPC", "EFBIG"))),
    Case("ftruncate-1-pib", 'fd = os.open("/data/file.txt", os.O_WRONLY)\ntry:\n    os.ftruncate(fd, 2**50)\nfinally:\n    os.close(fd)',
         (E, ("ENOSPC", "EFBIG"))),
    # --- import_db ----------------------------------------------------------------------------
    Case("import-not-sqlite", 'await pool.import_db("new.db", b"hello world" * 100)', "InvalidDatabaseError", pool_only=True),
    Case("import-empty", 'await pool.import_db("new.db", b"")', "InvalidDatabaseError", pool_only=True),
    Case("import-cut-inside-header", 'await pool.import_db("new.db", DB[:60])', "InvalidDatabaseError", pool_only=True),
    Case("import-cut-inside-a-page", 'await pool.import_db("new.db", DB[:len(DB) - 100])', "InvalidDatabaseError", pool_only=True),
    Case("import-missing-last-page", 'await pool.import_db("new.db", DB[:len(DB) - 4096])', "InvalidDatabaseError", pool_only=True),
    Case("import-bad-page-size", 'await pool.import_db("new.db", DB[:16] + (1000).to_bytes(2, "big") + DB[18:])',
         "InvalidDatabaseError", pool_only=True),
    Case("import-junk-over-existing-db", 'await pool.import_db("app.db", b"\\0" * 8192)', "InvalidDatabaseError", pool_only=True),
    Case("import-junk-chunks", 'async def chunks():\n    yield DB[:4096]\n    yield b"x" * 10\nawait pool.import_db("new.db", chunks())',
         "InvalidDatabaseError", pool_only=True, raw=False),
    Case("import-non-bytes-chunk", 'async def chunks():\n    yield DB[:4096]\n    yield "text"\nawait pool.import_db("new.db", chunks())',
         "TypeError", pool_only=True, raw=False),
    Case("import-str-data", 'await pool.import_db("new.db", "not bytes")', "TypeError", pool_only=True),
    Case("import-non-str-path", 'await pool.import_db(123, DB)', "TypeError", pool_only=True),
    # --- options --------------------------------------------------------------------------------
    Case("option-capacity-str", 'await INSTALL("/m2", capacity="3")', "ConfigurationError", pool_only=True),
    Case("option-capacity-zero", 'await INSTALL("/m2", capacity=0)', "ConfigurationError", pool_only=True),
    Case("option-capacity-negative", 'await INSTALL("/m2", capacity=-1)', "ConfigurationError", pool_only=True),
    Case("option-capacity-bool", 'await INSTALL("/m2", capacity=True)', "ConfigurationError", pool_only=True),
    Case("option-capacity-huge", 'await INSTALL("/m2", capacity=10**9)', "ConfigurationError", pool_only=True),
    Case("option-spare-slots-negative", 'await INSTALL("/m2", spare_slots=-1)', "ConfigurationError", pool_only=True),
    Case("option-clear-on-init-int", 'await INSTALL("/m2", clear_on_init=1)', "ConfigurationError", pool_only=True),
    Case("option-directory-dotdot", 'await INSTALL("/m2", directory="../escape", clear_on_init=True)', "ConfigurationError",
         pool_only=True),
    Case("option-directory-empty", 'await INSTALL("/m2", directory="")', "ConfigurationError", pool_only=True),
    Case("option-directory-double-slash", 'await INSTALL("/m2", directory="a//b")', "ConfigurationError", pool_only=True),
    Case("option-directory-int", 'await INSTALL("/m2", directory=5)', "ConfigurationError", pool_only=True),
    Case("option-busy-timeout-negative", 'await INSTALL("/m2", busy_timeout=-1)', "ConfigurationError"),
    Case("option-busy-timeout-nan", 'await INSTALL("/m2", busy_timeout=float("nan"))', "ConfigurationError"),
    Case("option-busy-timeout-str", 'await INSTALL("/m2", busy_timeout="5")', "ConfigurationError"),
    Case("option-log-level-unknown", 'await INSTALL("/m2", log_level="LOUD")', "ConfigurationError"),
    Case("option-unknown-name", 'await INSTALL("/m2", capacty=3)', "ConfigurationError"),
    Case("mountpoint-relative", 'await INSTALL("data2")', "MountError"),
    Case("mountpoint-root", 'await INSTALL("/")', "MountError"),
    Case("mountpoint-dotdot", 'await INSTALL("/data/../m3")', "MountError"),
    Case("mountpoint-already-mounted", 'await INSTALL("/data")', "MountError"),
    Case("mountpoint-not-empty", 'await INSTALL("/not-empty")', "MountError"),
    Case("connect-bad-journal-mode", 'pyodide_opfs.connect("/data/new.db", journal_mode="wall")', "ConfigurationError"),
    Case("connect-bad-page-size", 'pyodide_opfs.connect("/data/new.db", page_size=1000)', "ConfigurationError"),
    Case("connect-bad-synchronous", 'pyodide_opfs.connect("/data/new.db", synchronous=2)', "ConfigurationError"),
    # --- pool API arguments -----------------------------------------------------------------------
    Case("add-capacity-negative", 'await pool.add_capacity(-1)', "ValueError", pool_only=True),
    Case("add-capacity-str", 'await pool.add_capacity("2")', "ValueError", pool_only=True),
    Case("reduce-capacity-float", 'await pool.reduce_capacity(1.5)', "ValueError", pool_only=True),
    Case("forget-unknown-quarantined", 'await pool.forget_quarantined("no-such-file")', "KeyError", pool_only=True),
    Case("pool-unlink-non-str", 'pool.unlink(123)', "TypeError", pool_only=True),
    Case("pool-unlink-missing", 'pool.unlink("missing.txt")', "FileNotFoundError", pool_only=True),
    Case("pool-export-a-dir", 'pool.export_file("dir")', "IsADirectoryError", pool_only=True),
    Case("pool-full", 'open("/tiny/third.txt", "w")', (E, "ENOSPC"), pool_only=True),
    Case("pause-with-an-open-file", 'f = open("/data/file.txt")\ntry:\n    pool.pause()\nfinally:\n    f.close()',
         "OpfsError", pool_only=True),
    # --- unmounted pools ------------------------------------------------------------------------
    Case("unmount-twice", 'await other.unmount()\nawait other.unmount()', "no error"),
    Case("after-unmount-file-names", 'other.file_names()', "PoolClosedError", pool_only=True),
    Case("after-unmount-export", 'other.export_file("kept.txt")', "PoolClosedError", pool_only=True),
    Case("after-unmount-import", 'await other.import_db("x.db", DB)', "PoolClosedError", pool_only=True),
    Case("after-unmount-unlink", 'other.unlink("kept.txt")', "PoolClosedError", pool_only=True),
    Case("after-unmount-wipe", 'other.wipe_files()', "PoolClosedError", pool_only=True),
    Case("after-unmount-pause", 'other.pause()', "PoolClosedError", pool_only=True),
    Case("after-unmount-unpause", 'await other.unpause()', "PoolClosedError", pool_only=True),
    Case("after-unmount-add-capacity", 'await other.add_capacity(2)', "PoolClosedError", pool_only=True),
    Case("after-unmount-reserve-capacity", 'await other.reserve_minimum_capacity(50)', "PoolClosedError", pool_only=True),
    Case("after-unmount-reduce-capacity", 'await other.reduce_capacity(1)', "PoolClosedError", pool_only=True),
    Case("after-unmount-quarantined", 'other.quarantined', "PoolClosedError", pool_only=True),
    Case("after-unmount-forget", 'await other.forget_quarantined("x")', "PoolClosedError", pool_only=True),
    Case("after-unmount-io-stats", 'other.io_stats()', "PoolClosedError", pool_only=True),
]

KNOWN_LIMITS = {
    "escaped-surrogate-open": (
        "U+DC80-U+DCFF reach the filesystem as Python's surrogateescape bytes (invalid UTF-8), "
        "which Emscripten's syscall layer decodes lossily before any filesystem sees the name "
        "(MEMFS too): the file is created under a mangled name. See docs/reliability.md."
    ),
}

SETUP = """
import errno, os, sqlite3, textwrap, pyodide_opfs
{mount}
os.makedirs("/data/dir/sub")
os.makedirs({long!r})
with open("/data/file.txt", "w") as f:
    f.write("hello")
with open("/data/dir/sub/deep.bin", "wb") as f:
    f.write(bytes(range(256)) * 64)
con = pyodide_opfs.connect("/data/app.db")
con.execute("create table t(x)")
con.executemany("insert into t values (?)", [(i,) for i in range(300)])
con.commit()
con.close()
src = sqlite3.connect("/tmp/source.db")
src.execute("create table s(x)")
src.executemany("insert into s values (randomblob(500))", [()] * 100)
src.commit()
src.close()
DB = open("/tmp/source.db", "rb").read()
os.makedirs("/not-empty/sub")
INSTALL = {install}
{other}
async def run_case(code):
    before = [await opfs_snapshot(), tree("/data")]
    ns = dict(globals())
    exec(compile("async def __case():\\n" + textwrap.indent(code, "    ") + "\\n", "<case>", "exec"), ns)
    try:
        await ns["__case"]()
        outcome = ["no error", None, ""]
    except BaseException as e:
        outcome = [type(e).__name__, errno.errorcode.get(getattr(e, "errno", None) or -1), str(e)[:300]]
    after = [await opfs_snapshot(), tree("/data")]
    b, a = before[0]["files"], after[0]["files"]
    names = sorted(set(b) ^ set(a)) + sorted(set(before[0]["dirs"]) ^ set(after[0]["dirs"]))
    names += ["tree:" + k for k in sorted(set(before[1]) | set(after[1])) if before[1].get(k) != after[1].get(k)]
    rewritten = sorted(k for k in set(b) & set(a) if b[k] != a[k])
    return {{"outcome": outcome, "changed": names, "rewritten": rewritten}}
len(DB)
"""

OTHER_POOLS = """
other = await pyodide_opfs.mount_sahpool("/other", directory="other-pool", capacity=4)
open("/other/kept.txt", "w").write("kept")
await other.unmount()
tiny = await pyodide_opfs.mount_sahpool("/tiny", directory="tiny-pool", capacity=2, spare_slots=0)
for name in ("one.txt", "two.txt"):
    open("/tiny/" + name, "w").write(name)
"""

OTHER_PROXY = """
other = await pyodide_opfs.mount_proxy("/other", root="other-root")
open("/other/kept.txt", "w").write("kept")
await other.unmount()
"""


@pytest.fixture(scope="module", params=selected())
def bad_input(request: pytest.FixtureRequest, browser_type: Any, server: Any, wheel_url: str,
              tmp_path_factory: pytest.TempPathFactory, _browser_setup_ok: None) -> Iterator[dict[str, Any]]:
    backend = str(request.param)
    if backend == "memfs":
        pytest.skip("memfs: not a storage backend (it is the control for the persistence suites)")
    session = BrowserSession(browser_type, server.url, wheel_url)
    session.open(tmp_path_factory.mktemp(f"bad-input-{backend}"))
    install = "pyodide_opfs.mount_sahpool" if backend == "sahpool" else f"pyodide_opfs.mount_{backend}"
    other = OTHER_POOLS if backend == "sahpool" else OTHER_PROXY if backend == "proxy" else ""
    setup = SETUP.format(mount=mount_code(backend, capacity=24), long=LONG, install=install, other=other)
    session.run(OPFS_SNAPSHOT + TREE + setup, keep=True, timeout=120)
    yield {"backend": backend, "session": session}
    session.close()


def test_enough_cases() -> None:
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(case: Case, bad_input: dict[str, Any],
                                                  request: pytest.FixtureRequest) -> None:
    backend = bad_input["backend"]
    if case.pool_only and backend != "sahpool":
        pytest.skip(f"{backend}: the case uses the SAH pool API or a pool limit")
    if case.id in KNOWN_LIMITS:
        request.applymarker(pytest.mark.xfail(reason=KNOWN_LIMITS[case.id], strict=True))
    session: BrowserSession = bad_input["session"]
    result = session.run(f"await run_case({case.code!r})", keep=True, timeout=60)
    kind, errno_name, message = result["outcome"]
    expected_type, expected_errno = (case.expected, None) if isinstance(case.expected, str) else case.expected
    detail = json.dumps(result["outcome"])
    assert kind == expected_type, detail
    if expected_errno is not None:
        allowed = (expected_errno,) if isinstance(expected_errno, str) else expected_errno
        assert errno_name in allowed, detail
    assert result["changed"] == [], f"storage changed: {result['changed']} ({detail})"
    if case.raw:
        assert result["rewritten"] == [], f"file bytes changed: {result['rewritten']} ({detail})"
