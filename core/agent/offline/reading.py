"""Reading the values a command names: numbers (digits, English and Japanese words),
semitones, a quantise grid, a pan position, a bar, a seed, a new name; and splitting a
prompt into its commands.

Every function takes ``fold``ed text (see ``lexicon``) unless it says otherwise.
"""

from __future__ import annotations

import re
from typing import Final

from dawai.core.agent.offline import lexicon as lx

__all__ = [
    "bar_number",
    "first_number",
    "grid_quarters",
    "pan_value",
    "percent",
    "seed_in",
    "semitones",
    "split_commands",
    "tempo_in",
]

_NUMBER_WORDS: Final = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "ひとつ": 1,
    "ふたつ": 2,
    "みっつ": 3,
}
_COUNT: Final = r"(\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + ")"
_NUMBER_RE: Final = re.compile(r"(?<![\d./])[-+]?\d+(?:\.\d+)?(?![\d/]|\s*分の)")


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def first_number(text: str) -> float | None:
    """The first plain number (not part of ``3/4``, ``1/16`` or ``4分の3``)."""
    match = _NUMBER_RE.search(text)
    return float(match.group(0)) if match else None


_TEMPO_RE: Final = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*bpm|bpm\s*(?:[=:を]|to|of)?\s*(\d{2,3}(?:\.\d+)?)")


def tempo_in(text: str) -> float | None:
    """A tempo written with ``bpm`` (``90 bpm``, ``BPM120``)."""
    match = _TEMPO_RE.search(text)
    if match is None:
        return None
    return float(match.group(1) or match.group(2))


# Semitones per unit, English and Japanese.
_UNITS: Final = (
    (re.compile(r"octaves?|オクターブ"), 12),
    (re.compile(r"whole[ -]?(?:steps?|tones?)|全音"), 2),
    (re.compile(r"semitones?|half[ -]?(?:steps?|tones?)|半音"), 1),
    (re.compile(r"(?<![a-z])fifths?|5度"), 7),
    (re.compile(r"(?<![a-z])fourths?|4度"), 5),
    (re.compile(r"(?<![a-z])steps?(?![a-z])"), 1),
)
_SIGNED_RE: Final = re.compile(r"(?<![\w/])([-+])\s?(\d{1,2})(?![\d/])")
_BY_RE: Final = re.compile(
    r"(?:up|down|by)\s+(\d{1,2})(?!\s*(?:%|bars?|db))|(\d{1,2})\s*(?:つ|個)?\s*(?:上げ|下げ)"
)


def semitones(text: str) -> int | None:
    """How far a transposition goes, signed (down is negative); ``None`` when no amount
    is named. ``up an octave`` 12, ``down 3 semitones`` -3, ``半音上げて`` 1, ``+7`` 7."""
    down = lx.DOWN.search(text) is not None and lx.UP.search(text) is None
    signed = _SIGNED_RE.search(text)
    if signed:
        value = int(signed.group(2))
        return -value if signed.group(1) == "-" else value
    amount: int | None = None
    for pattern, size in _UNITS:
        unit = pattern.search(text)
        if unit is None:
            continue
        before = re.search(_COUNT + r"\s*(?:-\s*)?$", text[: unit.start()])
        after = re.match(r"\s*" + _COUNT + r"\s*(?:つ|個)", text[unit.end() :])
        count = _count(before.group(1)) if before else _count(after.group(1)) if after else 1
        amount = count * size
        break
    if amount is None:
        by = _BY_RE.search(text)
        if by is None:
            return None
        amount = int(by.group(1) or by.group(2))
    return -amount if down else amount


