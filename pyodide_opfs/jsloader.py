"""Loads the JS modules shipped in ``pyodide_opfs/js`` into the worker.

Package data lives in Pyodide's in-memory filesystem, not at a URL, so each module becomes a
``blob:`` URL; its relative imports (``from "./x.mjs"``) are rewritten to the blob URLs of their
targets first. URLs are made once per worker and reused (also by the proxy worker).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from .compat import run_js

__all__ = ["module_url", "import_module"]

_RELATIVE_IMPORT = re.compile(r"""(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])\./([\w.-]+\.mjs)\2""")
_urls: dict[str, str] = {}
_modules: dict[str, Any] = {}


def _source(name: str) -> str:
    return (resources.files(__package__) / "js" / name).read_text(encoding="utf-8")


def module_url(name: str, _stack: tuple[str, ...] = ()) -> str:
    """A blob: URL for the module ``js/<name>`` with its imports resolved."""
    if name in _urls:
        return _urls[name]
    if name in _stack:
        raise ImportError(f"import cycle in pyodide_opfs JS modules: {' -> '.join(_stack + (name,))}")

    def resolve(match: re.Match[str]) -> str:
        return f"{match.group(1)}{match.group(2)}{module_url(match.group(3), _stack + (name,))}{match.group(2)}"

    source = _RELATIVE_IMPORT.sub(resolve, _source(name))
    make_url = run_js("(text) => URL.createObjectURL(new Blob([text], {type: 'text/javascript'}))")
    _urls[name] = str(make_url(source))
    return _urls[name]


async def import_module(name: str) -> Any:
    """Import ``js/<name>`` and return its module namespace (a JsProxy)."""
    if name not in _modules:
        dynamic_import = run_js("(url) => import(url)")
        _modules[name] = await dynamic_import(module_url(name))
    return _modules[name]
