# Stub of Pyodide's `js` module (the worker's global scope) for host-side type checking.
from typing import Any

def __getattr__(name: str) -> Any: ...
