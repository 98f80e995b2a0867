"""uvicorn's httptools protocol with a bound on the request head, guarded at start-up.

uvicorn sets no limit on a head read with httptools (``h11_max_incomplete_event_size``
applies to h11 only): the parser keeps every byte of a header that never ends, so one
connection's endless head grows the server's memory without bound (docs/adr/0016). The
subclass counts what it feeds the parser while a head is open and, past
``MAX_HEAD_BYTES``, answers 431 (a problem document) and closes the connection; a head
that ends in time reaches the app, whose ``HeadGuard`` answers the same 431 for one over
the limit. What a connection can hold is the limit plus one read.

The subclass leans on uvicorn internals: the module ``uvicorn.protocols.http.httptools_impl``
and its protocol's parser callbacks (docs/adr/0016). ``head_bounded_http_options`` checks
their shape when the server starts; when they have changed it logs why and falls back to
uvicorn's public path, the h11 protocol with its own head bound (slower, as bounded).
"""

from __future__ import annotations

import functools
import inspect
import secrets
from typing import Any

import structlog

from dawai.adapters.http.head_guard import HEAD_TOO_LARGE, MAX_HEAD_BYTES, head_too_large_detail
from dawai.adapters.http.problems import problem_message
from dawai.adapters.http.security_headers import SECURITY_HEADERS

__all__ = ["bounded_httptools_protocol", "head_bounded_http_options", "httptools_shape_problem"]

log = structlog.get_logger("dawai.server")
# The callbacks the subclass overrides, with the parameters it calls them with.
_OVERRIDDEN = {
    "on_message_begin": ["self"],
    "on_headers_complete": ["self"],
    "data_received": ["self", "data"],
}


def httptools_shape_problem() -> str | None:
    """Why uvicorn's httptools protocol no longer has the shape the subclass relies on,
    or ``None`` when it has."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError as exc:
        return f"uvicorn's httptools protocol cannot be imported ({exc})"
    for name, params in _OVERRIDDEN.items():
        method = getattr(HttpToolsProtocol, name, None)
        if not callable(method):
            return f"HttpToolsProtocol.{name} is gone"
        if list(inspect.signature(method).parameters) != params:
            return f"HttpToolsProtocol.{name} takes other arguments now"
    return None


@functools.cache
def bounded_httptools_protocol() -> type:
    """The subclass (built on first use, so a changed uvicorn fails the check, not an import)."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHeadHttpToolsProtocol(HttpToolsProtocol):
        max_head_bytes = MAX_HEAD_BYTES

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._head_open = False
            self._head_bytes = 0

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_open = True
            self._head_bytes = 0

        def on_headers_complete(self) -> None:
            self._head_open = False
            super().on_headers_complete()

        def data_received(self, data: bytes) -> None:
            open_before = self._head_open
            super().data_received(data)
            if not (open_before and self._head_open):
                return  # a head began or ended in this read: counted from the next read on
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
                self._send_431()

        def _send_431(self) -> None:
            detail = head_too_large_detail(self.max_head_bytes)
            request_id = secrets.token_hex(16)
            extra = ((b"x-request-id", request_id.encode()), (b"connection", b"close"), *SECURITY_HEADERS)
            fields, body = problem_message(431, HEAD_TOO_LARGE, detail, request_id, extra)
            head = b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            head += b"".join(name + b": " + value + b"\r\n" for name, value in fields)
            self.transport.write(head + b"\r\n" + body)
            self.transport.close()

    return BoundedHeadHttpToolsProtocol


PROTOCOL_PATH = f"{__name__}:BoundedHeadHttpToolsProtocol"


def __getattr__(name: str) -> Any:
    if name == "BoundedHeadHttpToolsProtocol":
        return bounded_httptools_protocol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def head_bounded_http_options() -> dict[str, Any]:
    """uvicorn options that bound a request head at the socket: the httptools subclass
    while uvicorn has the shape it relies on, else uvicorn's h11 protocol and its public
    ``h11_max_incomplete_event_size``."""
    problem = httptools_shape_problem()
    if problem is None:
        # By import path, not the class: uvicorn pickles its config into each spawned worker
        # (--workers), and a class made in a function cannot be pickled; the path resolves
        # there through this module's __getattr__.
        return {"http": PROTOCOL_PATH}
    log.warning("http_protocol_fallback", reason=problem, protocol="h11")
    return {"http": "h11", "h11_max_incomplete_event_size": MAX_HEAD_BYTES}
