"""Roman numerals in a key, both ways, in all 24 keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.music import (
    Chord,
    Mode,
    MusicParseError,
    RomanNumeral,
    all_keys,
    diatonic_chords,
    parse_chord,
    parse_key,
    parse_roman,
    roman_for,
)
from tests.unit.music.strategies import add_sets, alteration_sets, canonical_keys, chord_kinds, roots

C, A_MINOR = parse_key("C"), parse_key("A minor")


@st.composite
def numerals(draw: st.DrawFn, *, secondary: bool = True) -> RomanNumeral:
    """A numeral as parse_roman builds it: a canonical chord quality on an altered degree."""
    suffix = draw(chord_kinds)
    alterations = draw(alteration_sets)
    if alterations:
        suffix += f"({','.join(alterations)})"
    suffix += "".join(f"add{add}" for add in draw(add_sets))
    try:
        quality = parse_chord("C" + suffix)
    except MusicParseError:
        quality = parse_chord("C" + draw(chord_kinds))
    of: tuple[RomanNumeral, ...] = ()
    if secondary and draw(st.booleans()):
        of = (RomanNumeral(draw(st.integers(1, 7)), 0, draw(st.sampled_from(["", "m"]))),)
    bass = None
    if draw(st.booleans()):
        bass = (draw(st.integers(1, 7)), draw(st.integers(-1, 1)))
    return RomanNumeral(
        draw(st.integers(1, 7)),
        draw(st.integers(-1, 1)),
        quality.kind,
        quality.alterations,
        quality.adds,
        of,
        bass,
    )


@pytest.mark.parametrize(
    ("numeral", "in_c", "in_a_minor"),
    [("I", "C", "A"), ("V", "G", "E"), ("vi", "Am", "F#m"), ("IV", "F", "D"), ("ii7", "Dm7", "Bm7"),
     ("V7/V", "D7", "B7"), ("bVII", "Bb", "G"), ("iv", "Fm", "Dm"), ("bVI", "Ab", "F"), ("i", "Cm", "Am"),
     ("IVmaj7", "Fmaj7", "Dmaj7"), ("III7", "E7", "C#7"), ("vii°7", "Bdim7", "G#dim7"),
     ("iiø7", "Dm7b5", "Bm7b5"), ("V7(b9)", "G7(b9)", "E7(b9)"), ("Iadd9", "Cadd9", "Aadd9"),
     ("VIm7", "Am7", "F#m7"), ("III+", "Eaug", "C#aug"), ("V/V/V", "A", "F#"),
     ("vii°7/ii", "C#dim7", "A#dim7"),
     ("IV/5", "F/G", "D/E"), ("I/3", "C/E", "A/C#"), ("bII/4", "Db/F", "Bb/D"), ("#iv°7", "F#dim7", "D#dim7"),
     ("i6/9", "Cm6/9", "Am6/9"), ("V7sus4", "G7sus4", "E7sus4"), ("imaj7", "CmMaj7", "AmMaj7"),
     ("♭VII", "Bb", "G"), ("V+7", "G7(#5)", "E7(#5)")],
)  # fmt: skip
def test_numerals_in_a_key(numeral, in_c, in_a_minor):
    assert parse_roman(numeral).chord(C).symbol == in_c
    assert parse_roman(numeral).chord(A_MINOR).symbol == in_a_minor


def test_degrees_counted_on_the_key_s_own_scale():
    assert parse_roman("VII").chord(A_MINOR, "diatonic").symbol == "G"
    assert parse_roman("III").chord(A_MINOR, "diatonic").symbol == "C"
    assert parse_roman("#vii°7").chord(A_MINOR, "diatonic").symbol == "G#dim7"
    assert str(roman_for(parse_chord("F"), A_MINOR, "diatonic")) == "VI"


@pytest.mark.parametrize(
    ("chord", "plain", "secondary"),
    [("D7", "II7", "V7/V"), ("E7", "III7", "V7/vi"), ("A7", "VI7", "V7/ii"), ("F#dim7", "#iv°7", "vii°7/V"),
     ("C#dim7", "#i°7", "vii°7/ii"), ("G7", "V7", "V7"), ("Bb", "bVII", "bVII"), ("B7", "VII7", "V7/iii"),
     ("F/G", "IV/5", "IV/5"), ("Am", "vi", "vi"), ("D7/F#", "II7/#4", "V7/V/#4")],
)  # fmt: skip
def test_chords_are_named_in_a_key(chord, plain, secondary):
    assert str(roman_for(parse_chord(chord), C)) == plain
    assert str(roman_for(parse_chord(chord), C, secondary=True)) == secondary
    assert roman_for(parse_chord(chord), C, secondary=True).chord(C) == parse_chord(chord)


@pytest.mark.parametrize("text", ["", "VIII", "x", "Vii", "iv+", "I/9", "V/H", "IV/8", "C"])
def test_an_unreadable_numeral_names_the_text(text):
    with pytest.raises(MusicParseError) as error:
        parse_roman(text)
    assert repr(text) in error.value.detail


@given(numerals())
def test_a_numeral_reads_back(numeral):
    assert parse_roman(str(numeral)) == numeral


@given(numerals(secondary=False), canonical_keys, st.sampled_from(["major", "diatonic"]))
def test_numeral_to_chord_to_numeral_in_every_key(numeral, key, degrees):
    chord = numeral.chord(key, degrees)
    assert roman_for(chord, key, degrees) == numeral


@given(numerals(), canonical_keys)
def test_a_numeral_moves_with_its_key(numeral, key):
    moved_key = key.transpose(5)
    a, b = numeral.chord(key), numeral.chord(moved_key)
    assert b.pitch_classes == frozenset((pc + 5) % 12 for pc in a.pitch_classes)


@given(roots, chord_kinds, canonical_keys, st.booleans())
def test_chord_to_numeral_to_chord_in_every_key(root, kind, key, secondary):
    chord = Chord(root, kind)
    assert roman_for(chord, key, secondary=secondary).chord(key) == chord


@pytest.mark.parametrize("key", all_keys(), ids=str)
def test_diatonic_chords_have_the_textbook_numerals(key):
    names = [str(roman_for(chord, key)) for chord in diatonic_chords(key)]
    sevenths = [str(roman_for(chord, key)) for chord in diatonic_chords(key, sevenths=True)]
    diatonic = [str(roman_for(chord, key, "diatonic")) for chord in diatonic_chords(key)]
    if key.mode is Mode.MAJOR:
        assert names == diatonic == ["I", "ii", "iii", "IV", "V", "vi", "vii°"]
        assert sevenths == ["Imaj7", "ii7", "iii7", "IVmaj7", "V7", "vi7", "viiø7"]
    else:
        assert names == ["i", "ii°", "bIII", "iv", "v", "bVI", "bVII"]
        assert diatonic == ["i", "ii°", "III", "iv", "v", "VI", "VII"]
        assert sevenths == ["i7", "iiø7", "bIIImaj7", "iv7", "v7", "bVImaj7", "bVII7"]
