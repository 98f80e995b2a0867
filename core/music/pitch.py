"""Pitch classes, spelled pitches, intervals and MIDI note names.

A spelled pitch is a letter with accidentals (``F#``, ``Bb``, ``E##``), held as its place on
the line of fifths (``... Bb F C G D A E B F# ...``, C = 0): transposing by an interval is then
an addition, the letter and the accidentals follow from the sum, and a chord or scale spelled
from its root by intervals is spelled as musicians spell it (the third of ``B`` is ``D#``, not
``Eb``). The pitch class is ``7 * fifths mod 12``. MIDI note numbers use C4 = 60.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from dawai.core.music.errors import MusicParseError

__all__ = [
    "Interval",
    "SpelledPitch",
    "midi_name",
    "parse_midi_name",
    "parse_pitch",
    "pitch_class",
]

_LETTERS_BY_FIFTHS: Final = "FCGDAEB"  # F is -1 on the line of fifths, C 0, ..., B 5
_LETTERS: Final = "CDEFGAB"
_NATURAL_SEMITONES: Final = (0, 2, 4, 5, 7, 9, 11)  # of C D E F G A B
# The major or perfect interval of each letter step, on the line of fifths: P1 M2 M3 P4 P5 M6 M7.
_REFERENCE_FIFTHS: Final = (0, 2, 4, -1, 1, 3, 5)
_PERFECT_STEPS: Final = frozenset({0, 3, 4})
# The usual spelling of 0-11 semitones: P1 m2 M2 m3 M3 P4 A4 P5 m6 M6 m7 M7.
_USUAL_FIFTHS: Final = (0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5)

_SHARP_MARKS: Final = {"#": 1, "♯": 1, "x": 2, "𝄪": 2}
_FLAT_MARKS: Final = {"b": -1, "♭": -1, "𝄫": -2}
_PITCH_RE: Final = re.compile(r"([A-Ga-g])((?:[#♯x𝄪]+|[b♭𝄫]+)?)")
_MIDI_NAME_RE: Final = re.compile(r"\s*([A-Ga-g](?:#|♯|x|𝄪|b|♭|𝄫)*)\s*(-?\d+)\s*")


def pitch_class(value: int) -> int:
    """The pitch class (0 = C ... 11 = B) of a MIDI note number or any integer."""
    return value % 12


@dataclass(frozen=True, slots=True, order=True)
class SpelledPitch:
    """A pitch class with its spelling: ``fifths`` is its place on the line of fifths (C = 0)."""

    fifths: int

    @classmethod
    def of(cls, letter: str, accidental: int = 0) -> SpelledPitch:
        """``SpelledPitch.of("F", 1)`` is F#; ``accidental`` counts sharps (flats negative)."""
        index = _LETTERS_BY_FIFTHS.index(letter.upper())
        return cls(index - 1 + 7 * accidental)

    @property
    def letter(self) -> str:
        return _LETTERS_BY_FIFTHS[(self.fifths + 1) % 7]

    @property
    def accidental(self) -> int:
        """Sharps (positive) or flats (negative) on the letter."""
        return (self.fifths + 1) // 7

    @property
    def pc(self) -> int:
        """The pitch class, 0 (C) to 11 (B)."""
        return (self.fifths * 7) % 12

    @property
    def name(self) -> str:
        """ASCII spelling: ``C``, ``F#``, ``Bb``, ``E##``, ``Abb``."""
        acc = self.accidental
        return self.letter + ("#" * acc if acc > 0 else "b" * -acc)

    def __str__(self) -> str:
        return self.name

    def transpose(self, interval: Interval) -> SpelledPitch:
        """The pitch ``interval`` above this one (the octave does not matter for a spelling)."""
        return SpelledPitch(self.fifths + interval.fifths)

    def interval_to(self, other: SpelledPitch) -> Interval:
        """The simple ascending interval from this pitch to ``other`` (``C -> Eb`` is m3)."""
        return Interval(other.fifths - self.fifths)


