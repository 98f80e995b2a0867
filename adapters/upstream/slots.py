"""``ConnectionSlots``: a cap on the connections open to one origin, shared by every
``Http1Transport`` handed the same instance (``clients.py`` hands one to all the SDK
clients of a process), with the requests over it waiting in turn.

A slot is held from the moment a connection is being opened until it closes, idle or
busy. A request that finds every slot taken first closes the oldest idle connection to
that origin (whichever transport pooled it); with none idle, it waits, first come first
served, for one of three things: a connection its own transport gives back (handed over
as it is), a slot freed by a connection that closed, or the pool timeout
(``PoolExhausted``). Counts are kept per event loop: a connection never outlives its loop
usefully, and a loop that ends takes its counts with it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import weakref
from typing import Any

import httpx2

__all__ = ["ConnectionSlots", "PoolExhausted"]


class PoolExhausted(httpx2.PoolTimeout):
    """Every connection to an origin stayed busy for the whole pool timeout."""


class _Waiter:
    __slots__ = ("future", "owner")

    def __init__(self, future: asyncio.Future[Any], owner: object) -> None:
        self.future = future
        self.owner = owner


class Gate:
    """The slots of one origin on one event loop."""

    __slots__ = ("cap", "idle", "open", "waiters")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open = 0  # connections holding a slot, being opened included
        self.idle: dict[Any, None] = {}  # pooled connections, oldest first: the first to go
        self.waiters: collections.deque[_Waiter] = collections.deque()

    def take(self) -> bool:
        """A slot at once if one is free (or an idle connection can give up its own)."""
        if self.waiters:  # others were first
            return False
        if self.open >= self.cap and self.idle:
            next(iter(self.idle)).close()  # frees its slot through free()
        if self.open < self.cap:
            self.open += 1
            return True
        return False

    async def wait(self, owner: object, timeout: float | None, where: str) -> Any:
        """Until a slot (``None``: open a connection) or a connection ``owner`` gave back."""
        waiter = _Waiter(asyncio.get_running_loop().create_future(), owner)
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await waiter.future
        except BaseException as exc:
            future = waiter.future
            if future.done() and not future.cancelled():  # it came as we gave up: pass it on
                handed = future.result()
                if handed is None:
                    self.free()
                else:
                    handed.close()  # frees its slot
            else:
                future.cancel()
                with contextlib.suppress(ValueError):
                    self.waiters.remove(waiter)
            if isinstance(exc, TimeoutError):
                raise PoolExhausted(
                    f"All {self.cap} connections to {where} stayed busy for {timeout:g} s "
                    "(upstream.max_connections_per_origin, reliability.pool_timeout)."
                ) from None
            raise

    def free(self) -> None:
        """A slot holder closed (or never connected): the slot goes to the first waiter."""
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.future.done():
                waiter.future.set_result(None)
                return
        self.open -= 1

    def hand_over(self, conn: Any, owner: object) -> bool | None:
        """For a connection ``owner`` gives back while others wait: ``True`` if the first
        waiter took it (it was ``owner``'s), ``False`` if it should close so that its slot
        goes to the first waiter (another transport's), ``None`` if nobody waits."""
        while self.waiters:
            waiter = self.waiters[0]
            if waiter.future.done():
                self.waiters.popleft()
                continue
            if waiter.owner is not owner:
                return False
            self.waiters.popleft()
            waiter.future.set_result(conn)
            return True
        return None


class ConnectionSlots:
    """At most ``cap`` connections open per origin (``None``: no cap), per event loop."""

    def __init__(self, cap: int | None) -> None:
        self.cap = cap if cap else None
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, Gate]] = (
            weakref.WeakKeyDictionary()
        )

    def gate(self, loop: asyncio.AbstractEventLoop, origin: Any) -> Gate | None:
        if self.cap is None:
            return None
        gates = self._gates.get(loop)
        if gates is None:
            gates = self._gates[loop] = {}
        gate = gates.get(origin)
        if gate is None:
            gate = gates[origin] = Gate(self.cap)
        return gate
