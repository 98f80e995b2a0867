"""Server-Sent Events: one JSON object per ``data:`` line, then ``[DONE]``.

``SSEResponse`` writes a chat stream straight to the ASGI ``send``: the frames of every
event already waiting go out in one write, a comment heartbeat fills silences, errors
after the first byte go in-band, and a client that leaves cancels the upstream at once.
When the server begins to stop (``StreamDrain``), an open stream closes its upstream and
ends with an in-band 503 ``error`` event and ``[DONE]``, not a cut body.
It replaces Litestar's ``Stream`` here, whose anyio task group and per-chunk generator
hops cost more than the rest of the stream (docs/adr/0006).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog
from litestar import Request
from litestar.response import Stream
from litestar.response.base import ASGIResponse

from dawai.adapters.http.drain import STREAM_DRAIN_STATE_KEY, StreamDrain
from dawai.adapters.http.problems import problem_for
from dawai.adapters.http.schemas import StreamError, StreamErrorInfo
from dawai.core.errors import DawaiError, ServerShuttingDown, UpstreamError
from dawai.core.models import Finish
from dawai.core.streams import EventStream

__all__ = [
    "CLIENT_GONE",
    "DONE",
    "HEARTBEAT",
    "SSE_HEADERS",
    "SSEResponse",
    "error_frame",
    "first_event",
    "frame",
    "write_events",
]

log = structlog.get_logger("dawai.errors")
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
    stream: EventStream[Any],
    receive: Callable[[], Awaitable[Any]],
    heartbeat: float,
    drain: StreamDrain | None = None,
) -> Any:
    """The stream's first item, ``None`` if ``heartbeat`` passed first (the response then
    starts with a heartbeat), or ``CLIENT_GONE`` if the client left while we waited —
    in which case the upstream is cancelled instead of running on for nobody. If the
    server begins to stop (``drain``) while we wait, the upstream is closed and
    ``ServerShuttingDown`` raised: no response has started, so it is a 503 problem."""
    try:
        item = await stream.next(min(_FAST_PATH_SECONDS, heartbeat))
    except StopAsyncIteration:
        return None
    if item is not None:
        return item
    loop = asyncio.get_running_loop()
    watcher = loop.create_task(_disconnected(receive))
    waiter = loop.create_task(stream.next(heartbeat))
    stopping = loop.create_future()
    unregister = None
    if drain is not None:
        unregister = drain.register(lambda: stopping.done() or stopping.set_result(None))
        if drain.requested:
            stopping.set_result(None)
    try:
        await asyncio.wait((watcher, waiter, stopping), return_when=asyncio.FIRST_COMPLETED)
        if waiter.done():
            try:
                return waiter.result()
            except StopAsyncIteration:
                return None
        waiter.cancel()
        await stream.aclose()
        if not watcher.done():
            raise ServerShuttingDown()
        return CLIENT_GONE
    finally:
        if unregister is not None:
            unregister()
        watcher.cancel()
        waiter.cancel()
        stopping.cancel()


def frame(payload: Any) -> bytes:
    """One SSE event. msgspec escapes newlines inside strings, so a frame never splits."""
    return b"data: " + _encode(payload) + b"\n\n"


def error_frame(exc: DawaiError) -> bytes:
    problem = problem_for(exc)
    return frame(StreamError(StreamErrorInfo(problem.status, problem.title, problem.detail)))


def _frame_of(item: Any) -> bytes:
    if item is None:
        return HEARTBEAT
    if isinstance(item, Finish):
        return b""  # the stop signal is ours; the client's is [DONE]
    return frame(item)


async def _read(stream: EventStream[Any], timeout: float | None) -> tuple[Any, bytes | None]:
    """The next item (``None``: ``timeout`` passed), or the stream's closing frames."""
    try:
        return await stream.next(timeout), None
    except StopAsyncIteration:
        return None, DONE
    except DawaiError as exc:
        return None, error_frame(exc) + DONE
    except Exception as exc:  # a bug: logged like an unhandled error, in-band for the client
        log.error("unhandled_stream_error", error_type=type(exc).__name__)
        return None, error_frame(UpstreamError("The stream failed unexpectedly.")) + DONE


async def write_events(
    stream: EventStream[Any], first: Any, heartbeat: float, write: Callable[[bytes], Awaitable[None]]
) -> bytes:
    """Write the frames of a stream whose first item (``None``: still waiting) was read
    already; events that are already waiting go out together. Returns the last frames,
    ending with ``[DONE]``, for the caller to send with the end of the body. A failing
    ``write`` propagates: it is the client's connection, not the upstream, that failed."""
    item = first
    while True:
        out = _frame_of(item)
        while stream.has_pending:
            item, tail = await _read(stream, None)
            if tail is not None:
                return out + tail
            out += _frame_of(item)
        if out:
            await write(out)
        item, tail = await _read(stream, heartbeat)
        if tail is not None:
            return tail


class _SSEApp:
    """The ASGI side of ``SSEResponse``: Litestar's head, then our body."""

    def __init__(
        self,
        head: ASGIResponse,
        stream: EventStream[Any],
        first: Any,
        heartbeat: float,
        drain: StreamDrain | None,
    ) -> None:
        self._head, self._stream, self._first, self._heartbeat = head, stream, first, heartbeat
        self._drain = drain

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        live, gone, draining = True, False, False

        def client_left(watcher: asyncio.Task[None]) -> None:
            nonlocal gone
            if live and not watcher.cancelled() and watcher.exception() is None:
                gone = True
                task.cancel()

        def server_stopping() -> None:
            nonlocal draining
            if live and not gone and not draining:
                draining = True
                task.cancel()

        async def write(data: bytes) -> None:
            await send({"type": "http.response.body", "body": data, "more_body": True})

        watcher = asyncio.get_running_loop().create_task(_disconnected(receive))
        watcher.add_done_callback(client_left)
        unregister = self._drain.register(server_stopping) if self._drain is not None else None
        try:
            await self._head.start_response(send)
            if self._drain is not None and self._drain.requested:
                draining = True
                last = error_frame(ServerShuttingDown()) + DONE
            else:
                last = await write_events(self._stream, self._first, self._heartbeat, write)
            live = False
            await send({"type": "http.response.body", "body": last, "more_body": False})
        except asyncio.CancelledError:
            # Ours (the client left: nothing more to send, and no error; or the server is
            # stopping: the upstream is closed and the stream ended in-band), or someone else's.
            if not (gone or draining) or task.uncancel() > 0:
                raise
            if draining and not gone:
                live = False
                await self._stream.aclose()
                end = error_frame(ServerShuttingDown()) + DONE
                await send({"type": "http.response.body", "body": end, "more_body": False})
        finally:
            live = False
            watcher.cancel()
            if unregister is not None:
                unregister()
            await self._stream.aclose()


class SSEResponse(Stream):
    """A ``text/event-stream`` response for an ``EventStream`` of chat events."""

    def __init__(
        self, stream: EventStream[Any], first: Any, heartbeat: float, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__((), media_type="text/event-stream", headers=headers)
        self._events = (stream, first, heartbeat)

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> Any:
        head = super().to_asgi_response(app, request, **kwargs)
        drain = request.app.state.get(STREAM_DRAIN_STATE_KEY)
        return _SSEApp(head, *self._events, drain)
