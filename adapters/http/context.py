"""Request ids, the access log and the body-size guard, around every request.

A pure ASGI middleware wrapped around Litestar's whole handler (exception handling,
CORS and routing included), so 404s, 405s and preflights get an ``X-Request-ID`` and an
access-log line too. Bodies are never logged.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any

import structlog

__all__ = ["REQUEST_ID_PATTERN", "RequestContext", "request_id_of"]

REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:\-]{1,128}$"
_VALID_ID = re.compile(REQUEST_ID_PATTERN)
access_log = structlog.get_logger("dawai.access")
# New ids: 80 random bits per process, then a counter (32 hex digits, like a UUID's),
# unique across workers and restarts without a random draw per request.
_ID_PREFIX = secrets.token_hex(10)
_ID_COUNTER = itertools.count(1)


def request_id_of(scope: Any) -> str:
    """The request's id: the client's ``X-Request-ID`` when sane, else a new one."""
    state = scope.setdefault("state", {})
    rid = state.get("request_id")
    if rid is None:
        rid = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                rid = candidate if _VALID_ID.match(candidate) else ""
                break
        rid = state["request_id"] = rid or f"{_ID_PREFIX}{next(_ID_COUNTER):012x}"
    return rid


class RequestContext:
    def __init__(self, app: Any, *, access_log_enabled: bool = True) -> None:
        self.app = app
        self.access = access_log_enabled

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope)
        header = (b"x-request-id", rid.encode())
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=rid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.access:
                access_log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status or None,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id")
