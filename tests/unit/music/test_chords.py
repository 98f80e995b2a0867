"""Chord symbols: reading, the canonical symbol, the spelled notes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.music import CHORD_KINDS, Chord, Interval, MusicParseError, parse_chord
from tests.unit.music.strategies import chord_texts, roots, spelled_pitches

SPELLINGS = [
    ("C", "C", "C E G"), ("Am", "Am", "A C E"), ("Bdim", "Bdim", "B D F"), ("Caug", "Caug", "C E G#"),
    ("Csus2", "Csus2", "C D G"), ("Dsus4", "Dsus4", "D G A"), ("Esus", "Esus4", "E A B"),
    ("G5", "G5", "G D"), ("F6", "F6", "F A C D"), ("Am6", "Am6", "A C E F#"), ("C6/9", "C6/9", "C E G A D"),
    ("G7", "G7", "G B D F"), ("Fmaj7", "Fmaj7", "F A C E"), ("Dm7", "Dm7", "D F A C"),
    ("F#m7b5", "F#m7b5", "F# A C E"), ("Bbdim7", "Bbdim7", "Bb Db Fb Abb"),
    ("CmMaj7", "CmMaj7", "C Eb G B"), ("G7sus4", "G7sus4", "G C D F"), ("Cadd9", "Cadd9", "C E G D"),
    ("Emadd9", "Emadd9", "E G B F#"), ("Cadd11", "Cadd11", "C E G F"), ("D9", "D9", "D F# A C E"),
    ("Ebmaj9", "Ebmaj9", "Eb G Bb D F"), ("Am9", "Am9", "A C E G B"), ("G11", "G11", "G B D F A C"),
    ("Dm11", "Dm11", "D F A C E G"), ("C13", "C13", "C E G Bb D A"), ("Fmaj13", "Fmaj13", "F A C E G D"),
    ("Gm13", "Gm13", "G Bb D F A C E"), ("G7b9", "G7(b9)", "G B D F Ab"), ("E7#9", "E7(#9)", "E G# B D F##"),
    ("C7b9#11", "C7(b9,#11)", "C E G Bb Db F#"), ("Bb7(#5)", "Bb7(#5)", "Bb D F# Ab"),
    ("Cmaj7#11", "Cmaj7(#11)", "C E G B F#"), ("A13b9", "A13(b9)", "A C# E G Bb F#"),
    ("F/G", "F/G", "F A C"), ("C/E", "C/E", "C E G"), ("Bb7/Ab", "Bb7/Ab", "Bb D F Ab"),
    ("C(b5)", "C(b5)", "C E Gb"), ("Cb5", "Cb5", "Cb Gb"),
]  # fmt: skip
ALIASES = [
    ("Cmin7", "Cm7"), ("C-7", "Cm7"), ("Cmi7", "Cm7"), ("CM7", "Cmaj7"), ("CΔ7", "Cmaj7"), ("CΔ", "Cmaj7"),
    ("Cø", "Cm7b5"), ("Cø7", "Cm7b5"), ("Cm7(b5)", "Cm7b5"), ("C-7b5", "Cm7b5"), ("C°7", "Cdim7"),
    ("Co7", "Cdim7"), ("C°", "Cdim"), ("C+", "Caug"), ("Caug7", "C7(#5)"), ("C+7", "C7(#5)"),
    ("Cm(maj7)", "CmMaj7"), ("CmM7", "CmMaj7"), ("C-", "Cm"), ("Cmaj", "C"), ("C69", "C6/9"),
    ("C6add9", "C6/9"), ("Cadd2", "Cadd9"), ("Cadd4", "Cadd11"), ("C7(b9, #11)", "C7(b9,#11)"),
    ("C7#11b9", "C7(b9,#11)"), ("C♭maj7", "Cbmaj7"), ("Ｇ７", "G7"), ("C(add9)", "Cadd9"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "symbol", "notes"), SPELLINGS)
def test_chord_symbols_are_spelled_from_the_root(text, symbol, notes):
    chord = parse_chord(text)
    assert chord.symbol == symbol
    assert " ".join(note.name for note in chord.notes) == notes


@pytest.mark.parametrize(("text", "symbol"), ALIASES)
def test_the_usual_ways_of_writing_a_chord_are_read(text, symbol):
    assert parse_chord(text).symbol == symbol


@pytest.mark.parametrize("text", ["", "H7", "c", "Cx7", "C/9", "C/H", "C9add9", "Cmaj11", "Cm+", "7"])
def test_an_unreadable_chord_names_the_text(text):
    with pytest.raises(MusicParseError) as error:
        parse_chord(text)
    assert repr(text) in error.value.detail and error.value.kind == "chord"


@given(chord_texts())
def test_a_symbol_reads_back_to_the_same_chord(text):
    try:
        chord = parse_chord(text)
    except MusicParseError as error:  # e.g. an add9 on a chord that has a ninth
        assert repr(text) in error.detail
        return
    assert parse_chord(chord.symbol) == chord
    assert parse_chord(chord.symbol).symbol == chord.symbol


@given(chord_texts(), spelled_pitches)
def test_transposing_a_chord_moves_every_tone_alike(text, target):
    try:
        chord = parse_chord(text)
    except MusicParseError:
        return
    interval = chord.root.interval_to(target)
    moved = chord.transpose(interval)
    shift = interval.semitones
    assert moved.root == target
    assert moved.pitch_classes == frozenset((pc + shift) % 12 for pc in chord.pitch_classes)
    assert moved.intervals == chord.intervals
    assert parse_chord(moved.symbol) == moved


@given(st.sampled_from(sorted(CHORD_KINDS)), roots)
def test_every_kind_has_a_root_and_a_distinct_sound(kind, root):
    chord = Chord(root, kind)
    assert chord.intervals[0] == Interval(0) and chord.notes[0] == root
    assert parse_chord(chord.symbol) == chord


def test_kinds_sound_different():
    shapes = {kind: frozenset(i.semitones % 12 for i in intervals) for kind, intervals in CHORD_KINDS.items()}
    assert len(set(shapes.values())) == len(shapes)


def test_midi_pitches_put_a_slash_bass_below():
    assert parse_chord("C").midi() == (60, 64, 67)
    assert parse_chord("F/G").midi() == (55, 65, 69, 72)
    assert parse_chord("C/E").midi(3) == (40, 48, 52, 55)
    with pytest.raises(ValueError):
        parse_chord("C13").midi(9)


def test_chord_thirds():
    assert parse_chord("Cm7").third == "minor" and parse_chord("C7").third == "major"
    assert parse_chord("Csus4").third is None and parse_chord("C5").third is None
    assert parse_chord("F/G").pitch_classes == frozenset({5, 9, 0, 7})
