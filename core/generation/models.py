"""What a generation asks for and what it gives: parts as notes in seconds at a tempo."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import msgspec

from dawai.core.music import Key

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
BEATS_PER_BAR: Final = 4  # parts are generated in 4/4


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

    @property
    def seconds_per_beat(self) -> float:
        return 60.0 / self.tempo

    @property
    def beats(self) -> int:
        return self.bars * BEATS_PER_BAR


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
