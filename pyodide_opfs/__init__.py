"""pyodide_opfs: durable files for Python in Pyodide, on the browser's Origin Private File System.

Inside a dedicated (module) Web Worker::

    import pyodide_opfs
    pool = await pyodide_opfs.mount_sahpool("/data")
    with open("/data/notes.txt", "w") as f:   # persists on every write/close/fsync
        f.write("hello")
    con = pyodide_opfs.connect("/data/app.db")  # stdlib sqlite3, durable at COMMIT
"""

from __future__ import annotations

from .errors import (
    ConfigurationError,
    InvalidDatabaseError,
    MountError,
    OpfsError,
    PoolBusyError,
    PoolClosedError,
    UnsupportedEnvironmentError,
)
from .options import PoolConfig, ProxyConfig, ProxyOptions, SAHPoolOptions
from .proxy import ProxyMount, mount_proxy
from .sahpool import SAHPool, mount_sahpool
from .sqlite import connect

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "mount_sahpool",
    "SAHPool",
    "SAHPoolOptions",
    "PoolConfig",
    "mount_proxy",
    "ProxyMount",
    "ProxyOptions",
    "ProxyConfig",
    "connect",
    "OpfsError",
    "UnsupportedEnvironmentError",
    "ConfigurationError",
    "MountError",
    "PoolBusyError",
    "PoolClosedError",
    "InvalidDatabaseError",
]
