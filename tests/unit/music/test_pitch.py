"""Spelled pitches, intervals and MIDI note names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.music import Interval, MusicParseError, SpelledPitch, midi_name, parse_midi_name, parse_pitch
from tests.unit.music.strategies import spelled_pitches

INTERVAL_NAMES = "P1 m2 M2 m3 M3 P4 A4 d5 P5 A5 m6 M6 d7 m7 M7 P8 m9 M9 A9 P11 A11 P12 m13 M13 dd5 AA4"


@pytest.mark.parametrize(
    ("text", "name", "pc"),
    [("C", "C", 0), ("f#", "F#", 6), ("Bb", "Bb", 10), ("E♭", "Eb", 3), ("G##", "G##", 9),
     ("Fx", "F##", 7), ("Cbb", "Cbb", 10), ("B#", "B#", 0), ("Ｃ＃", "C#", 1)],
)  # fmt: skip
def test_pitches_are_read_with_any_accidental_mark(text, name, pc):
    pitch = parse_pitch(text)
    assert (pitch.name, pitch.pc) == (name, pc)


@pytest.mark.parametrize("text", ["", "H", "C#b", "c4", "Do"])
def test_a_pitch_that_cannot_be_read_names_the_text(text):
    with pytest.raises(MusicParseError) as error:
        parse_pitch(text)
    assert repr(text) in error.value.detail


@given(spelled_pitches)
def test_a_pitch_name_reads_back_to_the_same_spelling(pitch):
    assert parse_pitch(pitch.name) == pitch


@pytest.mark.parametrize("name", INTERVAL_NAMES.split())
def test_interval_names_read_back(name):
    assert Interval.parse(name).name == name


def test_interval_sizes():
    sizes = {name: Interval.parse(name).semitones for name in INTERVAL_NAMES.split()}
    assert sizes["m3"] == 3 and sizes["A4"] == sizes["d5"] == 6 and sizes["P8"] == 12
    assert sizes["M9"] == 14 and sizes["A11"] == 18 and sizes["M13"] == 21 and sizes["d7"] == 9


@pytest.mark.parametrize("text", ["M5", "P3", "m4", "x3", "P0", ""])
def test_an_interval_that_does_not_exist_is_refused(text):
    with pytest.raises(MusicParseError):
        Interval.parse(text)


@given(spelled_pitches, spelled_pitches)
def test_the_interval_between_two_pitches_takes_one_to_the_other(a, b):
    interval = a.interval_to(b)
    assert a.transpose(interval) == b
    assert (a.pc + interval.semitones) % 12 == b.pc
    assert interval.number == ("CDEFGAB".index(b.letter) - "CDEFGAB".index(a.letter)) % 7 + 1


@given(st.integers(0, 36))
def test_the_usual_spelling_of_a_size_has_that_size(semitones):
    assert Interval.from_semitones(semitones).semitones == semitones


def test_spelling_by_interval_keeps_letters():
    assert SpelledPitch.of("B").transpose(Interval.parse("M3")).name == "D#"
    assert SpelledPitch.of("F", 1).transpose(Interval.parse("m3")).name == "A"
    assert SpelledPitch.of("E").transpose(Interval.parse("A9")).name == "F##"


@pytest.mark.parametrize(
    ("name", "note"),
    [("C4", 60), ("A4", 69), ("C-1", 0), ("G9", 127), ("C#4", 61), ("Db4", 61), ("B#3", 60),
     ("Cb4", 59), ("Bb3", 58), (" e♭5 ", 75)],
)  # fmt: skip
def test_midi_names_use_c4_as_60(name, note):
    assert parse_midi_name(name) == note


@pytest.mark.parametrize("name", ["C", "H4", "G#9", "Cb-1", "C4.5"])
def test_a_note_name_outside_midi_or_without_octave_is_refused(name):
    with pytest.raises(MusicParseError) as error:
        parse_midi_name(name)
    assert repr(name) in error.value.detail


@given(st.integers(0, 127))
def test_every_midi_note_is_named_and_read_back(note):
    assert parse_midi_name(midi_name(note)) == note


@given(st.integers(0, 127), spelled_pitches)
def test_a_note_keeps_the_spelling_it_is_given(note, spelling):
    note = note - note % 12 + spelling.pc
    if not 0 <= note <= 127:
        return
    name = midi_name(note, spelling)
    assert name.startswith(spelling.name) and parse_midi_name(name) == note


def test_midi_name_refuses_a_spelling_of_another_pitch_class():
    with pytest.raises(ValueError):
        midi_name(60, SpelledPitch.of("D"))
    with pytest.raises(ValueError):
        midi_name(128)
