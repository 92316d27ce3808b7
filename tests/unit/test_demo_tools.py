"""Host-side parts of `pyodide-opfs demo` and of the app's wheel manifest (no browser)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyodide_opfs.tools import demo, paths, webapp


def test_report_counts_what_survived(capsys: pytest.CaptureFixture[str]) -> None:
    expected = demo._expected(10)
    assert demo._report("same", expected, json.loads(json.dumps(expected))) is True
    damaged = json.loads(json.dumps(expected))
    del damaged["files"]["blob.bin"]
    damaged["files"]["notes.txt"]["sha256"] = "0" * 64
    damaged["dbs"]["demo.db"]["rows"] = 9
    assert demo._report("damaged", expected, damaged) is False
    out = capsys.readouterr().out
    assert "same: 4/4 survived" in out
    assert "damaged: 1/4 survived" in out
    assert "✗ blob.bin" in out and "missing" in out and "DIFFERS" in out


def test_manifest_names_the_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "WHEELS_DIR", tmp_path)
    wheel = tmp_path / "pyodide_opfs-1.2.3-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    target = webapp.write_manifest(wheel)
    assert target == tmp_path / "latest.json"
    data = json.loads(target.read_text())
    assert data["wheel"] == "/wheels/pyodide_opfs-1.2.3-py3-none-any.whl"
    assert data["version"] == "1.2.3"
    assert not list(tmp_path.glob(".latest-*"))


def test_manifest_refuses_a_wheel_outside_the_served_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "WHEELS_DIR", tmp_path / "wheels")
    with pytest.raises(ValueError, match="does not serve it"):
        webapp.write_manifest(tmp_path / "pyodide_opfs-1.0-py3-none-any.whl")
