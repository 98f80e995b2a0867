"""Chord symbols: parsing, canonical spelling and the chord's notes.

A symbol is a root, a kind (``m``, ``7``, ``maj7``, ``m7b5``, ``sus4``, ``13`` ...), then
alterations (``b5 #5 b9 #9 #11 b13``, bare or in parentheses), added tones (``add9``,
``add11``, ``add13``) and a bass after a slash (``F/G``, ``C/E``). ``parse_chord`` accepts the
usual ways of writing each kind (``Cmin7``, ``C-7``, ``CΔ7``, ``Cø``, ``C°7``, ``Caug``,
``C+``, ``Cm(maj7)``); ``str()`` writes one canonical form, the one ``parse_chord`` reads
back to the same chord: alterations always in parentheses (``C7(b9,#11)``, so that ``C(b5)``
cannot be read as a C-flat power chord), added tones after them.

Extensions are written as the full stack from the root (``C13`` is C E G Bb D A, the eleventh
left out as usual; ``C11`` keeps its third); which of them a voicing plays is
``dawai.core.music.voicing``'s business.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from dawai.core.music.errors import MusicParseError
from dawai.core.music.pitch import Interval, SpelledPitch, parse_pitch

__all__ = ["ALTERATIONS", "CHORD_KINDS", "Chord", "parse_chord"]


def _intervals(names: str) -> tuple[Interval, ...]:
    return tuple(Interval.parse(name) for name in names.split())


CHORD_KINDS: Final[dict[str, tuple[Interval, ...]]] = {
    "": _intervals("P1 M3 P5"),
    "m": _intervals("P1 m3 P5"),
    "dim": _intervals("P1 m3 d5"),
    "aug": _intervals("P1 M3 A5"),
    "sus2": _intervals("P1 M2 P5"),
    "sus4": _intervals("P1 P4 P5"),
    "5": _intervals("P1 P5"),
    "6": _intervals("P1 M3 P5 M6"),
    "m6": _intervals("P1 m3 P5 M6"),
    "6/9": _intervals("P1 M3 P5 M6 M9"),
    "m6/9": _intervals("P1 m3 P5 M6 M9"),
    "7": _intervals("P1 M3 P5 m7"),
    "maj7": _intervals("P1 M3 P5 M7"),
    "m7": _intervals("P1 m3 P5 m7"),
    "m7b5": _intervals("P1 m3 d5 m7"),
    "dim7": _intervals("P1 m3 d5 d7"),
    "mMaj7": _intervals("P1 m3 P5 M7"),
    "7sus4": _intervals("P1 P4 P5 m7"),
    "9sus4": _intervals("P1 P4 P5 m7 M9"),
    "9": _intervals("P1 M3 P5 m7 M9"),
    "maj9": _intervals("P1 M3 P5 M7 M9"),
    "m9": _intervals("P1 m3 P5 m7 M9"),
    "11": _intervals("P1 M3 P5 m7 M9 P11"),
    "m11": _intervals("P1 m3 P5 m7 M9 P11"),
    "13": _intervals("P1 M3 P5 m7 M9 M13"),
    "maj13": _intervals("P1 M3 P5 M7 M9 M13"),
    "m13": _intervals("P1 m3 P5 m7 M9 P11 M13"),
}

# Alterations in canonical order, each with the tone it adds.
ALTERATIONS: Final[dict[str, Interval]] = {
    "b5": Interval.parse("d5"),
    "#5": Interval.parse("A5"),
    "b9": Interval.parse("m9"),
    "#9": Interval.parse("A9"),
    "#11": Interval.parse("A11"),
    "b13": Interval.parse("m13"),
}
_ADDS: Final[dict[int, Interval]] = {
    9: Interval.parse("M9"),
    11: Interval.parse("P11"),
    13: Interval.parse("M13"),
}

# Other ways of writing a kind: text -> (kind, alterations it implies).
_ALIASES: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    **{kind: (kind, ()) for kind in CHORD_KINDS},
    **{alias: ("", ()) for alias in ("M", "maj", "Maj", "major")},
    **{alias: ("m", ()) for alias in ("min", "mi", "-", "minor")},
    **{alias: ("dim", ()) for alias in ("°", "o")},
    **{alias: ("aug", ()) for alias in ("+",)},
    **{alias: ("sus4", ()) for alias in ("sus",)},
    **{alias: ("6", ()) for alias in ("M6", "maj6")},
    **{alias: ("m6", ()) for alias in ("min6", "-6")},
    **{alias: ("6/9", ()) for alias in ("69",)},
    **{alias: ("m6/9", ()) for alias in ("m69", "-6/9", "-69")},
    **{alias: ("maj7", ()) for alias in ("M7", "Maj7", "Δ7", "Δ", "ma7", "j7")},
    **{alias: ("m7", ()) for alias in ("min7", "mi7", "-7")},
    **{alias: ("m7b5", ()) for alias in ("ø", "ø7", "min7b5", "-7b5", "mi7b5")},
    **{alias: ("dim7", ()) for alias in ("°7", "o7")},
    **{alias: ("mMaj7", ()) for alias in ("mM7", "m(maj7)", "mmaj7", "minMaj7", "-maj7", "-Δ7", "mΔ7")},
    **{alias: ("7sus4", ()) for alias in ("7sus",)},
    **{alias: ("9sus4", ()) for alias in ("9sus",)},
    **{alias: ("maj9", ()) for alias in ("M9", "Maj9", "Δ9")},
    **{alias: ("m9", ()) for alias in ("min9", "-9")},
    **{alias: ("m11", ()) for alias in ("min11", "-11")},
    **{alias: ("maj13", ()) for alias in ("M13", "Maj13", "Δ13")},
    **{alias: ("m13", ()) for alias in ("min13", "-13")},
    **{alias: ("7", ("#5",)) for alias in ("aug7", "+7", "7+")},
    **{alias: ("maj7", ("#5",)) for alias in ("augmaj7", "+maj7", "maj7+", "Δ+", "+M7")},
}
_ALIASES_LONGEST_FIRST: Final = sorted(_ALIASES, key=len, reverse=True)
_ROOT_RE: Final = re.compile(r"[A-G](?:#+|b+)?")
_MODIFIER_RE: Final = re.compile(r"(b5|#5|b9|#9|#11|b13)|add(2|4|9|11|13)")
_ADD_ALIASES: Final = {2: 9, 4: 11}
_HINT: Final = "write a root A-G and a quality, like 'C', 'Am7', 'F#m7b5', 'Bbmaj7', 'G7(b9)' or 'F/G'"


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord symbol. Build one with ``parse_chord``; ``str()`` gives its canonical symbol."""

    root: SpelledPitch
    kind: str = ""
    alterations: tuple[str, ...] = ()
    adds: tuple[int, ...] = ()
    bass: SpelledPitch | None = None

    def __post_init__(self) -> None:
        if self.kind not in CHORD_KINDS:
            raise ValueError(f"unknown chord kind {self.kind!r}")
        if any(alteration not in ALTERATIONS for alteration in self.alterations):
            raise ValueError(f"unknown alteration in {self.alterations!r}")
        if any(add not in _ADDS for add in self.adds):
            raise ValueError(f"unknown added tone in {self.adds!r}")

    @property
    def intervals(self) -> tuple[Interval, ...]:
        """The chord's tones above its root, lowest first (alterations and added tones applied)."""
        tones = list(CHORD_KINDS[self.kind])
        for alteration in self.alterations:
            altered = ALTERATIONS[alteration]
            tones = [tone for tone in tones if tone.step != altered.step or tone.shift != 0]
            tones.append(altered)
        tones.extend(_ADDS[add] for add in self.adds)
        unique = dict.fromkeys(tones)
        return tuple(sorted(unique, key=lambda tone: (tone.semitones, tone.fifths)))

    @property
    def notes(self) -> tuple[SpelledPitch, ...]:
        """The chord's tones spelled from the root (without the bass of a slash chord)."""
        return tuple(self.root.transpose(interval) for interval in self.intervals)

    @property
    def pitch_classes(self) -> frozenset[int]:
        """Every pitch class the chord sounds, the slash bass included."""
        classes = {note.pc for note in self.notes}
        if self.bass is not None:
            classes.add(self.bass.pc)
        return frozenset(classes)

    @property
    def bass_note(self) -> SpelledPitch:
        """The lowest note as written: the slash bass, or the root."""
        return self.bass if self.bass is not None else self.root

    @property
    def third(self) -> str | None:
        """``"major"``, ``"minor"`` or None (sus and power chords have no third)."""
        steps = {(tone.step, tone.shift) for tone in self.intervals}
        if (2, 0) in steps:
            return "major"
        if (2, -1) in steps:
            return "minor"
        return None

    @property
    def suffix(self) -> str:
        """The symbol without its root and bass: ``m7``, ``7(b9,#11)``, ``madd9``."""
        altered = f"({','.join(self.alterations)})" if self.alterations else ""
        return self.kind + altered + "".join(f"add{add}" for add in self.adds)

    @property
    def symbol(self) -> str:
        slash = f"/{self.bass.name}" if self.bass is not None else ""
        return f"{self.root.name}{self.suffix}{slash}"

    def __str__(self) -> str:
        return self.symbol

    def transpose(self, interval: Interval) -> Chord:
        """The same chord with its root (and bass) moved up by ``interval``."""
        bass = self.bass.transpose(interval) if self.bass is not None else None
        return Chord(self.root.transpose(interval), self.kind, self.alterations, self.adds, bass)

    def midi(self, octave: int = 4) -> tuple[int, ...]:
        """Close position from the root in ``octave`` (C4 = 60), a slash bass just below it."""
        root = (octave + 1) * 12 + self.root.pc
        pitches = [root + interval.semitones for interval in self.intervals]
        if self.bass is not None:
            pitches.insert(0, root - ((self.root.pc - self.bass.pc) % 12 or 12))
        if pitches[0] < 0 or pitches[-1] > 127:
            raise ValueError(f"{self.symbol} in octave {octave} falls outside MIDI notes 0-127")
        return tuple(pitches)


