"""The package logger: ``logging.getLogger("pyodide_opfs")``."""

from __future__ import annotations

import logging

logger = logging.getLogger("pyodide_opfs")


def set_level(level: int | str | None) -> None:
    """Apply the ``log_level`` option (None leaves the logger as the application set it)."""
    if level is not None:
        logger.setLevel(level.upper() if isinstance(level, str) else level)
