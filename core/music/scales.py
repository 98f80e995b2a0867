"""Scales: the seven modes, harmonic and melodic minor, the pentatonics and the blues scale.

A scale is a tonic and a ``ScaleType``; its notes are spelled from the tonic by the type's
intervals, so every scale of seven notes uses each letter once (D harmonic minor is
``D E F G A Bb C#``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from dawai.core.music.pitch import Interval, SpelledPitch

__all__ = ["MODES", "Mode", "Scale", "ScaleType"]


class ScaleType(StrEnum):
    IONIAN = "ionian"
    DORIAN = "dorian"
    PHRYGIAN = "phrygian"
    LYDIAN = "lydian"
    MIXOLYDIAN = "mixolydian"
    AEOLIAN = "aeolian"
    LOCRIAN = "locrian"
    HARMONIC_MINOR = "harmonic minor"
    MELODIC_MINOR = "melodic minor"  # the ascending (jazz) form
    MAJOR_PENTATONIC = "major pentatonic"
    MINOR_PENTATONIC = "minor pentatonic"
    BLUES = "blues"

    @property
    def intervals(self) -> tuple[Interval, ...]:
        return _INTERVALS[self]

    @property
    def has_minor_third(self) -> bool:
        return Interval.parse("m3") in self.intervals


class Mode(StrEnum):
    """The seven modes of the major scale: what a key can be in (major is ionian, minor aeolian)."""

    IONIAN = "ionian"
    DORIAN = "dorian"
    PHRYGIAN = "phrygian"
    LYDIAN = "lydian"
    MIXOLYDIAN = "mixolydian"
    AEOLIAN = "aeolian"
    LOCRIAN = "locrian"

    MAJOR = "ionian"
    MINOR = "aeolian"

    @property
    def scale_type(self) -> ScaleType:
        return ScaleType(self.value)

    @property
    def is_minor(self) -> bool:
        """Whether the mode's third is minor (dorian, phrygian, aeolian, locrian)."""
        return self.scale_type.has_minor_third

    @property
    def signature_offset(self) -> int:
        """Sharps (flats negative) the key signature has beyond the tonic's major key: dorian -2."""
        return _SIGNATURE_OFFSETS[self]


MODES: Final = tuple(Mode)
_SIGNATURE_OFFSETS: Final = {
    Mode.IONIAN: 0,
    Mode.DORIAN: -2,
    Mode.PHRYGIAN: -4,
    Mode.LYDIAN: 1,
    Mode.MIXOLYDIAN: -1,
    Mode.AEOLIAN: -3,
    Mode.LOCRIAN: -5,
}

_INTERVALS: Final = {
    kind: tuple(Interval.parse(name) for name in names.split())
    for kind, names in {
        ScaleType.IONIAN: "P1 M2 M3 P4 P5 M6 M7",
        ScaleType.DORIAN: "P1 M2 m3 P4 P5 M6 m7",
        ScaleType.PHRYGIAN: "P1 m2 m3 P4 P5 m6 m7",
        ScaleType.LYDIAN: "P1 M2 M3 A4 P5 M6 M7",
        ScaleType.MIXOLYDIAN: "P1 M2 M3 P4 P5 M6 m7",
        ScaleType.AEOLIAN: "P1 M2 m3 P4 P5 m6 m7",
        ScaleType.LOCRIAN: "P1 m2 m3 P4 d5 m6 m7",
        ScaleType.HARMONIC_MINOR: "P1 M2 m3 P4 P5 m6 M7",
        ScaleType.MELODIC_MINOR: "P1 M2 m3 P4 P5 M6 M7",
        ScaleType.MAJOR_PENTATONIC: "P1 M2 M3 P5 M6",
        ScaleType.MINOR_PENTATONIC: "P1 m3 P4 P5 m7",
        ScaleType.BLUES: "P1 m3 P4 d5 P5 m7",
    }.items()
}


@dataclass(frozen=True, slots=True)
class Scale:
    tonic: SpelledPitch
    kind: ScaleType

    @property
    def notes(self) -> tuple[SpelledPitch, ...]:
        """The scale's notes spelled from the tonic, ascending."""
        return tuple(self.tonic.transpose(interval) for interval in self.kind.intervals)

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        return tuple(note.pc for note in self.notes)

    def degree(self, number: int) -> SpelledPitch:
        """The note on scale degree ``number`` (1 is the tonic; 8 wraps to the tonic)."""
        notes = self.notes
        return notes[(number - 1) % len(notes)]

    def contains(self, pitch: int) -> bool:
        """Whether a MIDI note (or pitch class) is in the scale."""
        return pitch % 12 in self.pitch_classes

    def midi_notes(self, low: int, high: int) -> tuple[int, ...]:
        """The scale's MIDI notes from ``low`` to ``high``, both included, ascending."""
        classes = set(self.pitch_classes)
        return tuple(note for note in range(max(low, 0), min(high, 127) + 1) if note % 12 in classes)

    def __str__(self) -> str:
        return f"{self.tonic} {self.kind.value}"