@dataclass(frozen=True, slots=True)
class Interval:
    """A spelled interval: ``fifths`` on the line of fifths plus whole ``octaves`` (a ninth is a
    second and one octave). ``Interval.parse("m3")``, ``.semitones``, ``.name``."""

    fifths: int
    octaves: int = 0

    @classmethod
    def parse(cls, text: str) -> Interval:
        """``P1 m2 M2 m3 M3 P4 A4 d5 P5 m6 M6 m7 M7 P8 m9 M9 P11 A11 m13 M13 ...``."""
        match = re.fullmatch(r"\s*(P|M|m|A+|d+)(\d+)\s*", text)
        number = int(match.group(2)) if match else 0
        if not match or number < 1:
            raise MusicParseError("interval", text, "write a quality and a number, like 'm3' or 'P5'")
        quality = match.group(1)
        step, octaves = (number - 1) % 7, (number - 1) // 7
        perfect = step in _PERFECT_STEPS
        if (quality in ("M", "m") and perfect) or (quality == "P" and not perfect):
            kind = "perfect" if perfect else "major or minor"
            raise MusicParseError("interval", text, f"a {number} is {kind}")
        if quality in ("P", "M"):
            shift = 0
        elif quality == "m":
            shift = -1
        elif quality.startswith("A"):
            shift = len(quality)
        else:  # diminished: one below perfect, or one below minor
            shift = -len(quality) - (0 if perfect else 1)
        return cls(_REFERENCE_FIFTHS[step] + 7 * shift, octaves)

    @classmethod
    def from_semitones(cls, semitones: int) -> Interval:
        """The usual spelling of a number of semitones (6 is an augmented fourth)."""
        octaves, rest = divmod(semitones, 12)
        return cls(_USUAL_FIFTHS[rest], octaves)

    @property
    def step(self) -> int:
        """Letter steps in the simple interval, 0 (unison) to 6 (seventh)."""
        return (self.fifths * 4) % 7

    @property
    def number(self) -> int:
        """The interval's number: 1 for a unison, 3 for a third, 9 for a ninth."""
        return self.step + 1 + 7 * self.octaves

    @property
    def shift(self) -> int:
        """Semitones above (positive) or below the major or perfect interval of this number."""
        return (self.fifths - _REFERENCE_FIFTHS[self.step]) // 7

    @property
    def semitones(self) -> int:
        return _NATURAL_SEMITONES[self.step] + self.shift + 12 * self.octaves

    @property
    def quality(self) -> str:
        shift = self.shift
        if shift > 0:
            return "A" * shift
        if self.step in _PERFECT_STEPS:
            return "P" if shift == 0 else "d" * -shift
        return {0: "M", -1: "m"}.get(shift) or "d" * (-shift - 1)

    @property
    def name(self) -> str:
        return f"{self.quality}{self.number}"

    def __str__(self) -> str:
        return self.name


def _accidental(marks: str) -> int:
    return sum(_SHARP_MARKS.get(mark, 0) + _FLAT_MARKS.get(mark, 0) for mark in marks)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def parse_pitch(text: str) -> SpelledPitch:
    """A letter and its accidentals: ``C``, ``f#``, ``Bb``, ``E♭``, ``G##``, ``Fx``, ``Cbb``."""
    match = _PITCH_RE.fullmatch(_normalise(text).strip())
    if not match:
        raise MusicParseError("pitch", text, "write a letter A-G with # or b, like 'F#' or 'Bb'")
    return SpelledPitch.of(match.group(1), _accidental(match.group(2)))


def midi_name(note: int, spelling: SpelledPitch | None = None) -> str:
    """The name of a MIDI note number with C4 = 60: ``midi_name(61)`` is ``C#4``.

    ``spelling`` (of the same pitch class) chooses the letter: ``midi_name(61, Db)`` is ``Db4``,
    and the octave number follows the letter, so B#3 and Cb4 are spelled as written.
    """
    if not 0 <= note <= 127:
        raise ValueError(f"MIDI note numbers are 0-127, not {note}")
    spelled = spelling or SpelledPitch.of(*_SHARP_NAMES[note % 12])
    if spelled.pc != note % 12:
        raise ValueError(f"{spelled.name} is not the pitch class of MIDI note {note}")
    natural = _NATURAL_SEMITONES[_LETTERS.index(spelled.letter)] + spelled.accidental
    return f"{spelled.name}{(note - natural) // 12 - 1}"


def parse_midi_name(text: str) -> int:
    """The MIDI note number of a name with an octave, C4 = 60: ``A4`` is 69, ``C-1`` 0, ``G9`` 127."""
    match = _MIDI_NAME_RE.fullmatch(_normalise(text))
    if not match:
        raise MusicParseError("note", text, "write a pitch and an octave, like 'C4' or 'F#3' (C4 = 60)")
    spelled = parse_pitch(match.group(1))
    natural = _NATURAL_SEMITONES[_LETTERS.index(spelled.letter)] + spelled.accidental
    note = (int(match.group(2)) + 1) * 12 + natural
    if not 0 <= note <= 127:
        raise MusicParseError("note", text, "MIDI notes run from C-1 (0) to G9 (127)")
    return note


_SHARP_NAMES: Final = (
    ("C", 0), ("C", 1), ("D", 0), ("D", 1), ("E", 0), ("F", 0),
    ("F", 1), ("G", 0), ("G", 1), ("A", 0), ("A", 1), ("B", 0),
)  # fmt: skip
