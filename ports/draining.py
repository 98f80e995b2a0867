"""``Drainable``: long-running work the server lets finish when it is asked to stop.

The composition root keeps one ``Drains`` registry (``dawai.bootstrap.lifecycle``). When
the server receives SIGTERM or SIGINT it calls, on the event loop, for every registered
thing: ``refuse_new`` (new work is refused with a 503 from now on), then waits up to
``http.drain_timeout`` seconds for all their ``idle`` at once, then ``end_open`` for what is
still open (each ends with its own in-band error: an SSE stream's ``error`` event and
``[DONE]``, a render job's failed state). Only then does the server stop accepting
connections (docs/adr/0029).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["Drainable"]


@runtime_checkable
class Drainable(Protocol):
    def refuse_new(self) -> None:
        """From now on, new work is refused (a 503 with ``Retry-After``); open work goes on.
        Called on the event loop, once."""
        ...

    @property
    def open_count(self) -> int:
        """How much work is open now (streams, jobs), for the shutdown's log line."""
        ...

    async def idle(self) -> None:
        """Return once nothing is open (at once if nothing is). Cancelled when the drain
        timeout passes first."""
        ...

    async def end_open(self) -> None:
        """End everything still open with its in-band error, and return once each has
        ended (or as soon as it cannot end sooner: this is awaited with a short bound)."""
        ...
