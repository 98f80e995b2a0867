"""Server-Sent Events framing: one JSON object per ``data:`` line, then ``[DONE]``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import msgspec

from dawai.adapters.http.problems import problem_for
from dawai.core.errors import DawaiError, UpstreamError
from dawai.core.models import Finish
from dawai.core.streams import EventStream

__all__ = [
    "CLIENT_GONE",
    "DONE",
    "HEARTBEAT",
    "SSE_HEADERS",
    "error_frame",
    "first_event",
    "frame",
    "sse_body",
]

DONE = b"data: [DONE]\n\n"
HEARTBEAT = b": keep-alive\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_encode = msgspec.json.Encoder().encode


CLIENT_GONE = object()
# Most upstreams answer quickly; only a slower first token pays for watching the client.
_FAST_PATH_SECONDS = 0.05


async def _disconnected(receive: Callable[[], Awaitable[Any]]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def first_event(
    stream: EventStream[Any], receive: Callable[[], Awaitable[Any]], heartbeat: float
) -> Any:
    """The stream's first item, ``None`` if ``heartbeat`` passed first (the response then
    starts with a heartbeat), or ``CLIENT_GONE`` if the client left while we waited —
    in which case the upstream is cancelled instead of running on for nobody."""
    try:
        item = await stream.next(min(_FAST_PATH_SECONDS, heartbeat))
    except StopAsyncIteration:
        return None
    if item is not None:
        return item
    loop = asyncio.get_running_loop()
    watcher = loop.create_task(_disconnected(receive))
    waiter = loop.create_task(stream.next(heartbeat))
    try:
        await asyncio.wait((watcher, waiter), return_when=asyncio.FIRST_COMPLETED)
        if waiter.done():
            try:
                return waiter.result()
            except StopAsyncIteration:
                return None
        waiter.cancel()
        await stream.aclose()
        return CLIENT_GONE
    finally:
        watcher.cancel()
        waiter.cancel()


def frame(payload: Any) -> bytes:
    """One SSE event. msgspec escapes newlines inside strings, so a frame never splits."""
    return b"data: " + _encode(payload) + b"\n\n"


def error_frame(exc: DawaiError) -> bytes:
    problem = problem_for(exc)
    return frame(
        {
            "type": "error",
            "error": {"status": problem.status, "title": problem.title, "detail": problem.detail},
        }
    )


async def sse_body(stream: EventStream[Any], first: Any, heartbeat: float) -> AsyncIterator[bytes]:
    """Frames for a stream whose first item (or ``None``: still waiting) was already read.

    Errors after the first byte go in-band; a client disconnect cancels this generator,
    and ``finally`` closes the upstream.
    """
    try:
        item = first
        while True:
            if item is None:
                yield HEARTBEAT
            elif not isinstance(item, Finish):
                yield b"data: " + _encode(item) + b"\n\n"
            try:
                item = await stream.next(heartbeat)
            except StopAsyncIteration:
                break
            except DawaiError as exc:
                yield error_frame(exc)
                break
            except Exception:
                yield error_frame(UpstreamError("The stream failed unexpectedly."))
                break
        yield DONE
    finally:
        await stream.aclose()
