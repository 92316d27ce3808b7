"""mount_proxy's options and root: validated on the host (no browser needed)."""

from __future__ import annotations

import math

import pytest

from pyodide_opfs.errors import ConfigurationError
from pyodide_opfs.options import ProxyConfig, check_root, parse_proxy_options


def test_defaults() -> None:
    config = parse_proxy_options({})
    assert config == ProxyConfig()
    assert config.timeout > config.busy_timeout > 0
    assert 0 <= config.release_delay < 1 and config.buffer_size == 1 << 20


def test_valid_values() -> None:
    config = parse_proxy_options({"busy_timeout": 0, "timeout": 0.5, "release_delay": 0, "buffer_size": 65536,
                                  "log_level": "debug"})
    assert (config.busy_timeout, config.timeout, config.release_delay, config.buffer_size) == (0, 0.5, 0, 65536)


@pytest.mark.parametrize("options, needle", [
    ({"capacity": 4}, "unknown option(s) 'capacity'"),
    ({"timeout": "1"}, "'timeout' must be a number"),
    ({"timeout": math.nan}, "'timeout' must be between"),
    ({"release_delay": -1}, "'release_delay' must be between"),
    ({"buffer_size": 1000}, "'buffer_size' must be between"),
    ({"buffer_size": 2.0**20}, "'buffer_size' must be an int"),
    ({"busy_timeout": True}, "'busy_timeout' must be a number"),
    ({"timeout": 2, "busy_timeout": 2}, "'timeout' (2 s) must exceed 'busy_timeout' (2 s)"),
    ({"log_level": "loud"}, "names no logging level"),
])
def test_invalid_values_name_the_option(options: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_proxy_options(options)
    assert needle in str(info.value)


@pytest.mark.parametrize("root", ["", "app", "app/data", ".hidden", "ü ✓"])
def test_valid_roots(root: str) -> None:
    assert check_root(root) == root


@pytest.mark.parametrize("root", ["/app", "app/", "a//b", "a/./b", "..", "a\\b", "a\0b", 3, None])
def test_invalid_roots(root: object) -> None:
    with pytest.raises(ConfigurationError, match="root must be"):
        check_root(root)
