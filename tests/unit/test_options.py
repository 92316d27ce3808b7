"""Option parsing and validation (pyodide_opfs/options.py)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pyodide_opfs.errors import ConfigurationError, OpfsError
from pyodide_opfs.options import PoolConfig, parse_pool_options

VALID = ["busy_timeout", "capacity", "clear_on_init", "directory", "log_level", "spare_slots"]


def test_defaults() -> None:
    cfg = parse_pool_options({})
    assert cfg == PoolConfig()
    assert cfg.directory == ".opfs-sahpool"
    assert cfg.capacity == 6
    assert cfg.clear_on_init is False
    assert cfg.spare_slots == 2
    assert cfg.busy_timeout == 5.0
    assert cfg.log_level is None


def test_all_options_accepted() -> None:
    cfg = parse_pool_options(
        {"directory": "app/pool", "capacity": 10, "clear_on_init": True, "spare_slots": 0, "busy_timeout": 0.5, "log_level": "debug"}
    )
    assert cfg == PoolConfig("app/pool", 10, True, 0, 0.5, "debug")


def test_config_is_frozen() -> None:
    with pytest.raises(Exception):
        PoolConfig().capacity = 3  # type: ignore[misc]


def test_configuration_error_is_value_error_and_opfs_error() -> None:
    assert issubclass(ConfigurationError, ValueError)
    assert issubclass(ConfigurationError, OpfsError)


@pytest.mark.parametrize("unknown", [{"capcity": 5}, {"dir": "x", "Capacity": 1}])
def test_unknown_options_list_valid_names(unknown: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as exc:
        parse_pool_options({**unknown, "capacity": 3})
    msg = str(exc.value)
    for name in unknown:
        assert repr(name) in msg
    for name in VALID:
        assert name in msg
    assert "valid options: " + ", ".join(VALID) in msg


BAD: list[tuple[str, Any, str]] = [
    ("capacity", "6", "must be an int, not str"),
    ("capacity", 6.0, "must be an int, not float"),
    ("capacity", True, "must be an int, not bool"),
    ("capacity", None, "must be an int, not NoneType"),
    ("capacity", 0, "between 1 and 100000, got 0"),
    ("capacity", -1, "between 1 and 100000"),
    ("capacity", 100_001, "between 1 and 100000, got 100001"),
    ("spare_slots", "2", "must be an int"),
    ("spare_slots", False, "must be an int, not bool"),
    ("spare_slots", -1, "between 0 and 10000, got -1"),
    ("spare_slots", 10_001, "between 0 and 10000"),
    ("busy_timeout", "5", "must be a number of seconds, not str"),
    ("busy_timeout", True, "not bool"),
    ("busy_timeout", None, "not NoneType"),
    ("busy_timeout", -0.1, "between 0.0 and 600.0 seconds, got -0.1"),
    ("busy_timeout", 600.5, "between 0.0 and 600.0 seconds"),
    ("busy_timeout", math.nan, "between 0.0 and 600.0 seconds, got nan"),
    ("busy_timeout", math.inf, "between 0.0 and 600.0 seconds, got inf"),
    ("clear_on_init", 1, "must be a bool, not int"),
    ("clear_on_init", "yes", "must be a bool, not str"),
    ("clear_on_init", None, "must be a bool, not NoneType"),
    ("log_level", "loud", "names no logging level: 'loud'"),
    ("log_level", 1.5, "must be a logging level or its name, not float"),
    ("log_level", True, "not bool"),
    ("directory", 5, "must be a str, not int"),
    ("directory", None, "must be a str, not NoneType"),
]


@pytest.mark.parametrize("name,value,fragment", BAD, ids=[f"{n}={v!r}" for n, v, _ in BAD])
def test_bad_values_name_the_option(name: str, value: Any, fragment: str) -> None:
    with pytest.raises(ConfigurationError) as exc:
        parse_pool_options({name: value})
    msg = str(exc.value)
    assert f"'{name}'" in msg
    assert fragment in msg


@pytest.mark.parametrize(
    "directory", ["", "/abs", "a//b", "a/", "./a", "a/./b", "..", "a/../b", "a\\b", "a\0b", "/"]
)
def test_bad_directories(directory: str) -> None:
    with pytest.raises(ConfigurationError) as exc:
        parse_pool_options({"directory": directory})
    assert "'directory'" in str(exc.value)
    assert repr(directory) in str(exc.value)


GOOD: list[tuple[str, Any]] = [
    ("capacity", 1),
    ("capacity", 100_000),
    ("spare_slots", 0),
    ("spare_slots", 10_000),
    ("busy_timeout", 0),
    ("busy_timeout", 0.0),
    ("busy_timeout", 600),
    ("busy_timeout", 2.5),
    ("clear_on_init", False),
    ("log_level", None),
    ("log_level", 10),
    ("log_level", "info"),
    ("log_level", "WARNING"),
    ("log_level", "Error"),
    ("directory", ".opfs-sahpool"),
    ("directory", "app/pool"),
    ("directory", "a b/ü-ñ"),
]


@pytest.mark.parametrize("name,value", GOOD, ids=[f"{n}={v!r}" for n, v in GOOD])
def test_good_values(name: str, value: Any) -> None:
    cfg = parse_pool_options({name: value})
    assert getattr(cfg, name) == value
