"""What a generation asks for and what it gives: parts as notes in seconds at a tempo."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import msgspec

from dawai.core.music import Key
from dawai.core.music.meter import DEFAULT_TIME_SIGNATURE, TimeSignature

__all__ = [
    "BEATS_PER_BAR",
    "DEFAULT_BARS",
    "DEFAULT_TEMPO",
    "MAX_BARS",
    "MAX_TEMPO",
    "MIN_TEMPO",
    "GeneratedNote",
    "Generation",
    "PartRequest",
    "PartType",
]

DEFAULT_TEMPO: Final = 120.0
MIN_TEMPO: Final = 20.0
MAX_TEMPO: Final = 300.0
DEFAULT_BARS: Final = 4
MAX_BARS: Final = 64
BEATS_PER_BAR: Final = 4  # quarter notes in a bar of 4/4, the default meter


class PartType(StrEnum):
    DRUM_PATTERN = "drum_pattern"
    BASSLINE = "bassline"
    CHORD_PROGRESSION = "chord_progression"
    MELODY = "melody"
    HARMONY = "harmony"

    @property
    def is_drums(self) -> bool:
        return self is PartType.DRUM_PATTERN


class GeneratedNote(msgspec.Struct, frozen=True):
    """A note of a part: MIDI pitch, start and duration in seconds, MIDI velocity 1-127."""

    pitch: int
    start: float
    duration: float
    velocity: int


class PartRequest(msgspec.Struct, frozen=True):
    """One part to write, every choice made: the generators' input."""

    type: PartType
    key: Key
    tempo: float = DEFAULT_TEMPO
    bars: int = DEFAULT_BARS
    seed: int = 0
    prompt: str = ""
    meter: TimeSignature = DEFAULT_TIME_SIGNATURE

    @property
    def seconds_per_beat(self) -> float:
        """Seconds of one quarter note (parts are written in quarter-note beats)."""
        return 60.0 / self.tempo

    @property
    def bar_beats(self) -> float:
        """Quarter notes in one bar of the meter: 3.0 in 3/4 and in 6/8, 3.5 in 7/8."""
        return self.meter.quarters_per_bar

    @property
    def beats(self) -> float:
        """The part's length in quarter notes."""
        return self.bars * self.bar_beats


class Generation(msgspec.Struct, frozen=True):
    """A written part: its notes (sorted by start, then pitch) and words about it."""

    type: PartType
    notes: tuple[GeneratedNote, ...]
    description: str
    suggestions: str
    key: str
    tempo: float
    bars: int
    seed: int | None
    model: str
    provider: str
    time_signature: str = "4/4"
