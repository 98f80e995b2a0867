"""Keys as musicians write them, and how a key spells its notes.

``parse_key`` reads ``C``, ``C major``, ``Cmaj``, ``Am``, ``A minor``, ``F#m``, ``Bb major``,
``Eb``, ``C# minor``, ``D dorian``, ``Cメジャー``, ``Aマイナー`` and the Japanese names of all 24
keys (``ハ長調``, ``イ短調``, ``変ロ長調``, ``嬰ヘ短調``). A key keeps the spelling it was written
with unless that needs more than seven sharps or flats (``G# major`` is read as ``Ab major``);
keys built from a pitch class (``Key.canonical``, ``transpose``, key estimation) take the
spelling with the fewest accidentals, and on a tie of six the sharp one for major modes and
the flat one for minor modes (F# major, Eb minor).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from dawai.core.music.errors import MusicParseError
from dawai.core.music.pitch import Interval, SpelledPitch, parse_pitch
from dawai.core.music.scales import Mode, Scale

__all__ = ["Key", "all_keys", "parse_key"]

_SHARP_SPELLINGS: Final = (0, 7, 2, 9, 4, -1, 6, 1, 8, 3, 10, 5)  # C C# D D# E F F# G G# A A# B
_FLAT_SPELLINGS: Final = (0, -5, 2, -3, 4, -1, -6, 1, -4, 3, -2, 5)  # C Db D Eb E F Gb G Ab A Bb B
_RAISED_SIXTH: Final = Interval.parse("M6")
_RAISED_SEVENTH: Final = Interval.parse("M7")

_JA_LETTERS: Final = {"ハ": "C", "ニ": "D", "ホ": "E", "ヘ": "F", "ト": "G", "イ": "A", "ロ": "B"}
_JA_ACCIDENTALS: Final = {"": 0, "嬰": 1, "変": -1, "重嬰": 2, "重変": -2}
_JA_KEY_RE: Final = re.compile(r"(重?[嬰変])?([ハニホヘトイロ])\s*(長調|短調|長|短)")
_KEY_RE: Final = re.compile(r"([A-Ga-g])((?:[#♯x𝄪]+|[b♭𝄫]+)?)\s*(-?)\s*([A-Za-zメジャーマイナ]*)")
_MODE_WORDS: Final = {
    "": Mode.MAJOR,
    "major": Mode.MAJOR,
    "maj": Mode.MAJOR,
    "ma": Mode.MAJOR,
    "minor": Mode.MINOR,
    "min": Mode.MINOR,
    "mi": Mode.MINOR,
    "メジャー": Mode.MAJOR,
    "マイナー": Mode.MINOR,
    **{mode.value: mode for mode in Mode},
}
_HINT: Final = "write a tonic and a mode, like 'C major', 'F#m', 'Bb', 'A minor' or 'イ短調'"


@dataclass(frozen=True, slots=True)
class Key:
    tonic: SpelledPitch
    mode: Mode = Mode.MAJOR

    @classmethod
    def canonical(cls, pitch_class: int, mode: Mode = Mode.MAJOR) -> Key:
        """The key on a pitch class, spelled with the fewest accidentals (see the module doc)."""
        sharp = SpelledPitch(_SHARP_SPELLINGS[pitch_class % 12])
        flat = SpelledPitch(_FLAT_SPELLINGS[pitch_class % 12])
        options = sorted(
            {sharp, flat},
            key=lambda tonic: (
                abs(tonic.fifths + mode.signature_offset),
                tonic.fifths > 0 if mode.is_minor else tonic.fifths < 0,
            ),
        )
        return cls(options[0], mode)

    @property
    def pitch_class(self) -> int:
        return self.tonic.pc

    @property
    def is_minor(self) -> bool:
        return self.mode.is_minor

    @property
    def signature(self) -> int:
        """Sharps in the key signature (flats negative): 2 for D major, -3 for C minor."""
        return self.tonic.fifths + self.mode.signature_offset

    @property
    def scale(self) -> Scale:
        return Scale(self.tonic, self.mode.scale_type)

    @property
    def name(self) -> str:
        """``C major``, ``F# minor``, ``D dorian``: the form replies use."""
        word = {Mode.MAJOR: "major", Mode.MINOR: "minor"}.get(self.mode, self.mode.value)
        return f"{self.tonic.name} {word}"

    @property
    def japanese_name(self) -> str | None:
        """``変ロ長調``, ``嬰ヘ短調``; None for the other modes and for more than two accidentals."""
        if self.mode not in (Mode.MAJOR, Mode.MINOR) or abs(self.tonic.accidental) > 2:
            return None
        prefix = {0: "", 1: "嬰", -1: "変", 2: "重嬰", -2: "重変"}[self.tonic.accidental]
        letter = next(ja for ja, en in _JA_LETTERS.items() if en == self.tonic.letter)
        return f"{prefix}{letter}{'短調' if self.mode is Mode.MINOR else '長調'}"

    def __str__(self) -> str:
        return self.name

    def spell(self, pitch_class: int) -> SpelledPitch:
        """How this key spells a pitch class.

        Notes of the key's scale are spelled as the scale spells them. In a minor key the
        raised sixth and seventh (of melodic and harmonic minor) are spelled raised: C# in D
        minor. Any other note takes sharps in a key with sharps, flats in a key with flats;
        with neither, flats in a major mode and sharps in a minor one.
        """
        pc = pitch_class % 12
        for note in self.scale.notes:
            if note.pc == pc:
                return note
        if self.mode is Mode.MINOR:
            for raised in (self.tonic.transpose(_RAISED_SIXTH), self.tonic.transpose(_RAISED_SEVENTH)):
                if raised.pc == pc:
                    return raised
        signature = self.signature
        sharps = signature > 0 or (signature == 0 and self.is_minor)
        return SpelledPitch((_SHARP_SPELLINGS if sharps else _FLAT_SPELLINGS)[pc])

    def transpose(self, semitones: int) -> Key:
        """The key ``semitones`` higher, in the same mode, spelled canonically."""
        return Key.canonical(self.pitch_class + semitones, self.mode)

    @property
    def relative_major(self) -> Key:
        """The major key with the same signature (C major for A minor and for D dorian)."""
        return Key(SpelledPitch(self.signature), Mode.MAJOR)

    @property
    def relative_minor(self) -> Key:
        return Key(SpelledPitch(self.signature + 3), Mode.MINOR)

    @property
    def parallel(self) -> Key:
        """The key on the same tonic with the other third: C minor for C major, and back."""
        return Key(self.tonic, Mode.MAJOR if self.is_minor else Mode.MINOR)


