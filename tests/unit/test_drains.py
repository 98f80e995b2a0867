"""``Drains`` (bootstrap/lifecycle.py): refuse new work, wait up to the timeout, end what is
left, then stop; with small in-memory drainables that record what they were told."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dawai.bootstrap.lifecycle import Drains
from dawai.ports.draining import Drainable


class Work:
    """Open work that ends when ``finish`` is called, or when it is ended."""

    def __init__(self, open_now: int) -> None:
        self.open = open_now
        self.calls: list[str] = []
        self._done = asyncio.Event()
        if not open_now:
            self._done.set()

    def refuse_new(self) -> None:
        self.calls.append("refuse_new")

    @property
    def open_count(self) -> int:
        return self.open

    async def idle(self) -> None:
        await self._done.wait()

    def finish(self) -> None:
        self.open = 0
        self._done.set()

    async def end_open(self) -> None:
        self.calls.append("end_open")
        self.finish()


def test_work_is_a_drainable():
    async def make() -> Work:
        return Work(0)

    assert isinstance(asyncio.run(make()), Drainable)


def test_work_that_finishes_in_time_is_not_ended():
    async def scenario() -> tuple[list[str], list[str]]:
        drains = Drains(timeout=30)
        quick, idle = Work(2), Work(0)
        drains.add("quick", quick)
        drains.add("idle", idle)
        drains.bind()
        stopped = asyncio.Event()
        assert drains.request(stopped.set)
        await asyncio.sleep(0.01)
        assert quick.calls == ["refuse_new"] and not stopped.is_set()
        quick.finish()
        await asyncio.wait_for(stopped.wait(), 5)
        return quick.calls, idle.calls

    assert asyncio.run(scenario()) == (["refuse_new"], ["refuse_new"])


def test_work_still_open_at_the_timeout_is_ended_then_the_server_stops():
    async def scenario() -> list[str]:
        drains = Drains(timeout=0.05)
        slow = Work(1)
        drains.add("slow", slow)
        drains.bind()
        order: list[str] = []
        stopped = asyncio.Event()

        def then() -> None:
            order.extend(slow.calls)
            order.append("stop")
            stopped.set()

        drains.request(then)
        await asyncio.wait_for(stopped.wait(), 5)
        return order

    assert asyncio.run(scenario()) == ["refuse_new", "end_open", "stop"]


def test_a_second_request_cuts_the_wait_short():
    async def scenario() -> list[str]:
        drains = Drains(timeout=3600)
        slow = Work(1)
        drains.add("slow", slow)
        drains.bind()
        stopped = asyncio.Event()
        calls: list[int] = []

        def then() -> None:
            calls.append(1)
            stopped.set()

        drains.request(then)
        await asyncio.sleep(0.01)
        # From another thread, as a signal handler may run: it only schedules.
        second = threading.Thread(target=drains.request, args=(then,))
        second.start()
        second.join()
        await asyncio.wait_for(stopped.wait(), 5)
        await asyncio.sleep(0.01)
        assert calls == [1]  # the server is stopped once
        return slow.calls

    assert asyncio.run(scenario()) == ["refuse_new", "end_open"]


def test_before_start_up_there_is_nothing_to_drain():
    drains = Drains(timeout=1)
    drains.add("streams", Work.__new__(Work))
    assert drains.request(lambda: None) is False


def test_names_are_unique():
    drains = Drains(timeout=1)
    drains.add("streams", Work.__new__(Work))
    with pytest.raises(ValueError, match="already drained"):
        drains.add("streams", Work.__new__(Work))
    assert drains.names == ("streams",)


def test_stop_signals_that_are_not_uvicorns_are_left_alone():
    import signal

    from dawai.bootstrap.lifecycle import drain_on_stop_signals

    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    assert drain_on_stop_signals(Drains(timeout=1)) is False
    assert {sig: signal.getsignal(sig) for sig in before} == before
