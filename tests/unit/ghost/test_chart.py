"""Chord charts: typed chords read, the key found, the next chords in it (dawai.core.ghost.chart)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.ghost.chart import chart_key, next_numerals, read_token, transition_counts, triad_name
from dawai.core.music import (
    PROGRESSIONS,
    MusicParseError,
    diatonic_chords,
    parse_chord,
    parse_key,
    parse_roman,
)
from tests.unit.music.strategies import canonical_keys, chord_texts


@given(chord_texts())
def test_every_chord_symbol_reads_back_canonically(text):
    try:
        expected = parse_chord(text)
    except MusicParseError:
        token = read_token(text)
        assert token is None or token.chord is None
        return
    token = read_token(text)
    assert token is not None and token.chord == expected
    again = read_token(str(token.chord))
    assert again is not None and again.chord == token.chord


@given(st.text(alphabet="xyzHJKw!?", min_size=1, max_size=8))
def test_words_are_not_chords(text):
    assert read_token(text) is None


@pytest.mark.parametrize("text", ["vi", "V7/V", "bVII", "IV/5", "iiø7", "I"])
def test_roman_numerals_read(text):
    token = read_token(text)
    assert token is not None and token.numeral is not None and token.chord is None


@pytest.mark.parametrize(
    ("chords", "key"),
    [
        ("C G Am F", "C major"),
        ("Am F C G", "C major"),
        ("Dm7 G7", "C major"),
        ("Am7 D7", "G major"),
        ("Em C G D", "G major"),
        ("Cm Bb Ab G", "C minor"),
    ],
)
def test_key_from_the_typed_chords(chords, key):
    tokens = [read_token(text) for text in chords.split()]
    assert chart_key(tokens, None) == parse_key(key)


def test_the_songs_key_wins_and_an_unreadable_one_is_ignored():
    tokens = [read_token("Am")]
    assert chart_key(tokens, "E major") == parse_key("E major")
    assert chart_key(tokens, "not a key") == chart_key(tokens, None)
    assert chart_key([], None) == parse_key("C")


@given(canonical_keys, st.sampled_from([p for p in PROGRESSIONS if p.mode.value in ("ionian", "aeolian")]))
def test_next_chords_follow_the_progression_in_any_key(key, progression):
    numerals = [numeral for numeral, _ in progression.steps]
    if progression.mode.is_minor != key.is_minor or len(numerals) < 2:
        return
    tokens = [read_token(str(numeral.chord(key))) for numeral in numerals[:2]]
    suggested = [triad_name(numeral) for numeral, _ in next_numerals(tokens, key, limit=8)]
    if len(numerals) > 2:
        assert triad_name(numerals[2]) in suggested


@given(canonical_keys, st.integers(1, 11))
def test_suggestions_transpose_with_the_key(key, semitones):
    tokens = [read_token(str(chord)) for chord in diatonic_chords(key)[:3]]
    moved_key = key.transpose(semitones)
    moved = [read_token(str(chord)) for chord in diatonic_chords(moved_key)[:3]]
    assert [str(n) for n, _ in next_numerals(tokens, key)] == [
        str(n) for n, _ in next_numerals(moved, moved_key)
    ]


def test_scores_are_relative_to_the_best():
    scores = [score for _, score in next_numerals([read_token("C")], parse_key("C"))]
    assert scores[0] == 1.0 and all(0 < s <= 1 for s in scores) and scores == sorted(scores, reverse=True)


def test_table_counts():
    transitions, contexts = transition_counts()
    assert transitions > len(PROGRESSIONS) and contexts > 0


def test_triad_name_drops_sevenths_and_bass():
    assert triad_name(parse_roman("vi7")) == "vi"
    assert triad_name(parse_roman("IVmaj7/5")) == "IV"
    assert triad_name(parse_roman("viiø7")) == "vii°"
