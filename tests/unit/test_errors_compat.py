"""Error messages (pyodide_opfs/errors.py) and the Pyodide version gate (pyodide_opfs/compat.py)."""

from __future__ import annotations

import pytest

from pyodide_opfs import errors
from pyodide_opfs.compat import NEWEST_TESTED, OLDEST_SUPPORTED, check_pyodide_version
from pyodide_opfs.errors import (
    ConfigurationError,
    InvalidDatabaseError,
    MountError,
    OpfsError,
    PoolBusyError,
    PoolClosedError,
    UnsupportedEnvironmentError,
)


def test_hierarchy() -> None:
    for cls in (UnsupportedEnvironmentError, ConfigurationError, MountError, PoolBusyError, PoolClosedError, InvalidDatabaseError):
        assert issubclass(cls, OpfsError)
    assert set(errors.__all__) == {
        "OpfsError", "UnsupportedEnvironmentError", "ConfigurationError", "MountError",
        "PoolBusyError", "PoolClosedError", "InvalidDatabaseError",
    }


def test_pool_busy_error_names_the_directory() -> None:
    e = PoolBusyError("app/pool", 5.0)
    assert e.directory == "app/pool"
    assert e.waited == 5.0
    msg = str(e)
    assert "'app/pool'" in msg
    assert "waited 5.0 s" in msg
    assert "another tab or worker" in msg
    assert "pause()" in msg
    assert not msg.endswith(")")


def test_pool_busy_error_detail() -> None:
    msg = str(PoolBusyError(".opfs-sahpool", 2.04, "NoModificationAllowedError"))
    assert "'.opfs-sahpool'" in msg
    assert "waited 2.0 s" in msg
    assert msg.endswith("(NoModificationAllowedError)")


def test_pool_busy_error_is_raisable_and_catchable() -> None:
    with pytest.raises(OpfsError, match="'x'"):
        raise PoolBusyError("x", 0.0)


def test_version_range_constants() -> None:
    assert OLDEST_SUPPORTED == (0, 27)
    assert NEWEST_TESTED == (314, 0)


@pytest.mark.parametrize("version", [(0, 27), (0, 28), (0, 29), (314, 0), (315, 2)])
def test_supported_versions(version: tuple[int, int]) -> None:
    assert check_pyodide_version(version) == version


@pytest.mark.parametrize("version", [(0, 26), (0, 25), (0, 0)])
def test_unsupported_versions(version: tuple[int, int]) -> None:
    with pytest.raises(UnsupportedEnvironmentError) as exc:
        check_pyodide_version(version)
    msg = str(exc.value)
    assert f"Pyodide {version[0]}.{version[1]} is not supported" in msg
    assert "0.27" in msg and "314" in msg
