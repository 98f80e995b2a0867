"""Japanese by sound: kana to morae, each mora's vowel, and rhyme keys from the vowels.

A mora is one beat of Japanese verse: a kana with any small ゃ ゅ ょ ぁ ぃ ぅ ぇ ぉ ゎ after it
(きゃ, ファ), or one of the special morae ん (``N``), っ (``Q``) and the long mark ー (which
repeats the vowel before it). Katakana and hiragana count alike; anything else (kanji,
Latin letters, punctuation) is not kana and is skipped here: kanji reach these functions
only after a reading has turned them into kana.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "is_kana",
    "mora_count",
    "mora_vowels",
    "morae",
    "rhyme_key",
    "to_hiragana",
]

_ROWS: Final = {
    "a": "あかがさざただなはばぱまやらわ",
    "i": "いきぎしじちぢにひびぴみりゐ",
    "u": "うくぐすずつづぬふぶぷむゆるゔ",
    "e": "えけげせぜてでねへべぺめれゑ",
    "o": "おこごそぞとどのほぼぽもよろを",
}
_VOWEL: Final = {kana: vowel for vowel, row in _ROWS.items() for kana in row}
# Small kana: they join the kana before them and give the mora its vowel.
_SMALL: Final = {
    "ゃ": "a",
    "ゅ": "u",
    "ょ": "o",
    "ぁ": "a",
    "ぃ": "i",
    "ぅ": "u",
    "ぇ": "e",
    "ぉ": "o",
    "ゎ": "a",
}
_SPECIAL: Final = {"ん": "N", "っ": "Q"}
_LONG: Final = "ー"
_KATAKANA_FIRST, _KATAKANA_LAST = 0x30A1, 0x30F6  # ァ .. ヶ
_HIRAGANA_SHIFT: Final = 0x60


def to_hiragana(text: str) -> str:
    """Katakana turned into hiragana (ヴ into ゔ); everything else, ー included, as it is."""
    return "".join(
        chr(ord(char) - _HIRAGANA_SHIFT) if _KATAKANA_FIRST <= ord(char) <= _KATAKANA_LAST else char
        for char in text
    )


def is_kana(char: str) -> bool:
    """Whether ``char`` is a hiragana or katakana letter or the long mark ー."""
    folded = to_hiragana(char)
    return folded in _VOWEL or folded in _SMALL or folded in _SPECIAL or folded == _LONG


def morae(text: str) -> list[str]:
    """The morae of the kana in ``text``, in order: ``morae("きゃっと")`` is ``["きゃ", "っ", "と"]``.

    A small kana with nothing to join (at the start, or after a special mora) counts as a mora
    of its own; characters that are not kana are skipped."""
    result: list[str] = []
    joinable = False
    for char in to_hiragana(text):
        if char in _SMALL and joinable:
            result[-1] += char
            joinable = False  # きゃぁ: the second small kana is a mora of its own
        elif char in _VOWEL or char in _SMALL:
            result.append(char)
            joinable = char in _VOWEL
        elif char in _SPECIAL or char == _LONG:
            result.append(char)
            joinable = False
    return result


def mora_vowels(text: str) -> list[str]:
    """One symbol per mora: its vowel ``a i u e o``, ``N`` for ん, ``Q`` for っ; ー repeats the
    vowel before it (``N`` and ``Q`` included), and is ``a`` at the very start."""
    vowels: list[str] = []
    for mora in morae(text):
        last = mora[-1]
        if last in _SMALL:
            vowels.append(_SMALL[last])
        elif last in _VOWEL:
            vowels.append(_VOWEL[last])
        elif last in _SPECIAL:
            vowels.append(_SPECIAL[last])
        else:  # the long mark
            vowels.append(vowels[-1] if vowels else "a")
    return vowels


def mora_count(text: str) -> int:
    """How many morae the kana in ``text`` make."""
    return len(morae(text))


def rhyme_key(text: str, morae_count: int = 2) -> str:
    """The vowels of the last ``morae_count`` morae, joined: ``ひかり`` -> ``"ai"``, ``ゆめ`` -> ``"ue"``,
    ``ーん`` endings included (``せかいじゅう`` -> ``"uu"``). Empty when there is no kana."""
    if morae_count < 1:
        raise ValueError(f"morae_count must be at least 1, not {morae_count}")
    return "".join(mora_vowels(text)[-morae_count:])
