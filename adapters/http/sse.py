"""Server-Sent Events: one JSON object per ``data:`` line, then ``[DONE]``.

``sse_response`` is the one responder every streamed route uses (chat now; the agent and
job progress later): given an ``EventStream`` (a ``GatewayStream`` for model output) and
an encoder for its items, it

- waits until the stream has opened or failed (``EventStream.opened``: for a gateway
  stream, until the gateway has kept a first token; judging it is the gateway's), while
  watching for the client leaving (499, the upstream cancelled), the server stopping
  (``StreamDrain``: a 503 problem, nothing sent yet) and the heartbeat interval (past it,
  the response starts with a heartbeat and waits on in the body);
- answers a failure before the first byte as a problem document, and after it as an
  in-band ``error`` event, then ``[DONE]``;
- writes the body straight to the ASGI ``send`` (``SSEResponse``): the frames of every
  item already waiting go out in one write, a comment heartbeat fills silences, a client
  that leaves cancels the upstream at once, and when the server begins to stop an open
  stream closes its upstream and ends with an in-band 503 ``error`` event and ``[DONE]``.

It replaces Litestar's ``Stream``, whose anyio task group and per-chunk generator hops
cost more than the rest of the stream; nothing here costs a task or a timer per item
(docs/adr/0006).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.response import Stream
from litestar.response.base import ASGIResponse

from dawai.adapters.http.drain import STREAM_DRAIN_STATE_KEY, StreamDrain
from dawai.adapters.http.problems import problem_for
from dawai.adapters.http.schemas import StreamError, StreamErrorInfo
from dawai.core import audit
from dawai.core.errors import DawaiError, ServerShuttingDown, UpstreamError
from dawai.core.models import Finish
from dawai.core.streams import EventStream

__all__ = [
    "DONE",
    "HEARTBEAT",
    "SSE_HEADERS",
    "Encoder",
    "SSEResponse",
    "chat_frames",
    "error_frame",
    "frame",
    "sse_response",
    "write_events",
]

log = structlog.get_logger("dawai.errors")
DONE = b"data: [DONE]\n\n"
HEARTBEAT = b": keep-alive\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_encode = msgspec.json.Encoder().encode

Encoder = Callable[[Any], bytes]
"""An item's frames (``frame(...)`` of its wire form), or ``b""`` to send nothing for it."""

_CLIENT_GONE = object()
# Most upstreams answer quickly; only a slower first token pays for watching the client.
_FAST_PATH_SECONDS = 0.05


