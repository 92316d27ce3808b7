"""Host-side development tools for pyodide-opfs (dev server, wheel builder, CLI).

These run on the host's CPython (3.11+), never inside Pyodide.
"""
