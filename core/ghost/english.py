"""English by sound: syllables and rhymes from ARPAbet phones, with a spelling fallback.

Phones are CMUdict's (*night* is ``("N", "AY1", "T")``: vowels carry a stress digit). A word
the dictionary lacks is judged by its spelling: vowel groups for syllables, the last vowel
group and what follows it for the rhyme (``-ight``).

Rhyme strength between two words, the strongest that holds:

- ``MULTI`` (1.0): the last two vowels and everything after them sound alike
  (*morning* / *warning*);
- ``PERFECT`` (0.9): from the last stressed vowel on (*night* / *light*);
- ``NEAR`` (0.6): the same last stressed vowel and final consonants of the same kind
  (*time* / *line*: both nasals), or the same short spelling ending for unknown words;
- ``ASSONANCE`` (0.4): the same last stressed vowel only (*home* / *road*).

The same word twice is not a rhyme (0).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

__all__ = [
    "ASSONANCE",
    "MULTI",
    "NEAR",
    "PERFECT",
    "phone_rhyme_key",
    "rhyme_strength",
    "spelling_rhyme_key",
    "spelling_syllables",
    "syllables_of",
]

MULTI: Final = 1.0
PERFECT: Final = 0.9
NEAR: Final = 0.6
ASSONANCE: Final = 0.4

_VOWEL_GROUP: Final = re.compile(r"[aeiouy]+")
# Consonants of one kind sound close at the end of a rhyme.
_CLASSES: Final = {
    **dict.fromkeys(("P", "B", "T", "D", "K", "G"), "stop"),
    **dict.fromkeys(("M", "N", "NG"), "nasal"),
    **dict.fromkeys(("F", "V", "TH", "DH", "S", "Z", "SH", "ZH", "HH"), "fricative"),
    **dict.fromkeys(("CH", "JH"), "affricate"),
    **dict.fromkeys(("L", "R"), "liquid"),
    **dict.fromkeys(("W", "Y"), "glide"),
}


def _is_vowel(phone: str) -> bool:
    return phone[-1:].isdigit()


def _bare(phone: str) -> str:
    return phone.rstrip("012")


def syllables_of(phones: Sequence[str]) -> int:
    """One syllable per vowel phone."""
    return sum(1 for phone in phones if _is_vowel(phone))


def _vowel_positions(phones: Sequence[str]) -> list[int]:
    return [index for index, phone in enumerate(phones) if _is_vowel(phone)]


def _last_stressed(phones: Sequence[str]) -> int:
    vowels = _vowel_positions(phones)
    if not vowels:
        return -1
    stressed = [index for index in vowels if phones[index][-1] in "12"]
    return stressed[-1] if stressed else vowels[-1]


def phone_rhyme_key(phones: Sequence[str], vowels: int = 1) -> tuple[str, ...]:
    """The phones (stress removed) from the last stressed vowel on (``vowels=1``), or from the
    ``vowels``-th vowel from the end when that starts earlier: the part that must match."""
    start = _last_stressed(phones)
    if start < 0:
        return tuple(_bare(phone) for phone in phones[-2:])
    if vowels > 1:
        positions = _vowel_positions(phones)
        if len(positions) >= vowels:
            start = min(start, positions[-vowels])
    return tuple(_bare(phone) for phone in phones[start:])


def spelling_syllables(word: str) -> int:
    """Vowel groups in the spelling, a final silent ``e`` not counted (``fire`` 1, ``table`` 2);
    0 for a word without letters."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    if not letters:
        return 0
    count = len(_VOWEL_GROUP.findall(letters))
    if letters.endswith("e") and not letters.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    return max(count, 1)


def spelling_rhyme_key(word: str) -> str:
    """The last vowel group and what follows it, a final silent ``e`` looked past:
    ``night`` -> ``ight``, ``fire`` -> ``ire``, ``sky`` -> ``y``."""
    letters = re.sub(r"[^a-z]", "", word.lower())
    groups = list(_VOWEL_GROUP.finditer(letters))
    if not groups:
        return letters
    last = groups[-1]
    silent_e = last.group() == "e" and last.end() == len(letters) and len(groups) > 1
    if silent_e and last.start() > groups[-2].end():
        last = groups[-2]
    return letters[last.start() :]


def _final_consonants(key: Sequence[str]) -> tuple[str, ...]:
    return tuple(_CLASSES.get(phone, phone) for phone in key[1:])


def rhyme_strength(
    a_word: str, a_phones: Sequence[str] | None, b_word: str, b_phones: Sequence[str] | None
) -> float:
    """How well two words rhyme (see the module doc): by phones when both are known, else by
    spelling. Symmetric; 0 for the same word or an empty one."""
    if not a_word or not b_word or a_word.lower() == b_word.lower():
        return 0.0
    if a_phones and b_phones:
        both_long = len(_vowel_positions(a_phones)) >= 2 and len(_vowel_positions(b_phones)) >= 2
        if both_long and phone_rhyme_key(a_phones, 2) == phone_rhyme_key(b_phones, 2):
            return MULTI
        a_key, b_key = phone_rhyme_key(a_phones), phone_rhyme_key(b_phones)
        if a_key == b_key:
            return PERFECT
        if not a_key or not b_key or a_key[0] != b_key[0]:
            return 0.0
        if _final_consonants(a_key) == _final_consonants(b_key):
            return NEAR
        return ASSONANCE
    a_spelt, b_spelt = spelling_rhyme_key(a_word), spelling_rhyme_key(b_word)
    if not a_spelt or not b_spelt:
        return 0.0
    if a_spelt == b_spelt:
        return PERFECT if len(a_spelt) >= 3 else NEAR
    if a_spelt[0] == b_spelt[0] and a_spelt[0] in "aeiouy" and a_spelt[-1] == b_spelt[-1]:
        return ASSONANCE
    return 0.0
