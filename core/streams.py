"""``EventStream``: one task pumps an async iterator into a queue the consumer reads with
a timeout, so a slow upstream can be answered with heartbeats without cancelling it.

Closing the stream cancels the pump at its current ``await``, which closes the upstream
connection (the provider adapters clean up in ``finally``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

__all__ = ["EventStream"]

T = TypeVar("T")


class _End:
    pass


_END = _End()


class EventStream(Generic[T]):
    def __init__(self, source: AsyncIterator[T]) -> None:
        self._source = source
        # Unbounded on purpose: the pump never awaits outside the source, so a timeout or
        # a cancellation always lands inside the source, where its clean-up lives.
        self._queue: asyncio.Queue[T | _End | BaseException] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._done = False

    def _start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        queue = self._queue
        outcome: _End | BaseException | None = _END
        try:
            async for item in self._source:
                queue.put_nowait(item)
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
                queue.put_nowait(outcome)

    async def next(self, timeout: float | None = None) -> T | None:
        """The next item; ``None`` when ``timeout`` passed first. Raises the source's error,
        or ``StopAsyncIteration`` at the end."""
        if self._done:
            raise StopAsyncIteration
        if self._task is None:
            self._start()
        queue = self._queue
        if queue.empty():
            if timeout is None:
                item = await queue.get()
            else:
                try:
                    async with asyncio.timeout(timeout):
                        item = await queue.get()
                except TimeoutError:
                    return None
        else:
            item = queue.get_nowait()
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
