"""Time signatures and the bar grid: where bar 5, beat 3 falls in seconds, and back.

``parse_time_signature`` reads ``4/4``, ``3/4``, ``6/8``, ``12/8``, ``7/8``, ``5/4`` (also
``4 / 4``, ``4:4`` and full-width digits). A ``BarGrid`` is a tempo in quarter-note beats per
minute and a time signature; bars and beats are counted from 1, as musicians count them, and
a beat is the signature's lower note (an eighth in 6/8). Tempo changes within a song are not
modelled: the grid is the project's one tempo.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from dawai.core.music.errors import MusicParseError

__all__ = ["DEFAULT_TEMPO", "DEFAULT_TIME_SIGNATURE", "BarGrid", "TimeSignature", "parse_time_signature"]

DEFAULT_TEMPO: Final = 120.0
_SIGNATURE_RE: Final = re.compile(r"\s*(\d{1,2})\s*[/:]\s*(\d{1,2})\s*")
_UNITS: Final = frozenset({1, 2, 4, 8, 16, 32})
_HINT: Final = (
    "write beats per bar over a note value, like '4/4', '3/4' or '6/8' (1-32 over 1, 2, 4, 8, 16 or 32)"
)


@dataclass(frozen=True, slots=True)
class TimeSignature:
    """``beats`` per bar, each a 1/``unit`` note: 6/8 is six eighths."""

    beats: int = 4
    unit: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.beats <= 32 or self.unit not in _UNITS:
            raise ValueError(f"no time signature {self.beats}/{self.unit}")

    @property
    def quarters_per_bar(self) -> float:
        """Quarter notes in one bar: 4.0 in 4/4, 3.0 in 6/8."""
        return self.beats * 4 / self.unit

    @property
    def beat_quarters(self) -> float:
        """One beat (the lower note) in quarter notes: 0.5 in 6/8."""
        return 4 / self.unit

    @property
    def compound(self) -> bool:
        """Beats in threes: 6/8, 9/8, 12/8 (a count past three, divisible by three, of
        eighths or shorter)."""
        return self.unit >= 8 and self.beats > 3 and self.beats % 3 == 0

    @property
    def groups(self) -> tuple[int, ...]:
        """How the bar's beats group, in beats, each group's first beat accented: 4/4 is
        2+2, 3/4 is 3, 2/4 is 2, 6/8 is 3+3, 12/8 is 3+3+3+3, 5/4 is 3+2, 7/8 is 3+2+2.
        Compound meters group in threes; others in twos, the first group a three when the
        count is odd; three beats or fewer are one group."""
        n = self.beats
        if n <= 3:
            return (n,)
        if self.compound:
            return (3,) * (n // 3)
        if n % 2 == 0:
            return (2,) * (n // 2)
        return (3,) + (2,) * ((n - 3) // 2)

    @property
    def group_starts(self) -> tuple[float, ...]:
        """Where each group begins within the bar, in quarter notes (0 first)."""
        starts, at = [], 0
        for size in self.groups:
            starts.append(at * self.beat_quarters)
            at += size
        return tuple(starts)

    def __str__(self) -> str:
        return f"{self.beats}/{self.unit}"


DEFAULT_TIME_SIGNATURE: Final = TimeSignature()


def parse_time_signature(text: str) -> TimeSignature:
    """Read a time signature (see the module doc); MusicParseError names the text."""
    match = _SIGNATURE_RE.fullmatch(unicodedata.normalize("NFKC", text))
    if match is None:
        raise MusicParseError("time signature", text, _HINT)
    beats, unit = int(match.group(1)), int(match.group(2))
    if not 1 <= beats <= 32 or unit not in _UNITS:
        raise MusicParseError("time signature", text, _HINT)
    return TimeSignature(beats, unit)


@dataclass(frozen=True, slots=True)
class BarGrid:
    """Bars and beats in seconds at ``tempo`` quarter notes per minute."""

    tempo: float = DEFAULT_TEMPO
    signature: TimeSignature = DEFAULT_TIME_SIGNATURE

    def __post_init__(self) -> None:
        if not (math.isfinite(self.tempo) and self.tempo > 0):
            raise ValueError(f"tempo must be a positive number of beats per minute, not {self.tempo}")

    @property
    def beat_seconds(self) -> float:
        """Seconds of one beat (the signature's lower note)."""
        return 60.0 / self.tempo * 4 / self.signature.unit

    @property
    def bar_seconds(self) -> float:
        return self.beat_seconds * self.signature.beats

    def seconds(self, bar: int, beat: float = 1.0) -> float:
        """When ``beat`` (from 1, fractions allowed) of ``bar`` (from 1) begins."""
        if bar < 1 or beat < 1:
            raise ValueError(f"bars and beats count from 1, not bar {bar} beat {beat}")
        return (bar - 1) * self.bar_seconds + (beat - 1) * self.beat_seconds

    def bar_at(self, seconds: float) -> int:
        """The bar (from 1) sounding at ``seconds``; a time on a barline belongs to the new bar.

        A time a hair before a barline (rounding of seconds written by a client) counts as on it.
        """
        position = max(seconds, 0.0) / self.bar_seconds
        nearest = round(position)
        if abs(position - nearest) < 1e-9:
            return nearest + 1
        return math.floor(position) + 1

    def bars_in(self, seconds: float) -> int:
        """How many bars ``seconds`` of music begins in (0 for none): the length in bars."""
        if seconds <= 0:
            return 0
        position = seconds / self.bar_seconds
        return max(1, math.ceil(position - 1e-9))
