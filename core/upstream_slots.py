"""``UpstreamSlots``: how many requests may be in flight to each provider at once.

Every reply the gateway asks for (chat, agent, generate, anything else that reaches a
model) holds one slot of its provider's, by name, for as long as its attempt runs: a
whole reply for ``complete``, from opening until the stream is closed for a stream. The
cap is ``providers.<name>.max_concurrency``, else ``llm.max_concurrency``; 0 is none. A
request that finds every slot taken waits its turn, first come first served, up to
``reliability.pool_timeout`` seconds, then fails as ``Overloaded`` (503, with
``Retry-After: limits.busy_retry_after``), and the gateway tries the next fallback.

Counts are per worker process and event loop (a semaphore belongs to the loop it first
waited on); release is idempotent, so a slot is given back once whatever path ends it.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from dawai.core.errors import Overloaded
from dawai.core.settings import Settings

__all__ = ["Release", "UpstreamSlots"]

Release = Callable[[], None]


def _nothing() -> None:
    return None


class _Gate:
    __slots__ = ("in_flight", "semaphore")

    def __init__(self, cap: int) -> None:
        self.semaphore = asyncio.Semaphore(cap)
        self.in_flight = 0


class UpstreamSlots:
    def __init__(
        self,
        caps: dict[str, int],
        *,
        default: int,
        wait: float,
        retry_after: float,
    ) -> None:
        self._caps, self._default = caps, default
        self.wait, self.retry_after = wait, retry_after
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, _Gate]] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def of(cls, settings: Settings) -> UpstreamSlots:
        caps = {
            name: endpoint.max_concurrency
            for name, endpoint in settings.providers.items()
            if endpoint.max_concurrency is not None
        }
        return cls(
            caps,
            default=settings.llm.max_concurrency,
            wait=settings.reliability.pool_timeout,
            retry_after=settings.limits.busy_retry_after,
        )

    def cap(self, provider: str) -> int:
        return self._caps.get(provider, self._default)

    def _gate(self, provider: str, cap: int) -> _Gate:
        gates = self._gates.setdefault(asyncio.get_running_loop(), {})
        gate = gates.get(provider)
        if gate is None:
            # Provider names come from the catalog (routing resolved them): a bounded set.
            gate = gates[provider] = _Gate(cap)
        return gate

    def in_flight(self, provider: str) -> int:
        """Requests holding one of ``provider``'s slots on this event loop."""
        gate = self._gates.get(asyncio.get_running_loop(), {}).get(provider)
        return gate.in_flight if gate is not None else 0

    async def acquire(self, provider: str) -> Release:
        """Wait for one of ``provider``'s slots (``Overloaded`` past the wait); returns the
        function that gives it back, once, however often it is called."""
        cap = self.cap(provider)
        if not cap:
            return _nothing
        gate = self._gate(provider, cap)
        try:
            async with asyncio.timeout(self.wait):
                await gate.semaphore.acquire()
        except TimeoutError:
            raise Overloaded(
                f"All {cap} requests to provider '{provider}' this server allows at once are in "
                f"flight, and none ended within {self.wait:g} s "
                f"(providers.{provider}.max_concurrency, reliability.pool_timeout).",
                retry_after=self.retry_after,
            ) from None
        gate.in_flight += 1
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                gate.in_flight -= 1
                gate.semaphore.release()

        return release

    @asynccontextmanager
    async def held(self, provider: str) -> AsyncIterator[None]:
        """One of ``provider``'s slots for the block."""
        release = await self.acquire(provider)
        try:
            yield
        finally:
            release()
