from typing import Any, Callable

class JsProxy:
    def __getattr__(self, name: str) -> Any: ...

class JsException(Exception):
    name: str

def to_js(obj: Any, *, depth: int = ..., dict_converter: Callable[..., Any] | None = ..., **kwargs: Any) -> Any: ...
def create_proxy(obj: Any, **kwargs: Any) -> Any: ...
