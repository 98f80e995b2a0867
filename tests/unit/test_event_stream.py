"""``EventStream``: timeouts lose nothing, and a second reader never hangs the first."""

from __future__ import annotations

import asyncio

import pytest

from dawai.core.streams import EventStream


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 5))


async def _source(*steps):
    for step in steps:
        if isinstance(step, float):
            await asyncio.sleep(step)
        else:
            yield step


def test_a_timeout_returns_none_and_loses_nothing():
    async def main():
        stream = EventStream(_source(0.1, "late"))
        first = await stream.next(0.01)
        second = await stream.next(1.0)
        with pytest.raises(StopAsyncIteration):
            await stream.next(1.0)
        await stream.aclose()
        return first, second

    assert run(main()) == (None, "late")


def test_each_wait_times_out_at_its_own_deadline_not_an_earlier_waits():
    # A heartbeat wait that follows quick items counts from its own start, not from an
    # earlier wait's (a timer reused across waits must not cut it short).
    async def main():
        loop = asyncio.get_running_loop()
        stream = EventStream(_source(0.02, "a", 0.02, "b", 0.02, "c", 5.0, "late"))
        got = []
        while True:
            started = loop.time()
            item = await stream.next(0.5)
            if item is None:
                waited = loop.time() - started
                break
            got.append(item)
        await stream.aclose()
        return got, waited

    got, waited = run(main())
    assert got == ["a", "b", "c"]
    assert waited >= 0.45


def test_two_readers_each_get_an_item_and_neither_hangs():
    async def main():
        stream = EventStream(_source(0.02, "a", 0.02, "b"))
        got = await asyncio.gather(stream.next(), stream.next())
        await stream.aclose()
        return sorted(got)

    assert run(main()) == ["a", "b"]


def test_a_cancelled_reader_does_not_strand_the_other():
    async def main():
        loop = asyncio.get_running_loop()
        stream = EventStream(_source(0.05, "item"))
        quitter = asyncio.create_task(stream.next(5.0))
        stayer = asyncio.create_task(stream.next(5.0))
        await asyncio.sleep(0.01)
        quitter.cancel()
        started = loop.time()
        item = await stayer
        waited = loop.time() - started
        await stream.aclose()
        return item, waited

    item, waited = run(main())
    assert item == "item"
    assert waited < 2.0  # woken by the item, not by its own 5 s timeout


def test_closing_wakes_a_reader_that_is_waiting():
    async def main():
        stream = EventStream(_source(10.0, "never"))
        reader = asyncio.create_task(stream.next())
        await asyncio.sleep(0.01)
        await stream.aclose()
        with pytest.raises(StopAsyncIteration):
            await reader

    run(main())


def test_the_end_reaches_every_reader():
    async def main():
        stream = EventStream(_source(0.02))
        results = await asyncio.gather(stream.next(), stream.next(), return_exceptions=True)
        await stream.aclose()
        return [type(r).__name__ for r in results]

    assert run(main()) == ["StopAsyncIteration", "StopAsyncIteration"]


def test_quick_items_leave_the_heartbeat_timer_where_it_is():
    # One timer per stream, not one per wait: items that end long waits early never
    # touch it, and it is gone once the stream has ended.
    async def main():
        stream = EventStream(_source(*(x for i in range(20) for x in (0.001, i))))
        await stream.next(10.0)
        timer = stream._timer
        timers = set()
        while True:
            try:
                await stream.next(10.0)
            except StopAsyncIteration:
                break
            timers.add(id(stream._timer))
        return timer is not None, timers == {id(timer)}, stream._timer

    assert run(main()) == (True, True, None)


@pytest.mark.parametrize(
    ("steps", "first_wait", "second_wait", "expected", "bounds"),
    [
        # shorter after longer: the timer set 4 s ahead is moved to 50 ms
        (("a", 3.0, "late"), 4.0, 0.05, None, (0.04, 1.0)),
        # longer after shorter: the timer set 50 ms ahead fires, and the wait goes on
        (("a", 0.3, "b", 5.0, "late"), 0.05, 1.0, "b", (0.25, 1.0)),
    ],
)
def test_a_wait_ends_at_its_own_deadline_whatever_the_last_wait_set(
    steps, first_wait, second_wait, expected, bounds
):
    async def main():
        loop = asyncio.get_running_loop()
        stream = EventStream(_source(*steps))
        assert await stream.next(first_wait) == "a"
        started = loop.time()
        item = await stream.next(second_wait)
        waited = loop.time() - started
        await stream.aclose()
        return item, waited

    item, waited = run(main())
    assert item == expected
    assert bounds[0] <= waited < bounds[1]


def test_opened_waits_for_the_first_item_without_reading_it():
    async def main():
        stream = EventStream(_source(0.05, "a", "b"))
        early = await stream.opened(0.001)
        later = await stream.opened(1.0)
        again = await stream.opened(0)  # already open: answers at once
        items = [await stream.next(0), await stream.next(1.0)]
        await stream.aclose()
        return early, later, again, items

    assert run(main()) == (False, True, True, ["a", "b"])


def test_opened_raises_a_failure_before_the_first_item_and_an_empty_stream_is_open():
    async def failing():
        await asyncio.sleep(0.01)
        raise ValueError("before anything")
        yield  # pragma: no cover

    async def main():
        stream = EventStream(failing())
        with pytest.raises(ValueError):
            await stream.opened(1.0)
        with pytest.raises(StopAsyncIteration):
            await stream.next(0)
        empty = EventStream(_source())
        assert await empty.opened(1.0) is True
        with pytest.raises(StopAsyncIteration):
            await empty.next(0)
        await stream.aclose()
        await empty.aclose()

    run(main())
