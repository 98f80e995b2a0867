"""Caps on long-running requests open at once: event streams and renders, per client and
in all, for every route that declares a ``Slot`` (route_set.py), through one middleware.

- Each route's ``Slot`` (``STREAM``: chat and agent streams, any SSE route; ``RENDER``:
  singing synthesis; ``NONE``: the rest) comes from its route set or handler ``opt``, read
  from the mounted routes (``PathRules``), like the access rules and rate classes.
- A client is who the rate limits count (``client_key``: its token's name, else its
  address). ``[limits]`` caps each slot kind per client (``streams_per_client``,
  ``renders_per_client``) and in all (``streams``, ``renders``), per worker process; 0 is
  no cap.
- The slot is taken before the request reaches Litestar, so a refused request starts no
  work at all (no body read, no upstream connection): a 503 problem with ``Retry-After``
  (``limits.busy_retry_after``). It is held for as long as the ASGI call runs, which for
  an event stream is the whole stream, and given back in one ``finally``: once, whether
  the request ended normally, failed, or was cancelled (the client left, the server
  stopped).
- Counts live in a dict holding only clients with a slot in use, so memory is bounded by
  the caps, whatever the number of clients.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dawai.adapters.http.auth import client_key
from dawai.adapters.http.problems import send_problem
from dawai.adapters.http.route_rules import PathRules
from dawai.adapters.http.route_set import SLOT_OPT, Slot
from dawai.core.settings import LimitSettings

__all__ = ["ConcurrencyGuard", "SlotCounter", "SlotRules", "slot_counters"]


class SlotCounter:
    """Slots in use per client and in all, under two caps (0: none). Not thread-safe:
    one event loop takes and gives back every slot, and nothing awaits in between."""

    def __init__(self, name: str, total: int, per_client: int) -> None:
        self.name, self.total, self.per_client = name, total, per_client
        self.in_use = 0
        self._by_client: dict[str, int] = {}

    def try_acquire(self, client: str) -> bool:
        """Take a slot for ``client``, or say no (False) when either cap is reached."""
        if self.total and self.in_use >= self.total:
            return False
        held = self._by_client.get(client, 0)
        if self.per_client and held >= self.per_client:
            return False
        self._by_client[client] = held + 1
        self.in_use += 1
        return True

    def release(self, client: str) -> None:
        """Give back one of ``client``'s slots (one it took)."""
        held = self._by_client[client]
        if held <= 1:
            del self._by_client[client]
        else:
            self._by_client[client] = held - 1
        self.in_use -= 1

    def held_by(self, client: str) -> int:
        return self._by_client.get(client, 0)

    @property
    def clients(self) -> int:
        """Clients holding at least one slot."""
        return len(self._by_client)

    def refusal(self) -> str:
        """Why a client was just refused: the cap it met, by its setting's name."""
        if self.total and self.in_use >= self.total:
            return f"All {self.total} {self.name} this server allows at once are open (limits.{self.name})."
        return (
            f"This client has {self.per_client} {self.name} open, as many as it may "
            f"(limits.{self.name}_per_client)."
        )


def slot_counters(limits: LimitSettings) -> dict[Slot, SlotCounter]:
    """A counter for each slot kind that has a cap."""
    counters = {
        Slot.STREAM: SlotCounter("streams", limits.streams, limits.streams_per_client),
        Slot.RENDER: SlotCounter("renders", limits.renders, limits.renders_per_client),
    }
    return {slot: c for slot, c in counters.items() if c.total or c.per_client}


class SlotRules(PathRules[Slot]):
    """The ``Slot`` of each path; unknown paths and the docs hold none."""

    def __init__(self, by_path: Mapping[str, Slot], open_prefixes: Iterable[str] = ()) -> None:
        super().__init__(by_path, default=Slot.NONE, open_value=Slot.NONE, open_prefixes=open_prefixes)

    @classmethod
    def of_routes(cls, routes: Iterable[Any], open_prefixes: Iterable[str] = ()) -> SlotRules:
        return cls(PathRules.read(routes, SLOT_OPT, Slot.NONE), open_prefixes)


class ConcurrencyGuard:
    """The ASGI middleware: inside the token guard (a token's name is known) and the rate
    limit (a refused request holds no slot)."""

    def __init__(
        self, app: Any, counters: Mapping[Slot, SlotCounter], rules: SlotRules, retry_after: int
    ) -> None:
        self.app, self.counters, self.rules = app, dict(counters), rules
        self.retry_after = retry_after

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        counter = None
        if scope["type"] == "http":
            counter = self.counters.get(self.rules.for_scope(scope))
        if counter is None:
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        if not counter.try_acquire(client):
            detail = f"{counter.refusal()} Try again in {self.retry_after} s."
            headers = ((b"retry-after", str(self.retry_after).encode()),)
            await send_problem(send, scope, 503, "Server busy", detail, headers)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            counter.release(client)
