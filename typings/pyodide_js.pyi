# Stub of Pyodide's `pyodide_js` module (the Pyodide JS API object) for host-side type checking.
from typing import Any

def __getattr__(name: str) -> Any: ...
