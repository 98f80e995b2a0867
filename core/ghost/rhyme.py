"""Lines by sound: syllables or morae, a rhyme key, scheme letters and the pending rhyme.

A line's sound is taken from its last word (English: its phones, else its spelling) or its
last morae (Japanese: the vowels of its reading). Within a stanza (lines between blank
lines) each line gets the letter of the first earlier line it rhymes with, else a new one.
Which line the line being written should rhyme with comes from the known scheme that fits
the letters so far (``pending_target``).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from dawai.core.ghost.english import (
    NEAR,
    phone_rhyme_key,
    rhyme_strength,
    spelling_rhyme_key,
    spelling_syllables,
    syllables_of,
)
from dawai.core.ghost.kana import mora_vowels, to_hiragana
from dawai.core.ghost.text import Language, is_japanese_char, words
from dawai.ports.completion import Pronouncer

__all__ = [
    "PARTNER_WINDOW",
    "SCHEMES",
    "LineSound",
    "kana_rhyme_strength",
    "line_sound",
    "pending_target",
    "scheme_letters",
]

# The rhyme schemes songs and verse use, by name, each pattern once; it repeats past its end.
SCHEMES: Final[dict[str, str]] = {
    "couplets": "AABB",
    "alternate": "ABAB",
    "ballad": "ABCB",
    "enclosed": "ABBA",
    "monorhyme": "AAAA",
    "rubaiyat": "AABA",
    "triplets": "AAABBB",
    "blues tercet": "AAB",
    "terza rima": "ABABCBCDC",
    "limerick": "AABBA",
    "sonnet (Shakespearean)": "ABABCDCDEFEFGG",
    "sonnet (Petrarchan)": "ABBAABBACDECDE",
    "rhyme royal": "ABABBCC",
    "ottava rima": "ABABABCC",
}
_LETTERS: Final = string.ascii_uppercase


@dataclass(frozen=True, slots=True)
class LineSound:
    text: str
    language: Language
    syllables: int  # morae for Japanese
    last_word: str  # English: the last word; Japanese: the reading's last morae, in hiragana
    phones: tuple[str, ...] | None  # English last word's phones, when known
    key: str  # the rhyme key as analysis shows it: "ay-t", "ight" (by spelling), "ai"


def line_sound(line: str, language: Language, pronouncer: Pronouncer | None) -> LineSound:
    """The sound of one line (see the module doc)."""
    if language == "ja":
        reading = pronouncer.reading(line) if pronouncer is not None else line
        kana = to_hiragana(reading)
        vowels = mora_vowels(kana)
        latin = words("".join(char if not is_japanese_char(char) else " " for char in line))
        count = len(vowels) + sum(spelling_syllables(word) for word in latin)
        return LineSound(line, "ja", count, kana[-4:], None, "".join(vowels[-2:]))
    line_words = words(line)
    if not line_words:
        return LineSound(line, "en", 0, "", None, "")
    total = 0
    phones: tuple[str, ...] | None = None
    for word in line_words:
        phones = pronouncer.english(word) if pronouncer is not None else None
        total += syllables_of(phones) if phones else spelling_syllables(word)
    last = line_words[-1]
    key = "-".join(phone_rhyme_key(phones)).lower() if phones else spelling_rhyme_key(last)
    return LineSound(line, "en", total, last, phones, key)


def kana_rhyme_strength(a: str, b: str) -> float:
    """Japanese rhyme by vowels (``a``, ``b``: kana): the last three morae's vowels alike 1.0,
    the last two 0.9, the last one 0.5, else 0. The same ending twice is not a rhyme."""
    if not a or not b or a == b:
        return 0.0
    va, vb = mora_vowels(a), mora_vowels(b)
    if not va or not vb:
        return 0.0
    if len(va) >= 3 and len(vb) >= 3 and va[-3:] == vb[-3:]:
        return 1.0
    if len(va) >= 2 and len(vb) >= 2 and va[-2:] == vb[-2:]:
        return 0.9
    return 0.5 if va[-1] == vb[-1] else 0.0


def rhyme_between(a: LineSound, b: LineSound) -> float:
    if a.language == "ja" or b.language == "ja":
        return kana_rhyme_strength(a.last_word, b.last_word)
    return rhyme_strength(a.last_word, a.phones, b.last_word, b.phones)


# Lines before a line that it is compared with for a rhyme: schemes pair lines a few apart,
# and a stanza of 10,000 one-word lines (20,000 characters) was 50 million comparisons.
PARTNER_WINDOW: Final = 32


def scheme_letters(lines: Sequence[LineSound], threshold: float = NEAR) -> str:
    """One letter per line: the letter of the first of the ``PARTNER_WINDOW`` lines before it
    that it rhymes with at least ``threshold``, else the next new letter (after Z, ``?``); a
    line without a sound is ``-``."""
    letters: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if not line.key:
            letters.append("-")
            continue
        letter = None
        for earlier in range(max(0, index - PARTNER_WINDOW), index):
            if letters[earlier] != "-" and rhyme_between(lines[earlier], line) >= threshold:
                letter = letters[earlier]
                break
        if letter is None:
            letter = _LETTERS[used] if used < len(_LETTERS) else "?"
            used += 1
        letters.append(letter)
    return "".join(letters)


def _consistency(pattern: str, letters: str) -> int:
    """How many pairs of lines the pattern (repeated) and the letters agree on: both rhyme or
    both do not."""
    size = len(letters)
    laid = (pattern * (size // len(pattern) + 2))[: size + 1]
    score = 0
    for i in range(size):
        for j in range(i + 1, size):
            if letters[i] == "-" or letters[j] == "-":
                continue
            score += (laid[i] == laid[j]) == (letters[i] == letters[j])
    return score


_PENDING_SCHEMES: Final = ("AABB", "ABAB", "ABCB", "ABBA", "AABA", "AAAA")


def pending_target(lines: Sequence[LineSound]) -> LineSound | None:
    """The earlier line of this stanza that the next line should rhyme with, by the common
    scheme (couplets, alternate, ballad, enclosed, rubaiyat, monorhyme; the first listed wins a
    tie) that best fits the stanza so far; None when the scheme gives the next line a new rhyme."""
    if not lines:
        return None
    letters = scheme_letters(lines)
    best = max(
        _PENDING_SCHEMES,
        key=lambda pattern: (_consistency(pattern, letters), -_PENDING_SCHEMES.index(pattern)),
    )
    position = len(lines)
    laid = (best * (position // len(best) + 2))[: position + 1]
    cycle_start = position - position % len(best)
    for earlier in range(position - 1, max(cycle_start, position - len(best)) - 1, -1):
        if laid[earlier] == laid[position] and lines[earlier].key:
            return lines[earlier]
    return None
