"""``RingWindows``, the in-memory moving window, against a reference model; limits notation."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.adapters.http.rate_limit import RingWindows, parse_limit
from dawai.bootstrap.config import ConfigError
from tests.conftest import make_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@given(
    st.integers(1, 6),
    st.integers(1, 5),
    st.lists(st.tuples(st.floats(0, 3, allow_nan=False), st.integers(1, 3)), max_size=60),
)
def test_a_hit_is_let_in_exactly_when_the_window_has_room(limit, expiry, steps):
    clock = Clock()
    windows = RingWindows(clock=clock)
    accepted: list[float] = []

    async def run() -> None:
        for advance, amount in steps:
            clock.now += advance
            inside = [t for t in accepted if t > clock.now - expiry]
            expected = len(inside) + amount <= limit
            assert await windows.acquire_entry("k", limit, expiry, amount) is expected
            if expected:
                accepted.extend([clock.now] * amount)
            start, count = await windows.get_moving_window("k", limit, expiry)
            inside = [t for t in accepted if t > clock.now - expiry]
            assert count == len(inside)
            assert start == (min(inside) if inside else clock.now)

    asyncio.run(run())


def test_n_at_once_then_the_next_is_refused_until_the_first_leaves():
    clock = Clock()
    windows = RingWindows(clock=clock)

    async def run() -> None:
        assert await asyncio.gather(*(windows.acquire_entry("k", 3, 60) for _ in range(4))) == [
            True,
            True,
            True,
            False,
        ]
        clock.now += 59.9
        assert not await windows.acquire_entry("k", 3, 60)
        clock.now += 0.2
        assert await windows.acquire_entry("k", 3, 60)
        assert await windows.acquire_entry("other", 3, 60)

    asyncio.run(run())


def test_keys_are_bounded_stale_ones_going_first():
    clock = Clock()
    windows = RingWindows(max_keys=10, clock=clock)

    async def run() -> None:
        for i in range(10):
            await windows.acquire_entry(f"old{i}", 2, 1)
        clock.now += 5  # every old key's hits have left their window
        await windows.acquire_entry("fresh", 2, 60)
        assert len(windows) == 1
        for i in range(30):
            await windows.acquire_entry(f"busy{i}", 2, 60)
        assert len(windows) <= 10

    asyncio.run(run())


@pytest.mark.parametrize(
    ("text", "amount", "seconds"), [("10/minute", 10, 60), ("100 per hour", 100, 3600), ("5/2 seconds", 5, 2)]
)
def test_limits_notation(text, amount, seconds):
    item = parse_limit(text)
    assert item is not None and (item.amount, item.get_expiry()) == (amount, seconds)


def test_unlimited_and_refusals():
    assert parse_limit("Unlimited") is None
    for bad in ("ten a minute", "1/second;2/minute", ""):
        with pytest.raises(ValueError):
            parse_limit(bad)


def test_settings_take_limits_from_the_environment_and_refuse_bad_ones():
    settings = make_settings(
        {"DAWAI_RATE_LIMIT_CHAT": "10/minute", "DAWAI_RATE_LIMIT_GHOST_TEXT": "unlimited"}
    )
    assert (settings.rate_limits.chat, settings.rate_limits.ghost_text) == ("10/minute", "unlimited")
    assert (settings.rate_limits.synthesis, settings.rate_limits.other) == ("30/minute", "600/minute")
    with pytest.raises(ConfigError, match=r"rate_limits\.synthesis \(from DAWAI_RATE_LIMIT_SYNTHESIS\)"):
        make_settings({"DAWAI_RATE_LIMIT_SYNTHESIS": "lots"})
    with pytest.raises(ConfigError, match="one limit per route class"):
        make_settings({"DAWAI_RATE_LIMIT_OTHER": "1/second;100/minute"})
