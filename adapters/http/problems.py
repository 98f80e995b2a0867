"""Every error becomes RFC 9457 ``application/problem+json`` with the request id.

This is the one place domain errors meet HTTP statuses. No stack trace, exception text
of unexpected errors, or key ever reaches a client.
"""

from __future__ import annotations

import math
import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.types import ExceptionHandlersMap

from dawai.adapters.http.context import request_id_of
from dawai.core.errors import (
    Conflict,
    DawaiError,
    InvalidInput,
    MissingCredentials,
    NotConfigured,
    NotFound,
    Overloaded,
    RateLimited,
    RenderCancelled,
    ServerShuttingDown,
    TooLarge,
    UpstreamError,
    UpstreamTimeout,
)
from dawai.core.redaction import redact

__all__ = [
    "EXCEPTION_HANDLERS",
    "Problem",
    "problem_bytes",
    "problem_for",
    "problem_message",
    "problem_response",
    "send_problem",
    "status_for",
]

log = structlog.get_logger("dawai.errors")
PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://dawai.dev/problems/"
HEAD_AS_GET = "dawai.head_as_get"  # scope["state"] key set by HeadGuard: this GET was a HEAD

_STATUS = (
    (InvalidInput, 400),
    (MissingCredentials, 401),
    (NotFound, 404),
    (Conflict, 409),
    (RenderCancelled, 409),
    (TooLarge, 413),
    (RateLimited, 429),
    (UpstreamError, 502),
    (NotConfigured, 503),
    (ServerShuttingDown, 503),
    (Overloaded, 503),
    (UpstreamTimeout, 504),
)


class FieldProblem(msgspec.Struct):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    request_id: str = ""
    errors: list[FieldProblem] | None = None


def status_for(exc: DawaiError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def _slug(title: str) -> str:
    return TYPE_BASE + "-".join(title.lower().split())


def problem_for(exc: DawaiError) -> Problem:
    """The problem document for a domain error (also used in-band in SSE streams)."""
    errors = None
    if isinstance(exc, InvalidInput) and exc.errors:
        errors = [FieldProblem(e.field, e.message) for e in exc.errors]
    return Problem(_slug(exc.title), exc.title, status_for(exc), redact(exc.detail), errors=errors)


def problem_bytes(status: int, title: str, detail: str, request_id: str) -> bytes:
    """A whole problem document, encoded, for code outside Litestar's handlers."""
    return msgspec.json.encode(Problem(_slug(title), title, status, detail, request_id))


Headers = tuple[tuple[bytes, bytes], ...]


def problem_message(
    status: int, title: str, detail: str, request_id: str, headers: Headers = ()
) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The header fields and body of a problem response, for code that writes its own:
    the ASGI middlewares (``send_problem``) and the socket-level 431
    (``dawai.bootstrap.http_protocol``)."""
    body = problem_bytes(status, title, detail, request_id)
    fields = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    return fields, body


async def send_problem(
    send: Any, scope: Any, status: int, title: str, detail: str, headers: Headers = ()
) -> None:
    """Answer an ASGI request with a problem document: for the pure ASGI middlewares."""
    fields, body = problem_message(status, title, detail, request_id_of(scope), headers)
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": body})


def problem_response(status: int, title: str, detail: str, request_id: str) -> Response[Any]:
    """A problem document as a Litestar response, for hooks that replace a response."""
    return _encoded(problem_bytes(status, title, detail, request_id), status)


def _encoded(body: bytes, status: int, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _response(
    problem: Problem, request: Request[Any, Any, Any], headers: dict[str, str] | None = None
) -> Response[Any]:
    problem.request_id = request_id_of(request.scope)
    return _encoded(msgspec.json.encode(problem), problem.status, headers)


def _domain(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, DawaiError)
    problem = problem_for(exc)
    headers = None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(math.ceil(exc.retry_after if exc.retry_after is not None else 1))}
    elif isinstance(exc, Overloaded) and exc.retry_after is not None:
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    log.info("request_failed", status=problem.status, title=problem.title)
    return _response(problem, request, headers)


_HTTP_TITLES = {
    400: "Invalid request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Rate limited",
}


_NAMED = re.compile(r"(?:unknown|missing required) field `([^`]*)`")


def _field(key: Any, message: str) -> str:
    """A dotted field path: Litestar says ``data`` for the body itself and puts the name
    of an unknown field only in the message."""
    text = str(key or "")
    text = "" if text in ("data", "body") else text.removeprefix("data.").removeprefix("$.").removeprefix("$")
    unknown = _NAMED.search(message)
    if unknown:
        text = f"{text}.{unknown.group(1)}" if text else unknown.group(1)
    return text or "body"


def _http(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    title = _HTTP_TITLES.get(status, "Request failed" if status < 500 else "Server error")
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else title
    errors = None
    if isinstance(exc, ValidationException) or status == 400:
        errors = [
            FieldProblem(
                _field(item.get("key"), str(item.get("message", ""))), str(item.get("message", "invalid"))
            )
            for item in (exc.extra if isinstance(exc.extra, list) else [])
            if isinstance(item, dict)
        ] or None
        if errors:
            detail = "; ".join(f"{e.field}: {e.message}" for e in errors)[:500]
    if status == 405:
        method = "HEAD" if request.scope.get("state", {}).get(HEAD_AS_GET) else request.method
        detail = f"{method} is not allowed on {request.url.path}."
    elif status == 404:
        detail = f"No route for {request.url.path}."
    elif status == 413:
        detail = "The request body is larger than this server accepts."
    if status >= 500:
        detail = title
    problem = Problem(_slug(title), title, status, redact(detail), errors=errors)
    return _response(problem, request, exc.headers)


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    rid = request_id_of(request.scope)
    log.error("unhandled_error", error_type=type(exc).__name__)
    problem = Problem(
        _slug("Internal server error"),
        "Internal server error",
        500,
        f"Something went wrong on our side; quote request id {rid}.",
    )
    return _response(problem, request)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DawaiError: _domain,
    HTTPException: _http,
    Exception: _unexpected,
}
