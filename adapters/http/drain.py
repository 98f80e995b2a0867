"""``StreamDrain``: open SSE streams, told to finish at once when the server shuts down.

Each ``SSEResponse`` registers a callback for as long as it writes. ``request()`` — called
by the composition root when the server is asked to stop (``dawai.bootstrap.server``) —
marks the drain and, on the event loop, calls every callback: each stream then ends with
an in-band 503 ``error`` event and ``[DONE]`` instead of being cut by the server's
shutdown timeout. A stream that starts after ``request()`` ends the same way at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

__all__ = ["STREAM_DRAIN_STATE_KEY", "StreamDrain"]

# Where ``create_app`` puts the drain in the Litestar app's state, for ``SSEResponse``.
STREAM_DRAIN_STATE_KEY = "stream_drain"


class StreamDrain:
    def __init__(self) -> None:
        self.requested = False
        self._callbacks: set[Callable[[], None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def register(self, on_drain: Callable[[], None]) -> Callable[[], None]:
        """Call ``on_drain`` (on the event loop) when the drain is requested; returns the
        function that unregisters it. Call from the event loop."""
        self._loop = asyncio.get_running_loop()
        self._callbacks.add(on_drain)
        return lambda: self._callbacks.discard(on_drain)

    def request(self) -> None:
        """Ask every open stream to finish. Safe from a signal handler or another thread."""
        self.requested = True
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._drain_now)

    def _drain_now(self) -> None:
        for on_drain in list(self._callbacks):
            on_drain()

    @property
    def open_streams(self) -> int:
        return len(self._callbacks)
