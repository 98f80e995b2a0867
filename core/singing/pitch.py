"""Rule-based pitch: the f0 curve, one value per frame, from the notes.

Each note holds its MIDI pitch (plus ``key_shift``) exactly; frames between notes take the
nearer note's. Steps between notes are smoothed by a raised-cosine kernel of
``portamento`` seconds, so the glide is centred on the boundary and a held note is exactly
in tune once that long past its onset. Vibrato (optional) starts ``vibrato.delay`` seconds
into notes long enough to carry it, fades in over ``vibrato.fade``, and swings
``vibrato.cents`` either side at ``vibrato.rate`` Hz.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
from numpy.typing import NDArray

from dawai.core.models import SynthesisNote

__all__ = ["Vibrato", "f0_curve", "midi_to_hz"]


class Vibrato(msgspec.Struct, frozen=True):
    cents: float = 25.0
    rate: float = 5.5
    delay: float = 0.3
    fade: float = 0.2
    min_note: float = 0.45  # notes shorter than this, in seconds, get none


def midi_to_hz(midi: NDArray[np.float64] | float) -> NDArray[np.float64]:
    return np.asarray(440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0))


def f0_curve(
    notes: Sequence[SynthesisNote],
    total_frames: int,
    frame_seconds: float,
    *,
    key_shift: int = 0,
    portamento: float = 0.08,
    vibrato: Vibrato | None = None,
) -> NDArray[np.float64]:
    """f0 in Hz per frame for sorted, non-overlapping ``notes``."""
    if total_frames <= 0 or not notes:
        return np.zeros(max(total_frames, 0))
    starts = np.array([n.start for n in notes])
    ends = starts + np.array([n.duration for n in notes])
    pitches = np.array([n.pitch + key_shift for n in notes], dtype=np.float64)
    times = (np.arange(total_frames) + 0.5) * frame_seconds  # frame centres
    # The note sounding at each frame, else the nearer neighbour (the one before on a tie).
    after = np.searchsorted(starts, times, side="right")  # notes starting at or before t
    prev = np.clip(after - 1, 0, len(notes) - 1)
    nxt = np.clip(after, 0, len(notes) - 1)
    inside = (after > 0) & (times < ends[prev])
    nearer_next = (after < len(notes)) & ((starts[nxt] - times) < (times - ends[prev]))
    owner = np.where(inside, prev, np.where(nearer_next, nxt, prev))
    semitones = pitches[owner]
    width = max(1, round(portamento / frame_seconds))
    if width > 1 and len(notes) > 1:
        kernel = np.hanning(width + 2)[1:-1]
        kernel /= kernel.sum()
        padded = np.pad(semitones, (width // 2, width - 1 - width // 2), mode="edge")
        semitones = np.convolve(padded, kernel, mode="valid")
    if vibrato is not None and vibrato.cents > 0:
        elapsed = times - starts[owner]
        long_enough = (ends[owner] - starts[owner]) >= vibrato.min_note
        ramp = np.clip((elapsed - vibrato.delay) / max(vibrato.fade, 1e-6), 0.0, 1.0)
        remaining = np.clip((ends[owner] - times) / 0.08, 0.0, 1.0)  # settle before the next note
        swing = np.sin(2 * np.pi * vibrato.rate * np.maximum(elapsed - vibrato.delay, 0.0))
        semitones = semitones + np.where(
            inside & long_enough, ramp * remaining * swing * vibrato.cents / 100, 0.0
        )
    return midi_to_hz(semitones)