def parse_chord(text: str) -> Chord:
    """Read a chord symbol (see the module doc); MusicParseError names the text it cannot read."""
    cleaned = unicodedata.normalize("NFKC", text).strip().replace("♭", "b").replace("♯", "#")
    root_match = _ROOT_RE.match(cleaned)
    if not root_match:
        raise MusicParseError("chord", text, _HINT)
    rest = cleaned[root_match.end() :]
    bass = None
    kind = ""
    alterations: tuple[str, ...] = ()
    for alias in _ALIASES_LONGEST_FIRST:
        if rest.startswith(alias):  # the longest first, so "maj7" is not read as "m" + "aj7"
            kind, alterations = _ALIASES[alias]
            rest = rest[len(alias) :]
            break
    slash = rest.rfind("/")
    if slash >= 0:
        bass_text = rest[slash + 1 :]
        if not re.fullmatch(r"[A-G](?:#+|b+)?", bass_text):
            raise MusicParseError("chord", text, f"the bass after '/' must be a note, not {bass_text!r}")
        bass = parse_pitch(bass_text)
        rest = rest[:slash]
    found_alterations, adds = _modifiers(rest, text)
    return _canonical(
        parse_pitch(root_match.group()), kind, (*alterations, *found_alterations), adds, bass, text
    )


