"""``EventStream``: one task pumps an async iterator into a buffer the consumer reads with
a timeout, so a slow upstream can be answered with heartbeats without cancelling it.

Closing the stream cancels the pump at its current ``await``, which closes the upstream
connection (the provider adapters clean up in ``finally``). The buffer is a deque and a
waiter future per wait; timeouts share one timer per stream, moved only when it fires
before the waiting reader's own deadline. A streamed chunk costs no ``asyncio.Queue``,
no ``asyncio.timeout`` and no timer of its own: a long heartbeat wait that an item ends
early leaves the timer where it is (docs/adr/0006).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

__all__ = ["EventStream"]

T = TypeVar("T")


class _End:
    pass


_END = _End()


def _wake(waiter: asyncio.Future[bool], by_item: bool = True) -> None:
    if not waiter.done():
        waiter.set_result(by_item)


# A timer may fire up to a millisecond early (uvloop counts in whole milliseconds).
_TIMER_SLACK = 0.001


class EventStream(Generic[T]):
    def __init__(self, source: AsyncIterator[T]) -> None:
        self._source = source
        # Unbounded on purpose: the pump never awaits outside the source, so a timeout or
        # a cancellation always lands inside the source, where its clean-up lives.
        self._items: deque[T | _End | BaseException] = deque()
        # Readers waiting, each with its deadline (None: none); one, but for a rare second.
        self._waiters: list[tuple[asyncio.Future[bool], float | None]] = []
        self._timer: asyncio.TimerHandle | None = None  # at or before the earliest deadline
        self._task: asyncio.Task[None] | None = None
        self._done = False

    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._pump())

    def _put(self, item: T | _End | BaseException) -> None:
        self._items.append(item)
        for waiter, _ in self._waiters:
            _wake(waiter)

    def _arm(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        """Make sure the timer fires no later than ``deadline``."""
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(deadline, self._on_timer, loop)

    def _on_timer(self, loop: asyncio.AbstractEventLoop) -> None:
        """Expire the waits whose deadline has come; move the timer to the next one."""
        self._timer = None
        now = loop.time() + _TIMER_SLACK
        later: float | None = None
        for waiter, deadline in self._waiters:
            if deadline is None or waiter.done():
                continue
            if deadline <= now:
                _wake(waiter, by_item=False)
            elif later is None or deadline < later:
                later = deadline
        if later is not None:
            self._timer = loop.call_at(later, self._on_timer, loop)

    async def _pump(self) -> None:
        put = self._put
        outcome: _End | BaseException | None = _END
        try:
            async for item in self._source:
                put(item)
        except asyncio.CancelledError:
            outcome = None  # the consumer asked for this; nobody is waiting
            raise
        except BaseException as exc:
            outcome = exc
        finally:
            aclose = getattr(self._source, "aclose", None)
            try:
                if aclose is not None:
                    await aclose()
            except Exception as exc:
                outcome = exc if outcome is _END else outcome
            if outcome is not None:
                # Whatever happened, the consumer learns of it: it never waits forever.
                put(outcome)

    @property
    def has_pending(self) -> bool:
        """Whether ``next()`` would answer without waiting."""
        return bool(self._items) and not self._done

    async def next(self, timeout: float | None = None) -> T | None:
        """The next item; ``None`` when ``timeout`` passed first. Raises the source's error,
        or ``StopAsyncIteration`` at the end."""
        if self._done:
            raise StopAsyncIteration
        if self._task is None:
            self._start()
        items = self._items
        if not items and not await self._wait(timeout):
            return None
        item = items.popleft()
        if isinstance(item, _End):
            self._finish()
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._finish()
            raise item
        return item

    async def opened(self, timeout: float | None = None) -> bool:
        """Wait until the stream has something for its reader, reading nothing: ``True``
        once an item or the end is buffered, ``False`` when ``timeout`` passed first. If
        the source failed before its first item, that error is raised (and the stream is
        done). A source that holds back its items until it has judged them (the gateway
        keeps a stream's first token until an attempt is kept) opens when it decides."""
        if self._done:
            return True
        if self._task is None:
            self._start()
        items = self._items
        try:
            if not items and not await self._wait(timeout):
                return False
        except StopAsyncIteration:  # closed while waiting
            return True
        first = items[0]
        if isinstance(first, BaseException):
            items.popleft()
            self._finish()
            raise first
        return True

    async def _wait(self, timeout: float | None) -> bool:
        """Wait for the buffer to fill; ``False`` when ``timeout`` passed first."""
        items = self._items
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not items:
            waiter: asyncio.Future[bool] = loop.create_future()
            entry = (waiter, deadline)
            self._waiters.append(entry)
            if deadline is not None:
                self._arm(loop, deadline)
            try:
                by_item = await waiter
            finally:
                self._waiters.remove(entry)
            if self._done:
                raise StopAsyncIteration
            if not by_item and not items:
                return False
        return True

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[T]:
        try:
            while True:
                try:
                    item = await self.next()
                except StopAsyncIteration:
                    return
                assert item is not None
                yield item
        finally:
            await self.aclose()

    def _finish(self) -> None:
        self._done = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def aclose(self) -> None:
        self._finish()
        for waiter, _ in self._waiters:  # another reader waiting: it learns of the end
            _wake(waiter)
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
        elif task is None:
            aclose = getattr(self._source, "aclose", None)
            if aclose is not None:
                await aclose()