def all_keys() -> tuple[Key, ...]:
    """The 24 major and minor keys, canonically spelled: the majors from C, then the minors."""
    return tuple(Key.canonical(pc, mode) for mode in (Mode.MAJOR, Mode.MINOR) for pc in range(12))


def parse_key(text: str) -> Key:
    """Read a key as musicians write it (see the module doc); MusicParseError names the text."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    cleaned = re.sub(r"^(?:the\s+)?key\s+of\s+|\s+key$", "", cleaned, flags=re.IGNORECASE)
    japanese = _JA_KEY_RE.fullmatch(cleaned)
    if japanese:
        prefix, letter, mode_word = japanese.groups()
        tonic = SpelledPitch.of(_JA_LETTERS[letter], _JA_ACCIDENTALS[prefix or ""])
        return _within_signature(Key(tonic, Mode.MINOR if mode_word.startswith("短") else Mode.MAJOR))
    match = _KEY_RE.fullmatch(cleaned)
    if not match:
        raise MusicParseError("key", text, _HINT)
    letter, accidentals, dash, word = match.groups()
    if dash and not word:  # C- is jazz shorthand for C minor
        word = "m"
    if word in ("m", "M"):
        mode: Mode | None = Mode.MINOR if word == "m" else Mode.MAJOR
    else:
        mode = _MODE_WORDS.get(word.lower())
    if mode is None:
        raise MusicParseError("key", text, _HINT)
    return _within_signature(Key(parse_pitch(letter + accidentals), mode))


def _within_signature(key: Key) -> Key:
    return key if abs(key.signature) <= 7 else Key.canonical(key.pitch_class, key.mode)
