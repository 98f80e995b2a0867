"""The HTTP side of a graceful stop: ``StreamDrain`` (open SSE streams, let finish, then
ended in-band) and ``DrainGate`` (new stream requests refused once the server stops).

``StreamDrain`` is a ``dawai.ports.draining.Drainable``: the composition root's ``Drains``
(``dawai.bootstrap.lifecycle``) drives it when the server is asked to stop:

- ``refuse_new()``: ``DrainGate`` answers each new request on a route that declares
  ``OnShutdown.DRAIN`` (the streams) with a 503 problem and ``Retry-After``; every other
  route is served as before (health, a render job's status).
- ``idle()``: returns once every request the gate let in has ended by itself.
- ``end_open()``: calls every callback registered by an open stream (``register``, on the
  event loop): each ``SSEResponse`` stops reading, closes its upstream and ends with an
  in-band 503 ``error`` event and ``[DONE]``; a stream still waiting for its first token
  answers a 503 problem. A stream whose response starts after it ends the same way at once.

``request()`` is ``end_open`` without waiting, safe from a signal handler or another thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from dawai.adapters.http.problems import send_problem
from dawai.adapters.http.route_rules import PathRules
from dawai.adapters.http.route_set import SHUTDOWN_OPT, OnShutdown

__all__ = ["STREAM_DRAIN_STATE_KEY", "DrainGate", "DrainRules", "StreamDrain"]

# Where ``create_app`` puts the drain in the Litestar app's state, for ``SSEResponse``.
STREAM_DRAIN_STATE_KEY = "stream_drain"
# Seconds a client refused while the server stops is asked to wait (another instance, or
# this one restarted, takes it).
REFUSED_RETRY_AFTER = 1
_END_BOUND = 5.0  # seconds end_open waits for the streams it ended to write their last frames


class StreamDrain:
    def __init__(self) -> None:
        self.refusing = False  # refuse_new() was called
        self.requested = False  # end_open() (or request()) was called: streams end now
        self._callbacks: set[Callable[[], None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._admitted = 0
        self._idle: asyncio.Event | None = None

    # Streams and the requests that lead to them

    def register(self, on_drain: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_drain`` (on the event loop) when open streams are to end now; returns
        the function that unregisters it. Call from the event loop."""
        self._loop = asyncio.get_running_loop()
        self._callbacks.add(on_drain)
        return lambda: self._callbacks.discard(on_drain)

    def admit(self) -> bool:
        """A request on a drained route begins: False once new ones are refused."""
        if self.refusing:
            return False
        self._admitted += 1
        return True

    def leave(self) -> None:
        """A request ``admit`` let in has ended (its response written, or it failed)."""
        self._admitted -= 1
        if self._admitted == 0 and self._idle is not None:
            self._idle.set()

    @property
    def open_streams(self) -> int:
        """Streams open now (each registered callback)."""
        return len(self._callbacks)

    # Drainable

    @property
    def open_count(self) -> int:
        """Requests on drained routes in progress, from the gate to their response's end."""
        return self._admitted

    def refuse_new(self) -> None:
        self.refusing = True

    async def idle(self) -> None:
        while self._admitted > 0:
            if self._idle is None or self._idle.is_set():
                self._idle = asyncio.Event()
            await self._idle.wait()

    async def end_open(self) -> None:
        self.refuse_new()
        self._end_now()
        with contextlib.suppress(TimeoutError):  # uvicorn's own graceful timeout follows
            await asyncio.wait_for(self.idle(), _END_BOUND)

    def request(self) -> None:
        """End every open stream now. Safe from a signal handler or another thread."""
        self.refusing = self.requested = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._drain_now)

    def _end_now(self) -> None:
        self.requested = True
        self._drain_now()

    def _drain_now(self) -> None:
        for on_drain in list(self._callbacks):
            on_drain()


class DrainRules(PathRules[OnShutdown]):
    """Each path's ``OnShutdown``, from its handlers' declarations (``SHUTDOWN_OPT``)."""

    def __init__(self, by_path: Mapping[str, OnShutdown]) -> None:
        super().__init__(by_path, default=OnShutdown.SERVE, open_value=OnShutdown.SERVE)

    @classmethod
    def of_routes(cls, routes: Any) -> DrainRules:
        return cls(PathRules.read(routes, SHUTDOWN_OPT, OnShutdown.SERVE))


class DrainGate:
    """Counts the requests on drained routes while they run, and refuses new ones (503
    ``Server shutting down``, ``Retry-After``) once the server has begun to stop."""

    def __init__(self, app: Any, drain: StreamDrain, rules: DrainRules) -> None:
        self.app, self.drain, self.rules = app, drain, rules
        self._retry = ((b"retry-after", str(REFUSED_RETRY_AFTER).encode()),)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.rules.for_scope(scope) is not OnShutdown.DRAIN:
            await self.app(scope, receive, send)
            return
        if not self.drain.admit():
            detail = "The server is shutting down; send the request again."
            await send_problem(send, scope, 503, "Server shutting down", detail, self._retry)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.drain.leave()
