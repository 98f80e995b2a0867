"""Voice leading: least total motion, within range, deterministic."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.core.music import Chord, chord_tones_for_voices, parse_chord, voice_lead
from tests.unit.music.strategies import chord_kinds, roots

chords = st.builds(Chord, roots, chord_kinds)


def _motion(a, b):
    return sum(abs(x - y) for x, y in zip(a, b, strict=True))


def _all_voicings(chord, voices, low, high, spread):
    tones = chord_tones_for_voices(chord, voices)
    pitches = [[n for n in range(low, high + 1) if n % 12 == tone] for tone in tones]
    found = {tuple(sorted(c)) for c in itertools.product(*pitches)}
    return sorted(v for v in found if len(set(v)) == voices and v[-1] - v[0] <= spread)


@pytest.mark.parametrize(
    ("symbol", "voices", "tones"),
    [("C", 4, (0, 4, 7, 0)), ("G7", 4, (7, 11, 5, 2)), ("C13", 4, (0, 4, 10, 9)), ("Dbmaj9", 4, (1, 5, 0, 3)),
     ("F/G", 4, (7, 5, 9, 0)), ("C/E", 3, (4, 0, 7)), ("C5", 4, (0, 7, 0, 7)), ("Csus4", 3, (0, 5, 7))],
)  # fmt: skip
def test_the_tones_kept_for_a_number_of_voices(symbol, voices, tones):
    assert chord_tones_for_voices(parse_chord(symbol), voices) == tones


def test_a_pop_progression_moves_by_step():
    voicings = voice_lead([parse_chord(s) for s in ("C", "G", "Am", "F")], voices=3)
    for a, b in itertools.pairwise(voicings):
        assert all(abs(x - y) <= 2 for x, y in zip(a, b, strict=True))
    assert voicings == ((55, 60, 64), (55, 59, 62), (57, 60, 64), (57, 60, 65))


@settings(max_examples=60, deadline=None)
@given(st.lists(chords, min_size=1, max_size=6), st.integers(36, 60), st.integers(3, 5))
def test_voicings_are_in_range_and_sound_the_chord(sequence, low, voices):
    high = low + 12 * max(2, voices - 2)  # room for every tone a power chord has to double
    voicings = voice_lead(sequence, low=low, high=high, voices=voices)
    assert voicings == voice_lead(sequence, low=low, high=high, voices=voices)
    for chord, voicing in zip(sequence, voicings, strict=True):
        assert len(voicing) == voices and list(voicing) == sorted(set(voicing))
        assert all(low <= note <= high for note in voicing)
        assert {note % 12 for note in voicing} <= chord.pitch_classes
        assert set(chord_tones_for_voices(chord, voices)) == {note % 12 for note in voicing}


@settings(max_examples=40, deadline=None)
@given(st.lists(chords, min_size=2, max_size=3), st.integers(48, 55))
def test_no_other_choice_moves_less(sequence, low):
    high, voices, spread = low + 19, 3, 12
    layers = [_all_voicings(chord, voices, low, high, spread) for chord in sequence]
    if not all(layers):
        return  # the fallbacks apply; the plain case is what is compared here
    best = min(sum(_motion(a, b) for a, b in itertools.pairwise(path)) for path in itertools.product(*layers))
    chosen = voice_lead(sequence, low=low, high=high, voices=voices, max_spread=spread)
    assert sum(_motion(a, b) for a, b in itertools.pairwise(chosen)) == best


def test_a_slash_chord_keeps_its_bass_at_the_bottom():
    for voicing, chord in zip(
        voice_lead([parse_chord(s) for s in ("C", "C/E", "F/G", "G7/B")]), ("C", "E", "G", "B"), strict=True
    ):
        assert voicing[0] % 12 == parse_chord(chord).root.pc


def test_a_range_too_narrow_is_refused():
    with pytest.raises(ValueError):
        voice_lead([parse_chord("C13")], low=60, high=62, voices=4)
    with pytest.raises(ValueError):
        voice_lead([parse_chord("C")], low=100, high=130)
    assert voice_lead([]) == ()
