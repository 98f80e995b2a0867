"""Checks on the request head, before anything else reads it, on every path.

- A head (request line and header fields) over ``MAX_HEAD_BYTES`` is a 431 problem.
  ``dawai serve`` also stops reading such a head at the socket
  (``dawai.bootstrap.http_protocol``); this check gives the same answer under any server.
- A ``Host`` this server does not answer to (``http.allowed_hosts``), several ``Host``
  headers, or none, is a 400 problem (``dawai.adapters.http.hosts``).
- ``HEAD`` is served as ``GET`` without the body, so every ``GET`` route answers it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dawai.adapters.http.hosts import HostMatcher
from dawai.adapters.http.problems import HEAD_AS_GET, send_problem

__all__ = ["HEAD_TOO_LARGE", "MAX_HEAD_BYTES", "HeadGuard", "head_size", "head_too_large_detail"]

MAX_HEAD_BYTES = 16 * 1024
HEAD_TOO_LARGE = "Request header fields too large"  # the 431's title, here and at the socket
_REQUEST_LINE_EXTRA = len(b"  HTTP/1.1\r\n") + len(b"?") + len(b"\r\n")


def head_too_large_detail(limit: int) -> str:
    return f"The request head is larger than this server accepts ({limit} bytes)."


def head_size(scope: Any) -> int:
    """The request head's size as sent, near enough: request line, ``name: value\\r\\n``
    per header field and the blank line (servers drop whitespace around values)."""
    size = _REQUEST_LINE_EXTRA + len(scope.get("method", "")) + len(scope.get("raw_path") or b"")
    size += len(scope.get("query_string", b""))
    for name, value in scope["headers"]:
        size += len(name) + len(value) + 4
    return size


class HeadGuard:
    def __init__(
        self, app: Any, *, allowed_hosts: Iterable[str], max_head_bytes: int = MAX_HEAD_BYTES
    ) -> None:
        self.app = app
        self.hosts = HostMatcher(allowed_hosts)
        self.max_head_bytes = max_head_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if head_size(scope) > self.max_head_bytes:
            detail = head_too_large_detail(self.max_head_bytes)
            await send_problem(send, scope, 431, HEAD_TOO_LARGE, detail)
            return
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        if len(hosts) != 1 or not self.hosts.allows(hosts[0].decode("latin-1")):
            await send_problem(send, scope, 400, "Host not allowed", _host_detail(hosts))
            return
        if scope["method"] == "HEAD":
            await self._head_as_get(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _head_as_get(self, scope: Any, receive: Any, send: Any) -> None:
        state = {**scope.get("state", {}), HEAD_AS_GET: True}

        async def send_without_body(message: Any) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b""})

        as_get = {**scope, "method": "GET", "state": state}
        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            # The route Litestar matched, for the layers outside (metrics count a HEAD
            # under its route's template, not as unmatched).
            if "path_template" in as_get:
                scope["path_template"] = as_get["path_template"]


def _host_detail(hosts: list[bytes]) -> str:
    if not hosts:
        return "The request has no Host header; this server needs one."
    if len(hosts) > 1:
        return "The request has more than one Host header."
    return "This server does not answer to that Host name; an operator can list it in DAWAI_ALLOWED_HOSTS."