def _modifiers(text: str, original: str) -> tuple[list[str], list[int]]:
    alterations: list[str] = []
    adds: list[int] = []
    body = re.sub(r"[(),\s]", " ", text).split()
    for chunk in body:
        position = 0
        while position < len(chunk):
            match = _MODIFIER_RE.match(chunk, position)
            if not match:
                raise MusicParseError("chord", original, _HINT)
            if match.group(1):
                alterations.append(match.group(1))
            else:
                number = int(match.group(2))
                adds.append(_ADD_ALIASES.get(number, number))
            position = match.end()
    return alterations, adds


def _canonical(
    root: SpelledPitch,
    kind: str,
    alterations: tuple[str, ...],
    adds: list[int],
    bass: SpelledPitch | None,
    text: str,
) -> Chord:
    altered = set(alterations)
    if kind == "m7" and "b5" in altered:
        kind, altered = "m7b5", altered - {"b5"}
    if kind in ("6", "m6") and 9 in adds:
        kind, adds = kind + "/9", [add for add in adds if add != 9]
    ordered = tuple(alteration for alteration in ALTERATIONS if alteration in altered)
    steps = {tone.step for tone in Chord(root, kind, ordered).intervals}
    for add in adds:
        if _ADDS[add].step in steps:
            raise MusicParseError("chord", text, f"add{add} names a degree the chord already has")
    return Chord(root, kind, ordered, tuple(sorted(set(adds))), bass)
