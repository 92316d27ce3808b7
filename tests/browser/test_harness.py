"""The test harness itself: Pyodide boots in a cross-origin-isolated module worker, our wheel
installs, Python errors surface with their traceback, and the on-disk profile keeps OPFS."""

from __future__ import annotations

import pytest

from harness import BrowserSession, PythonError


def test_boots_python_314(shared_session: BrowserSession) -> None:
    assert shared_session.boot_info["version"] == "314.0.7"
    assert shared_session.run("import sys; sys.version_info[:2]") == [3, 14]


def test_worker_is_cross_origin_isolated_and_secure(shared_session: BrowserSession) -> None:
    assert shared_session.run("import js; [js.crossOriginIsolated, js.isSecureContext]") == [True, True]
    # a dedicated worker: no document, and the harness added nothing to its global scope
    assert shared_session.run("import js; [hasattr(js, 'document'), hasattr(js, 'pyodide')]") == [False, False]


def test_python_exception_surfaces_with_traceback(shared_session: BrowserSession) -> None:
    code = """
        def inner():
            raise ValueError("boom from python")
        print("before the error")
        inner()
    """
    with pytest.raises(PythonError) as info:
        shared_session.run(code)
    err = info.value
    assert err.error_type == "ValueError"
    assert "Traceback (most recent call last)" in err.traceback
    assert "in inner" in err.traceback
    assert "ValueError: boom from python" in str(err)
    assert err.stdout == "before the error"
    # the worker is still usable afterwards
    assert shared_session.run("1 + 1") == 2


def test_namespaces_stdout_and_json_values(shared_session: BrowserSession) -> None:
    reply = shared_session.run_raw("print('hello'); {'a': [1, 2.5, None, True], 'b': 'x'}")
    assert reply["ok"] and reply["stdout"] == "hello"
    assert reply["value"] == {"a": [1, 2.5, None, True], "b": "x"}
    assert shared_session.run("None") is None
    assert shared_session.run("await __import__('asyncio').sleep(0, result=7)") == 7
    # fresh namespace per run unless keep=True
    shared_session.run("counter = 41", keep=True)
    assert shared_session.run("counter += 1; counter", keep=True) == 42
    with pytest.raises(PythonError, match="NameError"):
        shared_session.run("counter")
    with pytest.raises(PythonError, match="not JSON-serializable"):
        shared_session.run("object()")


def test_pyodide_opfs_installed_from_wheel(shared_session: BrowserSession) -> None:
    assert shared_session.run("import pyodide_opfs; pyodide_opfs.__name__") == "pyodide_opfs"
    dist = shared_session.run("import importlib.metadata as m; m.version('pyodide-opfs')")
    assert dist == "0.1.0"


def test_profile_keeps_opfs_across_reload_and_restart(browser_session: BrowserSession) -> None:
    write = """
        import js
        root = await js.navigator.storage.getDirectory()
        fh = await root.getFileHandle("harness-probe.txt", create=True)
        w = await fh.createWritable()
        await w.write("persisted")
        await w.close()
        True
    """
    read = """
        import js
        root = await js.navigator.storage.getDirectory()
        try:
            fh = await root.getFileHandle("harness-probe.txt")
            result = await (await fh.getFile()).text()
        except Exception as e:
            result = repr(e)
        result
    """
    assert browser_session.run(write) is True
    browser_session.reload()
    assert browser_session.run(read) == "persisted"
    browser_session.restart()
    assert browser_session.run(read) == "persisted"