_GRID_WORDS: Final = (
    (re.compile(r"thirty[- ]?seconds?|32nds?"), 32),
    (re.compile(r"sixteenths?|16ths?"), 16),
    (re.compile(r"eighths?|8ths?"), 8),
    (re.compile(r"quarters?|4ths?|crotchets?"), 4),
    (re.compile(r"halves|half[- ]notes?"), 2),
)
_FRACTION_RE: Final = re.compile(r"1\s*/\s*(\d{1,2})|(\d{1,2})\s*分(?:音符)?(?!の)")
_TRIPLET_RE: Final = re.compile(r"triplets?|(?<=\d)t(?![a-z])|3連|三連")


def grid_quarters(text: str) -> float | None:
    """The quantise grid in quarter notes (``1/16`` 0.25, ``8分`` 0.5, ``1/8 triplets``
    1/3); 0.25 when none is named; ``None`` for a grid that is not a note value."""
    division: int | None = None
    match = _FRACTION_RE.search(text)
    if match:
        division = int(match.group(1) or match.group(2))
    else:
        for pattern, value in _GRID_WORDS:
            if pattern.search(text):
                division = value
                break
    division = division or 16
    if division not in (1, 2, 4, 8, 16, 32, 64):
        return None
    quarters = 4 / division
    return quarters * 2 / 3 if _TRIPLET_RE.search(text) else quarters


_SIDE_RE: Final = re.compile(r"(?<![a-z])([lr])\s?(\d{1,3})(?!\d)")
_HARD: Final = lx.words("hard all_the_way fully 完全に 一番 いっぱい 端")


def pan_value(text: str) -> float | None:
    """A pan position -100 (left) .. 100 (right): ``left 30``, ``R40``, ``-20``, ``center``,
    ``hard right``, ``左に30``; ``None`` when the text names none (values may be out of range)."""
    if lx.CENTRE.search(text):
        return 0.0
    side = _SIDE_RE.search(text)
    if side:
        value = float(side.group(2))
        return -value if side.group(1) == "l" else value
    left = lx.LEFT.search(text) is not None
    right = lx.RIGHT.search(text) is not None
    number = first_number(text)
    if number is not None and not (left or right):
        return number
    if left == right:
        return None
    size = abs(number) if number is not None else 100.0 if _HARD.search(text) else 50.0
    return -size if left else size


_PERCENT_RE: Final = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*(?:%|percent|パーセント)")


def percent(text: str) -> float | None:
    match = _PERCENT_RE.search(text)
    return float(match.group(1)) if match else None


_BAR_RE: Final = re.compile(
    r"(?:at|from|starting\s+(?:at|from)|on)\s+bar\s+(\d{1,3})|bar\s+(\d{1,3})\s+onwards"
    r"|(\d{1,3})\s*小節目"
)


def bar_number(text: str) -> int | None:
    """Where a part starts when the command says (``at bar 5``, ``5小節目から``), from 1."""
    match = _BAR_RE.search(text)
    if match is None:
        return None
    return int(next(g for g in match.groups() if g))


_SEED_RE: Final = re.compile(r"(?:seed|シード)\s*[=:#]?\s*(\d{1,9})")


def seed_in(text: str) -> int | None:
    match = _SEED_RE.search(text)
    return int(match.group(1)) if match else None


# Where one command ends and the next begins: punctuation, "and"/"then", and the Japanese
# て-form of a verb followed by more ("テンポを90にして、ドラムを追加"). The spaces before
# "and" are read from the start of their run only, whole (possessive): a prompt of spaces
# is one pass, not one pass per space.
_SPLIT_RE: Final = re.compile(
    r"[,;!?\n、。，．！？]+|\.(?!\d)"
    r"|(?<![^\S\n])[^\S\n]++(?:and\s+then|and\s+also|and|then|also|plus|&)\s+"
    r"|(?:そして|それから|その後|あとは|次に)|(?<=して)(?=\S)|(?<=したら)",
    re.IGNORECASE,
)


def split_commands(prompt: str) -> list[str]:
    """The prompt's commands, in order, as written (not folded)."""
    return [part.strip() for part in _SPLIT_RE.split(prompt) if part and part.strip()]