async def _disconnected(receive: Callable[[], Awaitable[Any]]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _opening(
    stream: EventStream[Any],
    receive: Callable[[], Awaitable[Any]],
    heartbeat: float,
    drain: StreamDrain | None,
) -> Any:
    """``True`` once the stream has opened, ``False`` if ``heartbeat`` passed first (the
    response then starts with a heartbeat), or ``_CLIENT_GONE`` if the client left while
    we waited — in which case the upstream is cancelled instead of running on for nobody.
    A failure before the stream opened is raised. If the server begins to stop
    (``drain``) while we wait, the upstream is closed and ``ServerShuttingDown`` raised:
    no response has started, so it is a 503 problem."""
    if await stream.opened(min(_FAST_PATH_SECONDS, heartbeat)):
        return True
    loop = asyncio.get_running_loop()
    watcher = loop.create_task(_disconnected(receive))
    waiter = loop.create_task(stream.opened(heartbeat))
    stopping: asyncio.Future[None] = loop.create_future()

    def stop_waiting() -> None:
        if not stopping.done():
            stopping.set_result(None)

    unregister = None
    if drain is not None:
        unregister = drain.register(stop_waiting)
        if drain.requested:
            stop_waiting()
    try:
        await asyncio.wait((watcher, waiter, stopping), return_when=asyncio.FIRST_COMPLETED)
        if waiter.done():
            return waiter.result()
        waiter.cancel()
        await stream.aclose()
        if not watcher.done():
            raise ServerShuttingDown()
        return _CLIENT_GONE
    finally:
        if unregister is not None:
            unregister()
        watcher.cancel()
        waiter.cancel()
        stopping.cancel()


async def sse_response(
    request: Request[Any, Any, Any],
    stream: EventStream[Any],
    heartbeat: float,
    *,
    encode: Encoder | None = None,
    headers: dict[str, str] | None = None,
    drains: bool = True,
) -> Response[Any]:
    """The response for a streamed route: ``stream``'s items as SSE frames (``encode``;
    by default ``chat_frames``), heartbeats every ``heartbeat`` seconds of silence, then
    ``[DONE]``. Awaited by the handler: a failure before the stream opens raises here
    (the problem document), a client gone meanwhile is a bare 499. ``drains=False``: the
    server stopping does not end the stream; its source does (a render job's progress,
    which the job runner ends when it stops)."""
    try:
        # the server stopping: a 503
        drain = request.app.state.get(STREAM_DRAIN_STATE_KEY) if drains else None
        opened = await _opening(stream, request.receive, heartbeat, drain)
    except BaseException:
        await stream.aclose()
        raise
    if opened is _CLIENT_GONE:
        return Response(b"", status_code=499)
    return SSEResponse(
        stream, opened, heartbeat, headers=headers or SSE_HEADERS, encode=encode, drains=drains
    )


def frame(payload: Any) -> bytes:
    """One SSE event. msgspec escapes newlines inside strings, so a frame never splits."""
    return b"data: " + _encode(payload) + b"\n\n"


def error_frame(exc: DawaiError) -> bytes:
    """The in-band ``error`` event for ``exc`` (noted in the request's audit record)."""
    problem = problem_for(exc)
    audit.note_error(problem.title)
    return frame(StreamError(StreamErrorInfo(problem.status, problem.title, problem.detail)))


def chat_frames(item: Any) -> bytes:
    """A model stream's items: ``TextDelta`` and ``Usage`` as they are, ``Finish`` as
    nothing (the stop signal is ours; the client's is ``[DONE]``)."""
    if isinstance(item, Finish):
        return b""
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
    stream: EventStream[Any],
    opened: bool,
    heartbeat: float,
    write: Callable[[bytes], Awaitable[None]],
    encode: Encoder = chat_frames,
) -> bytes:
    """Write the frames of a stream that has opened (``opened`` false: whose heartbeat
    interval passed first, so the body starts with a heartbeat); items that are already
    waiting go out together. Returns the last frames, ending with ``[DONE]``, for the
    caller to send with the end of the body. A failing ``write`` propagates: it is the
    client's connection, not the upstream, that failed."""
    out = b"" if opened else HEARTBEAT
    while True:
        while stream.has_pending:
            item, tail = await _read(stream, None)
            if tail is not None:
                return out + tail
            out += encode(item)
        if out:
            await write(out)
        item, tail = await _read(stream, heartbeat)
        if tail is not None:
            return tail
        out = HEARTBEAT if item is None else encode(item)


class _SSEApp:
    """The ASGI side of ``SSEResponse``: Litestar's head, then our body."""

    def __init__(
        self,
        head: ASGIResponse,
        stream: EventStream[Any],
        opened: bool,
        heartbeat: float,
        encode: Encoder,
        drain: StreamDrain | None,
    ) -> None:
        self._head, self._stream, self._opened, self._heartbeat = head, stream, opened, heartbeat
        self._encode, self._drain = encode, drain

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
                last = await write_events(self._stream, self._opened, self._heartbeat, write, self._encode)
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
    """A ``text/event-stream`` response for an ``EventStream`` that has opened (or whose
    heartbeat interval passed first: ``opened`` false); ``sse_response`` builds one."""

    def __init__(
        self,
        stream: EventStream[Any],
        opened: bool,
        heartbeat: float,
        headers: dict[str, str] | None = None,
        encode: Encoder | None = None,
        drains: bool = True,
    ) -> None:
        super().__init__((), media_type="text/event-stream", headers=headers)
        self._events = (stream, opened, heartbeat, encode or chat_frames)
        self._drains = drains

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> Any:
        head = super().to_asgi_response(app, request, **kwargs)
        drain = request.app.state.get(STREAM_DRAIN_STATE_KEY) if self._drains else None
        return _SSEApp(head, *self._events, drain)
