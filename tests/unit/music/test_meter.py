"""Time signatures and the bar grid: parsing, and seconds <-> bars and beats."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.music import MusicParseError
from dawai.core.music.meter import BarGrid, TimeSignature, parse_time_signature


@pytest.mark.parametrize(
    ("text", "beats", "unit"),
    [("4/4", 4, 4), ("3/4", 3, 4), ("6/8", 6, 8), ("12/8", 12, 8), (" 7 / 8 ", 7, 8), ("5:4", 5, 4),
     ("４/４", 4, 4), ("2/2", 2, 2)],
)  # fmt: skip
def test_time_signatures_as_musicians_write_them(text: str, beats: int, unit: int):
    signature = parse_time_signature(text)
    assert (signature.beats, signature.unit) == (beats, unit)
    assert parse_time_signature(str(signature)) == signature


@pytest.mark.parametrize("text", ["", "4", "4/3", "0/4", "33/4", "4/64", "four/four", "4/4/4", "-4/4"])
def test_unreadable_time_signatures_name_the_text(text: str):
    with pytest.raises(MusicParseError) as raised:
        parse_time_signature(text)
    assert repr(text) in raised.value.detail


def test_grid_in_seconds():
    grid = BarGrid(120.0, TimeSignature(4, 4))
    assert (grid.beat_seconds, grid.bar_seconds) == (0.5, 2.0)
    assert grid.seconds(5, 3) == 9.0
    six_eight = BarGrid(90.0, TimeSignature(6, 8))
    assert six_eight.bar_seconds == pytest.approx(2.0)  # three quarters at 90 BPM
    assert six_eight.bar_at(1.999999999999) == 2  # a hair before the barline counts as on it
    assert six_eight.bar_at(1.9) == 1
    assert grid.bars_in(0) == 0
    assert grid.bars_in(2.0) == 1
    assert grid.bars_in(2.01) == 2
    with pytest.raises(ValueError, match="count from 1"):
        grid.seconds(0)
    with pytest.raises(ValueError, match="positive"):
        BarGrid(0.0)


@given(
    st.floats(20, 300),
    st.sampled_from([TimeSignature(b, u) for b in (2, 3, 4, 5, 6, 7, 12) for u in (4, 8)]),
    st.integers(1, 500),
    st.floats(0, 0.999),
)
def test_a_time_inside_a_bar_maps_back_to_that_bar(
    tempo: float, signature: TimeSignature, bar: int, part: float
):
    grid = BarGrid(tempo, signature)
    start = grid.seconds(bar)
    assert grid.bar_at(start) == bar
    assert grid.bar_at(start + part * grid.bar_seconds * 0.999) == bar


@pytest.mark.parametrize(
    ("text", "groups", "starts", "compound"),
    [
        ("4/4", (2, 2), (0.0, 2.0), False),
        ("3/4", (3,), (0.0,), False),
        ("2/4", (2,), (0.0,), False),
        ("6/8", (3, 3), (0.0, 1.5), True),
        ("9/8", (3, 3, 3), (0.0, 1.5, 3.0), True),
        ("12/8", (3, 3, 3, 3), (0.0, 1.5, 3.0, 4.5), True),
        ("5/4", (3, 2), (0.0, 3.0), False),
        ("7/8", (3, 2, 2), (0.0, 1.5, 2.5), False),
        ("5/8", (3, 2), (0.0, 1.5), False),
        ("6/4", (2, 2, 2), (0.0, 2.0, 4.0), False),
    ],
)
def test_beats_group_as_musicians_count_them(text, groups, starts, compound):
    signature = parse_time_signature(text)
    assert (signature.groups, signature.group_starts, signature.compound) == (groups, starts, compound)


@given(st.integers(1, 32), st.sampled_from([1, 2, 4, 8, 16, 32]))
def test_the_groups_fill_the_bar_in_twos_and_threes(beats: int, unit: int):
    signature = TimeSignature(beats, unit)
    assert sum(signature.groups) == beats
    assert all(size in (2, 3) for size in signature.groups) or signature.groups == (beats,)
    assert signature.group_starts[0] == 0
    assert all(a < b < signature.quarters_per_bar for a, b in itertools.pairwise(signature.group_starts))
