"""Morae, vowels and rhyme keys of kana (dawai.core.ghost.kana)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.ghost.kana import is_kana, mora_count, mora_vowels, morae, rhyme_key, to_hiragana

HIRAGANA = (
    "あいうえおかきくけこがぎぐげごさしすせそざじずぜぞたちつてとだでどなにぬねの"
    "はひふへほばびぶべぼぱぴぷぺぽまみむめもやゆよらりるれろわをんっゃゅょぁぃぅぇぉー"
)
SMALL = "ゃゅょぁぃぅぇぉゎ"
kana_text = st.text(alphabet=HIRAGANA, max_size=30)
mixed_text = st.text(alphabet=HIRAGANA + "漢字abc 、。!😀\n", max_size=30)


def to_katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


@pytest.mark.parametrize(
    ("text", "count", "vowels"),
    [
        ("きゃっと", 3, "aQo"),
        ("がっこう", 4, "aQou"),
        ("ラーメン", 4, "aaeN"),
        ("ちぇんじ", 3, "eNi"),
        ("ファイト", 3, "aio"),
        ("しゅんかん", 4, "uNaN"),
        ("ーあ", 2, "aa"),
        ("ゃあ", 2, "aa"),  # a small kana with nothing to join counts on its own
        ("んー", 2, "NN"),
        ("夜空 よぞら!", 3, "ooa"),
        ("", 0, ""),
    ],
)
def test_morae_examples(text, count, vowels):
    assert mora_count(text) == count
    assert "".join(mora_vowels(text)) == vowels


@given(kana_text)
def test_morae_cover_every_kana_once(text):
    assert "".join(morae(text)) == to_hiragana(text)
    assert mora_count(text) <= len(text)


@given(mixed_text)
def test_non_kana_is_skipped_and_count_is_bounded(text):
    kana_only = "".join(c for c in text if is_kana(c))
    assert morae(text) == morae(kana_only)
    assert len(mora_vowels(text)) == mora_count(text) <= len(kana_only)
    assert set("".join(mora_vowels(text))) <= set("aiueoNQ")


@given(kana_text)
def test_katakana_and_hiragana_sound_alike(text):
    assert mora_vowels(to_katakana(text)) == mora_vowels(text)
    assert rhyme_key(to_katakana(text)) == rhyme_key(text)


@given(kana_text, st.integers(1, 4))
def test_rhyme_key_is_the_last_vowels(text, size):
    key = rhyme_key(text, size)
    assert key == "".join(mora_vowels(text)[-size:])
    assert len(key) == min(size, mora_count(text))


@given(kana_text, kana_text)
def test_rhyme_key_depends_only_on_the_ending(start, ending):
    if mora_count(ending) >= 2 and ending[0] not in SMALL + "ー":
        assert rhyme_key(start + ending) == rhyme_key(ending)


def test_rhyme_key_refuses_zero_morae():
    with pytest.raises(ValueError, match="at least 1"):
        rhyme_key("あ", 0)
