"""``EventStream``: one task pumps an async iterator into a buffer the consumer reads with
a timeout, so a slow upstream can be answered with heartbeats without cancelling it.

Closing the stream cancels the pump at its current ``await``, which closes the upstream
connection (the provider adapters clean up in ``finally``). The buffer is a deque and a
single waiter future, and a timeout is one timer per wait: a streamed chunk costs no
``asyncio.Queue`` and no ``asyncio.timeout`` (docs/adr/0006).
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


def _expire(waiter: asyncio.Future[bool]) -> None:
    _wake(waiter, by_item=False)


class EventStream(Generic[T]):
    def __init__(self, source: AsyncIterator[T]) -> None:
        self._source = source
        # Unbounded on purpose: the pump never awaits outside the source, so a timeout or
        # a cancellation always lands inside the source, where its clean-up lives.
        self._items: deque[T | _End | BaseException] = deque()
        self._waiters: list[asyncio.Future[bool]] = []  # one, but for a rare second reader
        self._task: asyncio.Task[None] | None = None
        self._done = False

    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._pump())

    def _put(self, item: T | _End | BaseException) -> None:
        self._items.append(item)
        for waiter in self._waiters:
            _wake(waiter)

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
        if not items:
            loop = asyncio.get_running_loop()
            timer = None
            try:
                while not items:
                    waiter: asyncio.Future[bool] = loop.create_future()
                    if timeout is not None and timer is None:
                        timer = loop.call_later(timeout, _expire, waiter)
                    elif timer is not None:  # woken for an item another reader took: same deadline
                        spent, timer = timer, loop.call_at(timer.when(), _expire, waiter)
                        spent.cancel()
                    self._waiters.append(waiter)
                    try:
                        by_item = await waiter
                    finally:
                        self._waiters.remove(waiter)
                    if self._done:
                        raise StopAsyncIteration
                    if not by_item and not items:
                        return None
            finally:
                if timer is not None:
                    timer.cancel()
        item = items.popleft()
        if isinstance(item, _End):
            self._done = True
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            self._done = True
            raise item
        return item

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

    async def aclose(self) -> None:
        self._done = True
        for waiter in self._waiters:  # another reader waiting: it learns of the end
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
