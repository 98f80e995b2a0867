"""Chord naming and note figures: voicings built from the chord module name back to their
chord in any inversion and octave; progressions name back bar by bar in all 24 keys."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.core.music import Chord, Key, all_keys, diatonic_chords, find_progression, parse_chord, voice_lead
from dawai.core.music.analysis import CHORD_VOCABULARY, analyse_notes, bar_chords, name_chord
from dawai.core.music.chords import CHORD_KINDS
from dawai.core.music.meter import BarGrid, TimeSignature
from tests.unit.music.strategies import roots


class Note(NamedTuple):
    pitch: int
    time: float
    duration: float


def _weights(pitches: list[int], lengths: list[float] | None = None) -> list[float]:
    weights = [0.0] * 12
    for index, pitch in enumerate(pitches):
        weights[pitch % 12] += lengths[index] if lengths else 1.0
    return weights


def _pcs(root: int, kind: str) -> frozenset[int]:
    return frozenset((root + interval.semitones) % 12 for interval in CHORD_KINDS[kind])


# Pitch-class sets two (root, kind) pairs of the vocabulary share: aug, dim7 and the sus
# chords (Csus2 is Gsus4 over C). Inverted, these name any of their readings.
_READINGS: dict[frozenset[int], int] = {}
for _root in range(12):
    for _kind in CHORD_VOCABULARY:
        _READINGS[_pcs(_root, _kind)] = _READINGS.get(_pcs(_root, _kind), 0) + 1


def _voicing(chord: Chord, inversion: int, octave: int, doubled: bool) -> list[int]:
    pitches = list(chord.midi(octave))
    inversion %= len(pitches)
    pitches = pitches[inversion:] + [p + 12 for p in pitches[:inversion]]
    if doubled:
        pitches.append(pitches[0] + 12)
    return pitches


@given(roots, st.sampled_from(CHORD_VOCABULARY), st.integers(0, 3), st.integers(2, 6), st.booleans())
def test_voicings_name_back_to_their_chord(root, kind: str, inversion: int, octave: int, doubled: bool):
    chord = Chord(root, kind)
    pitches = _voicing(chord, inversion, octave, doubled)
    named = name_chord(_weights(pitches), min(pitches), Key(root))
    assert named is not None
    assert named.pitch_classes == chord.pitch_classes
    assert named.bass_note.pc == min(pitches) % 12
    if inversion % len(chord.intervals) == 0 or _READINGS[_pcs(root.pc, kind)] == 1:
        assert (named.root.pc, named.kind) == (root.pc, kind)
        if inversion % len(chord.intervals) == 0:
            assert named.bass is None
    if inversion % len(chord.intervals) == 0:
        assert named == chord  # spelled as the chord module spells it, in the root's own key


@pytest.mark.parametrize("key", all_keys(), ids=str)
def test_diatonic_chords_name_back_spelled_in_their_key(key: Key):
    for sevenths in (False, True):
        for chord in diatonic_chords(key, sevenths=sevenths):
            pitches = list(chord.midi(3))
            assert name_chord(_weights(pitches), pitches[0], key) == chord


@pytest.mark.parametrize("key", all_keys(), ids=str)
@pytest.mark.parametrize("name", ["canon", "two_five_one", "andalusian", "fifties", "twelve_bar_blues"])
def test_progressions_name_back_bar_by_bar(key: Key, name: str):
    progression = find_progression(name)
    assert progression is not None
    chords = progression.chords(key)
    grid = BarGrid(100.0, TimeSignature(4, 4))
    notes = []
    for bar, (chord, voicing) in enumerate(zip(chords, voice_lead(chords), strict=True)):
        start = bar * grid.bar_seconds
        notes.append(Note(36 + chord.bass_note.pc, start, grid.bar_seconds))
        notes += [Note(pitch, start, grid.bar_seconds) for pitch in voicing]
    named = bar_chords(notes, grid, key)
    assert [c.bar for c in named] == list(range(1, len(chords) + 1))
    for got, chord in zip(named, chords, strict=True):
        assert got.chord.pitch_classes == chord.pitch_classes
        assert (got.chord.root.pc, got.chord.kind) == (chord.root.pc, chord.kind)


@pytest.mark.parametrize(
    ("pitches", "lengths", "bass", "expected"),
    [
        ([60, 64, 67, 62], [1, 1, 1, 0.25], 60, "C"),  # a short passing D stays out
        ([60, 64, 67, 70], [1, 1, 1, 1], 60, "C7"),
        ([64, 67, 72], None, 64, "C/E"),
        ([60, 64, 70], None, 60, "C7"),  # the fifth left out
        ([41, 57, 60, 64], None, 41, "Fmaj7"),
        ([60, 67], None, 60, "C5"),
        ([50, 62, 65, 69, 72], None, 50, "Dm7"),
        ([43, 60, 64, 67], None, 43, "C/G"),
    ],
)
def test_chords_from_weighted_notes(pitches, lengths, bass, expected):
    got = name_chord(_weights(pitches, lengths), bass, Key.canonical(0))
    assert str(got) == expected


def test_a_bass_that_is_no_chord_tone_is_left_out_of_the_symbol():
    weights = _weights([48, 55, 59, 62], [0.25, 1, 1, 1])  # a short passing C under G B D
    assert str(name_chord(weights, 48, Key.canonical(7))) == "G"


def test_too_little_to_name():
    assert name_chord([0.0] * 12) is None
    assert name_chord(_weights([60, 72])) is None
    with pytest.raises(ValueError, match="12"):
        name_chord([1.0] * 11)


def test_note_figures():
    grid = BarGrid(120.0)
    notes = [Note(60, 0.0, 1.0), Note(64, 0.0, 1.0), Note(67, 0.5, 1.0),
             Note(55, 2.0, 3.0), Note(59, 2.0, 2.0), Note(62, 2.0, 2.0)]  # fmt: skip
    figures = analyse_notes(notes, grid, 8.0)
    assert figures.note_count == 6
    assert figures.pitch_range == (55, 67)
    assert figures.density == pytest.approx(0.75)
    assert figures.key is not None
    assert [(c.bar, str(c.chord)) for c in figures.chords] == [(1, "C"), (2, "G")]  # bar 3 holds only G
    drums = analyse_notes(notes, grid, 8.0, pitched=False)
    assert (drums.key, drums.chords, drums.note_count) == (None, (), 6)
    empty = analyse_notes([], grid, 0.0)
    assert (empty.pitch_range, empty.density, empty.key, empty.chords) == (None, 0.0, None, ())


def test_a_long_note_counts_in_every_bar_up_to_the_limit():
    grid = BarGrid(120.0)
    notes = [Note(48, 0.0, 1000.0), Note(55, 0.0, 1000.0)]
    chords = bar_chords(notes, grid, max_bars=16)
    assert [c.bar for c in chords] == list(range(1, 17))
    assert {str(c.chord) for c in chords} == {"C5"}


def test_parse_chord_and_naming_agree_on_slash_chords():
    for text in ("D/F#", "Am7/G", "Fmaj7/A", "Bbm/Db", "E7/G#"):
        chord = parse_chord(text)
        pitches = list(chord.midi(4))
        assert (
            str(name_chord(_weights(pitches), pitches[0], None if "b" not in text else Key.canonical(10)))
            == text
        )


def _bar_chords_bar_by_bar(notes: list[Note], grid: BarGrid, max_bars: int) -> dict[int, str]:
    """The reference: each note walked through every bar it sounds in."""
    bar_length = grid.bar_seconds
    weights: dict[int, list[float]] = {}
    lowest: dict[int, int] = {}
    held: dict[int, int] = {}
    for note in notes:
        start, end = note.time, note.time + note.duration
        bar = grid.bar_at(start)
        while bar <= max_bars and (bar - 1) * bar_length < end:
            bar_start = (bar - 1) * bar_length
            overlap = min(end, bar_start + bar_length) - max(start, bar_start)
            if overlap > 0:
                weights.setdefault(bar, [0.0] * 12)[note.pitch % 12] += overlap
                lowest[bar] = min(lowest.get(bar, 128), note.pitch)
                if overlap >= bar_length / 16:
                    held[bar] = min(held.get(bar, 128), note.pitch)
            bar += 1
    named = {bar: name_chord(w, held.get(bar, lowest[bar])) for bar, w in weights.items()}
    return {bar: str(chord) for bar, chord in named.items() if chord is not None}


_HELD = st.builds(
    Note,
    st.integers(36, 84),
    st.integers(0, 64).map(lambda eighths: eighths / 4),
    st.integers(1, 96).map(lambda eighths: eighths / 4),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_HELD, max_size=12), st.sampled_from([(120.0, 4, 4), (90.0, 3, 4), (150.0, 7, 8)]))
def test_long_notes_name_the_same_chords_as_walking_every_bar(notes, meter):
    tempo, beats, unit = meter
    grid = BarGrid(tempo, TimeSignature(beats, unit))
    found = {c.bar: str(c.chord) for c in bar_chords(notes, grid, max_bars=24)}
    assert found == _bar_chords_bar_by_bar(notes, grid, 24)


class _CountedNote:
    """A note that counts how often its fields are read."""

    reads = 0

    def __init__(self, pitch: int, time: float, duration: float) -> None:
        self._values = (pitch, time, duration)

    def _read(self, index: int) -> Any:
        _CountedNote.reads += 1
        return self._values[index]

    pitch = property(lambda self: self._read(0))
    time = property(lambda self: self._read(1))
    duration = property(lambda self: self._read(2))


def test_a_note_held_across_every_bar_is_read_a_few_times_not_once_a_bar():
    # 20,000 notes an hour long over 512 bars were 10 million steps of one request.
    notes = [_CountedNote((48, 52, 55)[i % 3], 0.0, 3600.0) for i in range(50)]
    _CountedNote.reads = 0
    chords = bar_chords(notes, BarGrid(120.0), max_bars=512)
    assert [c.bar for c in chords] == list(range(1, 513)) and {str(c.chord) for c in chords} == {"C"}
    assert _CountedNote.reads <= 10 * len(notes)
