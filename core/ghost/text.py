"""Text as the editor sends it: scripts, languages, words and the cursor.

The frontend counts the cursor in UTF-16 code units (JavaScript strings); ``code_point_index``
turns that into a Python string index and refuses a cursor outside the text or between the
two halves of a surrogate pair (an emoji, say).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, Literal

__all__ = [
    "Language",
    "clean_line",
    "code_point_index",
    "detect_language",
    "is_japanese_char",
    "words",
]

Language = Literal["en", "ja"]
LANGUAGES: Final = ("en", "ja")
_WORD_RE: Final = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")


def is_japanese_char(char: str) -> bool:
    """Hiragana, katakana (with ー), CJK ideographs and the iteration mark 々."""
    code = ord(char)
    return (
        0x3040 <= code <= 0x30FF  # hiragana, katakana
        or 0x4E00 <= code <= 0x9FFF  # CJK unified ideographs
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0x31F0 <= code <= 0x31FF  # small katakana extensions
        or char == "々"
    )


def detect_language(text: str, hint: str | None = None) -> Language:
    """``hint`` when it is ``en`` or ``ja``; otherwise Japanese when the Japanese characters in
    the last 400 are at least a third as many as the Latin letters (one kana or kanji carries
    about as much as a short English word's letters), else English (also without letters)."""
    if hint in LANGUAGES:
        return "ja" if hint == "ja" else "en"
    tail = text[-400:]
    japanese = sum(1 for char in tail if is_japanese_char(char))
    latin = sum(1 for char in tail if char.isascii() and char.isalpha())
    return "ja" if japanese and japanese * 3 >= latin else "en"


def code_point_index(text: str, cursor: int) -> int:
    """The index into ``text`` of a cursor counted in UTF-16 code units.

    Raises ``ValueError`` (with the reason) for a cursor below 0, past the end, or between the
    halves of a surrogate pair."""
    if cursor < 0:
        raise ValueError("must be at least 0")
    units = 0
    for index, char in enumerate(text):
        if units == cursor:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
        if units > cursor:
            raise ValueError("falls inside a surrogate pair (between the two halves of one character)")
    if units == cursor:
        return len(text)
    raise ValueError(f"is past the end of the text ({units} UTF-16 code units)")


def utf16_length(text: str) -> int:
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def clean_line(line: str) -> str:
    """A line with control and format characters (and emoji, symbols) turned into spaces and
    full-width forms folded (NFKC), so the models see letters, digits and punctuation only."""
    folded = unicodedata.normalize("NFKC", line)
    return "".join(
        char if unicodedata.category(char)[0] in "LNPZ" or char in "'#/|+-°ø♭♯Δ" else " " for char in folded
    )


def words(text: str) -> list[str]:
    """The English words of ``text`` (letters and inner apostrophes), lower case."""
    return [word.lower() for word in _WORD_RE.findall(text)]
