"""Keys as musicians write them, their scales and how they spell notes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.music import MODES, Key, Mode, MusicParseError, Scale, ScaleType, all_keys, parse_key
from dawai.core.music.pitch import SpelledPitch
from tests.unit.music.strategies import canonical_keys, modal_keys, spelled_pitches

JAPANESE = {
    "ハ長調": "C major", "変ニ長調": "Db major", "ニ長調": "D major", "変ホ長調": "Eb major",
    "ホ長調": "E major", "ヘ長調": "F major", "嬰ヘ長調": "F# major", "ト長調": "G major",
    "変イ長調": "Ab major", "イ長調": "A major", "変ロ長調": "Bb major", "ロ長調": "B major",
    "ハ短調": "C minor", "嬰ハ短調": "C# minor", "ニ短調": "D minor", "変ホ短調": "Eb minor",
    "ホ短調": "E minor", "ヘ短調": "F minor", "嬰ヘ短調": "F# minor", "ト短調": "G minor",
    "嬰ト短調": "G# minor", "イ短調": "A minor", "変ロ短調": "Bb minor", "ロ短調": "B minor",
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "name"),
    [("C", "C major"), ("C major", "C major"), ("Am", "A minor"), ("A minor", "A minor"),
     ("F#m", "F# minor"), ("Bb major", "Bb major"), ("Eb", "Eb major"), ("C# minor", "C# minor"),
     ("bbm", "Bb minor"), ("Cmaj", "C major"), ("CM", "C major"), ("Cmin", "C minor"),
     ("C-", "C minor"), ("c minor", "C minor"), ("A♭ Major", "Ab major"), ("Ｆ＃ｍ", "F# minor"),
     ("key of G", "G major"), ("E minor key", "E minor"), ("D dorian", "D dorian"),
     ("E Phrygian", "E phrygian"), ("G mixolydian", "G mixolydian"), ("C ionian", "C major"),
     ("A aeolian", "A minor"), ("Cメジャー", "C major"), ("Aマイナー", "A minor"), ("ハ長", "C major")],
)  # fmt: skip
def test_keys_are_read_as_musicians_write_them(text, name):
    assert parse_key(text).name == name


@pytest.mark.parametrize(("text", "name"), JAPANESE.items())
def test_all_24_japanese_key_names_are_read(text, name):
    assert parse_key(text).name == name


def test_every_canonical_key_has_its_japanese_name():
    assert {key.japanese_name: key.name for key in all_keys()} == JAPANESE
    assert parse_key("D dorian").japanese_name is None


@pytest.mark.parametrize("text", ["", "H", "H moll", "C majjor", "ハ", "Cmaj7", "X minor", "C# #"])
def test_an_unreadable_key_names_the_text(text):
    with pytest.raises(MusicParseError) as error:
        parse_key(text)
    assert repr(text) in error.value.detail and error.value.kind == "key"


@pytest.mark.parametrize(
    ("text", "name"),
    [("G# major", "Ab major"), ("Db minor", "C# minor"), ("Fb", "E major"), ("B#", "C major")],
)
def test_a_key_past_seven_accidentals_is_respelled(text, name):
    assert parse_key(text).name == name


def test_a_key_within_seven_keeps_its_spelling():
    assert parse_key("Gb").name == "Gb major" and parse_key("D# minor").name == "D# minor"
    assert parse_key("C# major").signature == 7 and parse_key("Cb major").signature == -7


def test_the_24_keys_are_distinct_and_spelled_with_the_fewest_accidentals():
    keys = all_keys()
    assert len({(key.pitch_class, key.mode) for key in keys}) == 24
    assert all(abs(key.signature) <= 6 for key in keys)
    assert parse_key("F# major") in keys and parse_key("Eb minor") in keys  # the ties of six


@given(modal_keys)
def test_a_key_name_reads_back(key):
    assert parse_key(key.name) == key


@given(spelled_pitches, st.sampled_from(["", "m", " major", " minor", "maj", "min"]))
def test_a_written_key_reads_to_its_tonic_and_mode(tonic, word):
    key = parse_key(tonic.name + word)
    assert key.pitch_class == tonic.pc
    assert key.is_minor == (word.strip() in ("m", "minor", "min"))


@given(modal_keys)
def test_a_scale_uses_each_letter_once(key):
    assert sorted(note.letter for note in key.scale.notes) == sorted("ABCDEFG")


@given(modal_keys)
def test_the_key_signature_counts_the_scale_accidentals(key):
    accidentals = [note.accidental for note in key.scale.notes]
    assert sum(accidentals) == key.signature
    assert not (any(a > 0 for a in accidentals) and any(a < 0 for a in accidentals))


@given(modal_keys)
def test_spelling_never_mixes_sharps_and_flats_within_a_key(key):
    """Except what musicians write themselves: the raised sixth and seventh of a minor key
    with flats (C# in D minor, F# in G minor) are sharps, as in harmonic and melodic minor."""
    spelled = [key.spell(pc) for pc in range(12)]
    raised = {key.tonic.transpose(iv) for iv in ScaleType.MELODIC_MINOR.intervals[5:]}
    others = [note for note in spelled if not (key.mode is Mode.MINOR and note in raised)]
    assert not (any(n.accidental > 0 for n in others) and any(n.accidental < 0 for n in others))
    assert [note.pc for note in spelled] == list(range(12))
    assert all(note in spelled for note in key.scale.notes)


def test_minor_keys_spell_their_leading_tone_raised():
    assert parse_key("D minor").spell(1).name == "C#"
    assert parse_key("C minor").spell(11).name == "B"
    assert parse_key("A minor").spell(8).name == "G#"
    assert parse_key("C major").spell(10).name == "Bb"
    assert parse_key("E major").spell(0).name == "C"


@given(canonical_keys, st.integers(-24, 24))
def test_transposing_a_key_moves_its_tonic_and_keeps_its_mode(key, semitones):
    moved = key.transpose(semitones)
    assert moved.pitch_class == (key.pitch_class + semitones) % 12
    assert moved.mode is key.mode and moved in all_keys()
    assert moved.transpose(-semitones) == key


def test_relative_and_parallel_keys():
    assert parse_key("A minor").relative_major == parse_key("C")
    assert parse_key("Eb").relative_minor == parse_key("C minor")
    assert parse_key("D dorian").relative_major == parse_key("C")
    assert parse_key("F# minor").parallel == parse_key("F# major")


def test_the_seven_modes_are_rotations_of_the_major_scale():
    c_major = Scale(SpelledPitch.of("C"), ScaleType.IONIAN).notes
    for index, mode in enumerate(MODES):
        key = Key(c_major[index], mode)
        assert key.scale.notes == c_major[index:] + c_major[:index]
        assert key.signature == 0


@pytest.mark.parametrize(
    ("kind", "notes"),
    [(ScaleType.HARMONIC_MINOR, "A B C D E F G#"), (ScaleType.MELODIC_MINOR, "A B C D E F# G#"),
     (ScaleType.MAJOR_PENTATONIC, "A B C# E F#"), (ScaleType.MINOR_PENTATONIC, "A C D E G"),
     (ScaleType.BLUES, "A C D Eb E G")],
)  # fmt: skip
def test_other_scales_are_spelled_from_the_tonic(kind, notes):
    scale = Scale(SpelledPitch.of("A"), kind)
    assert " ".join(note.name for note in scale.notes) == notes


def test_scale_notes_in_a_range():
    scale = parse_key("C").scale
    assert scale.midi_notes(60, 72) == (60, 62, 64, 65, 67, 69, 71, 72)
    assert scale.contains(64) and not scale.contains(61) and scale.degree(5).name == "G"
