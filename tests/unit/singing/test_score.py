"""Checks, limits and the normal form of a synthesis request (dawai.core.singing.score)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.errors import InvalidInput, TooLarge
from dawai.core.models import SynthesisNote, SynthesisRequest
from dawai.core.singing import SingingLimits, cache_key, prepare

LIMITS = SingingLimits(max_seconds=60)


def request(*notes: SynthesisNote, **extra) -> SynthesisRequest:
    return SynthesisRequest(voice="default", notes=notes, **extra)


def fields(exc: InvalidInput) -> list[str]:
    return [e.field for e in exc.errors]


def test_notes_are_sorted_and_lyrics_normalised():
    ready = prepare(request(SynthesisNote(62, 1.0, 0.5, " ｶ "), SynthesisNote(60, 0.0, 1.0, "ka")), LIMITS)
    assert [n.pitch for n in ready.notes] == [60, 62]
    assert ready.notes[1].lyric == "ｶ"


@pytest.mark.parametrize(
    ("notes", "extra", "field"),
    [
        ((), {}, "notes"),
        ((SynthesisNote(120, 0, 1, "a"),), {"key_shift": 12}, "notes[0].pitch"),
        ((SynthesisNote(-1, 0, 1, "a"),), {}, "notes[0].pitch"),
        ((SynthesisNote(60, -0.5, 1, "a"),), {}, "notes[0].start"),
        ((SynthesisNote(60, 0, 0, "a"),), {}, "notes[0].duration"),
        ((SynthesisNote(60, 0, float("nan"), "a"),), {}, "notes[0].duration"),
        ((SynthesisNote(60, 0, 1, "  "),), {}, "notes[0].lyric"),
        ((SynthesisNote(60, 0, 1, "a"), SynthesisNote(60, 0.5, 1, "a")), {}, "notes[1].start"),
        ((SynthesisNote(60, 0, 1, "a"),), {"steps": 0}, "steps"),
    ],
)
def test_each_bad_field_is_named(notes, extra, field):
    with pytest.raises(InvalidInput) as caught:
        prepare(request(*notes, **extra), LIMITS)
    assert field in fields(caught.value)


def test_a_render_past_the_limit_is_too_large():
    with pytest.raises(TooLarge, match=r"singing\.max_render_seconds"):
        prepare(request(SynthesisNote(60, 59.5, 1, "a")), LIMITS)
    prepare(request(SynthesisNote(60, 59, 1, "a")), LIMITS)  # exactly at the limit


@given(st.permutations(range(5)), st.floats(0, 1e-8))
def test_the_cache_key_ignores_order_and_float_noise(order, noise):
    notes = [SynthesisNote(60 + i, i * 0.5, 0.5, "la") for i in range(5)]
    shuffled = [notes[i] for i in order]
    shuffled[0] = SynthesisNote(shuffled[0].pitch, shuffled[0].start + noise, shuffled[0].duration, "la")
    a, b = prepare(request(*notes), LIMITS), prepare(request(*shuffled), LIMITS)
    assert cache_key("v1", a) == cache_key("v1", b)
    assert cache_key("v1", a) != cache_key("v2", a)
    assert cache_key("v1", a) != cache_key("v1", prepare(request(*notes, key_shift=1), LIMITS))
