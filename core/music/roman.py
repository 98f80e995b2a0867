"""Roman numerals in a key, both ways: numeral in key -> chord, chord in key -> numeral.

A numeral is written as musicians write it: an accidental, the degree (upper case for a major
third, lower case for a minor one), then a chord suffix: ``I``, ``vi``, ``ii7``, ``V7``,
``IVmaj7``, ``vii°7``, ``iiø7``, ``bVII``, ``III+``, ``V7(b9)``, ``Iadd9``. The Japanese habit of
an upper-case degree with ``m`` (``VIm7``) is read too; numerals are written lower case.

**Degrees are counted on the tonic's major scale** (the convention of pop and jazz
harmony, and of the progressions in ``dawai.core.music.progressions``): in A minor the
diatonic chords are ``i ii° bIII iv v bVI bVII``, the dominant is ``V`` and ``bVII`` is G.
With ``degrees="diatonic"`` they are counted on the key's own scale instead (A minor:
``i ii° III iv v VI VII``, the leading-tone chord ``#vii°``); the choice is ADR 22's.

After a slash, a numeral tonicises (``V7/V``, ``vii°7/ii``, ``V/V/V``); a scale degree in
Arabic figures is the bass, as in the Nashville number system (``IV/5`` is F/G in C, ``I/3``
is C/E).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

from dawai.core.music.chords import Chord, parse_chord
from dawai.core.music.errors import MusicParseError
from dawai.core.music.keys import Key
from dawai.core.music.pitch import Interval, SpelledPitch
from dawai.core.music.scales import Mode, Scale, ScaleType

__all__ = ["Degrees", "RomanNumeral", "diatonic_chords", "parse_roman", "roman_for"]

Degrees = Literal["major", "diatonic"]

_NUMERALS: Final = ("I", "II", "III", "IV", "V", "VI", "VII")
_NUMERAL_RE: Final = re.compile(r"(bb|b|##|#)?(VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)")
_BASS_RE: Final = re.compile(r"(bb|b|##|#)?([1-7])")
_ACCIDENTAL_TEXT: Final = {"": 0, "b": -1, "bb": -2, "#": 1, "##": 2}
_LOWER_SUFFIXES: Final = {
    "m": "",
    "m6": "6",
    "m6/9": "6/9",
    "m7": "7",
    "m9": "9",
    "m11": "11",
    "m13": "13",
    "mMaj7": "maj7",
    "dim": "°",
    "dim7": "°7",
    "m7b5": "ø7",
}
_LOWER_TO_CHORD: Final = {numeral: kind for kind, numeral in _LOWER_SUFFIXES.items()}
_HINT: Final = "write a degree I-VII with an optional accidental and suffix, like 'vi', 'V7/V' or 'bVII'"
_FIFTH_BELOW: Final = Interval.parse("P4")  # a dominant's target is a fifth below, a fourth above
_HALF_STEP_UP: Final = Interval.parse("m2")  # a leading-tone chord's target is a half step up


@dataclass(frozen=True, slots=True)
class RomanNumeral:
    """A numeral, independent of any key: ``str()`` writes it, ``chord(key)`` spells it."""

    degree: int
    accidental: int = 0
    kind: str = ""
    alterations: tuple[str, ...] = ()
    adds: tuple[int, ...] = ()
    of: tuple[RomanNumeral, ...] = field(default=())  # tonicised degrees, the nearest first
    bass: tuple[int, int] | None = None  # (degree, accidental) of the bass in the key

    @property
    def minor(self) -> bool:
        """Whether the chord has a minor third, so that the degree is written lower case."""
        return self.kind in _LOWER_SUFFIXES

    def __str__(self) -> str:
        numeral = _NUMERALS[self.degree - 1]
        suffix = _LOWER_SUFFIXES.get(self.kind, self.kind) if self.minor else self.kind
        suffix = "+" if suffix == "aug" else suffix
        quality = Chord(SpelledPitch(0), self.kind, self.alterations, self.adds).suffix
        text = _accidental_text(self.accidental) + (numeral.lower() if self.minor else numeral)
        text += suffix + quality[len(self.kind) :]
        for target in self.of:
            text += f"/{target}"
        if self.bass is not None:
            text += f"/{_accidental_text(self.bass[1])}{self.bass[0]}"
        return text

    def chord(self, key: Key, degrees: Degrees = "major") -> Chord:
        """The chord this numeral names in ``key``: ``V7/V`` in C is D7, ``bVII`` in A minor G."""
        local = key
        for target in reversed(self.of):
            local = Key(target._root(local, degrees), Mode.MINOR if target.minor else Mode.MAJOR)
        bass = None
        if self.bass is not None:
            bass = _degree_note(key, self.bass[0], self.bass[1], degrees)
        return Chord(self._root(local, degrees), self.kind, self.alterations, self.adds, bass)

    def _root(self, key: Key, degrees: Degrees) -> SpelledPitch:
        return _degree_note(key, self.degree, self.accidental, degrees)


def _accidental_text(accidental: int) -> str:
    return "#" * accidental if accidental > 0 else "b" * -accidental


def _reference(key: Key, degrees: Degrees) -> Scale:
    return Scale(key.tonic, ScaleType.IONIAN) if degrees == "major" else key.scale


def _degree_note(key: Key, degree: int, accidental: int, degrees: Degrees) -> SpelledPitch:
    return SpelledPitch(_reference(key, degrees).degree(degree).fifths + 7 * accidental)


def _degree_of(note: SpelledPitch, key: Key, degrees: Degrees) -> tuple[int, int]:
    degree = key.tonic.interval_to(note).step + 1
    return degree, (note.fifths - _degree_note(key, degree, 0, degrees).fifths) // 7


def parse_roman(text: str) -> RomanNumeral:
    """Read a numeral (see the module doc); MusicParseError names the text it cannot read."""
    cleaned = text.strip().replace("♭", "b").replace("♯", "#").replace("6/9", "69")
    parts = cleaned.split("/")
    bass = None
    if len(parts) > 1 and (bass_match := _BASS_RE.fullmatch(parts[-1])):
        bass = (int(bass_match.group(2)), _ACCIDENTAL_TEXT[bass_match.group(1) or ""])
        parts.pop()
    numerals = [_single(part, text) for part in parts]
    primary = numerals[0]
    return RomanNumeral(
        primary.degree,
        primary.accidental,
        primary.kind,
        primary.alterations,
        primary.adds,
        tuple(numerals[1:]),
        bass,
    )


def _single(text: str, original: str) -> RomanNumeral:
    match = _NUMERAL_RE.match(text)
    if not match:
        raise MusicParseError("Roman numeral", original, _HINT)
    accidental, numeral = match.group(1) or "", match.group(2)
    suffix = text[match.end() :]
    lower = numeral.islower()
    if lower and suffix.startswith(("°", "o", "ø", "dim", "sus", "5")):
        chord_suffix = _LOWER_TO_CHORD.get(suffix, suffix)
    elif lower and not (suffix.startswith("m") and not suffix.startswith("maj")):
        chord_suffix = "m" + suffix
    else:
        chord_suffix = suffix
    try:
        chord = parse_chord("C" + chord_suffix)
    except MusicParseError:
        raise MusicParseError("Roman numeral", original, _HINT) from None
    if chord.bass is not None or (lower and chord.third == "major"):
        raise MusicParseError("Roman numeral", original, _HINT)
    return RomanNumeral(
        _NUMERALS.index(numeral.upper()) + 1,
        _ACCIDENTAL_TEXT[accidental],
        chord.kind,
        chord.alterations,
        chord.adds,
    )


def roman_for(chord: Chord, key: Key, degrees: Degrees = "major", *, secondary: bool = False) -> RomanNumeral:
    """The numeral of ``chord`` in ``key``: G7 in C is ``V7``, Bb in C ``bVII``, F/G ``IV/5``.

    With ``secondary=True`` a dominant or leading-tone chord outside the key that resolves to
    a diatonic major or minor chord is named by its target: D7 in C is ``V7/V``, not ``II7``.
    """
    bass = _degree_of(chord.bass, key, degrees) if chord.bass is not None else None
    if secondary and (target := _tonicised(chord, key, degrees)) is not None:
        local, of = target
        plain = roman_for(Chord(chord.root, chord.kind, chord.alterations, chord.adds), local, degrees)
        return RomanNumeral(
            plain.degree, plain.accidental, plain.kind, plain.alterations, plain.adds, (of,), bass
        )
    degree, accidental = _degree_of(chord.root, key, degrees)
    return RomanNumeral(degree, accidental, chord.kind, chord.alterations, chord.adds, (), bass)


def _tonicised(chord: Chord, key: Key, degrees: Degrees) -> tuple[Key, RomanNumeral] | None:
    scale = set(key.scale.pitch_classes)
    if chord.pitch_classes <= scale:
        return None  # a diatonic chord is named in the key itself
    if chord.third == "major" and chord.kind in ("", "7", "9", "13"):
        target_root = chord.root.transpose(_FIFTH_BELOW)
    elif chord.kind in ("dim", "dim7", "m7b5"):
        target_root = chord.root.transpose(_HALF_STEP_UP)
    else:
        return None
    if target_root.pc not in scale or target_root.pc == key.tonic.pc:
        return None
    degree, accidental = _degree_of(target_root, key, degrees)
    diatonic = diatonic_chords(key)[_scale_index(key, target_root)]
    if diatonic.third is None or diatonic.kind == "dim":
        return None
    of = RomanNumeral(degree, accidental, diatonic.kind)
    return Key(target_root, Mode.MINOR if of.minor else Mode.MAJOR), of


def _scale_index(key: Key, note: SpelledPitch) -> int:
    return key.scale.pitch_classes.index(note.pc)


def diatonic_chords(key: Key, *, sevenths: bool = False) -> tuple[Chord, ...]:
    """The chords built in thirds on each degree of the key's scale: C major's are C Dm Em F G
    Am Bdim (with ``sevenths``, Cmaj7 Dm7 Em7 Fmaj7 G7 Am7 Bm7b5)."""
    notes = key.scale.notes
    chords = []
    for index, root in enumerate(notes):
        stack = [notes[(index + step) % 7] for step in ((0, 2, 4, 6) if sevenths else (0, 2, 4))]
        shape = " ".join(root.interval_to(note).name for note in stack)
        chords.append(Chord(root, _KINDS_BY_SHAPE[shape]))
    return tuple(chords)


_KINDS_BY_SHAPE: Final = {
    "P1 M3 P5": "",
    "P1 m3 P5": "m",
    "P1 m3 d5": "dim",
    "P1 M3 A5": "aug",
    "P1 M3 P5 M7": "maj7",
    "P1 M3 P5 m7": "7",
    "P1 m3 P5 m7": "m7",
    "P1 m3 d5 m7": "m7b5",
    "P1 m3 P5 M7": "mMaj7",
}
