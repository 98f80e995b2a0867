"""What the offline agent writes into actions: generated parts as contract notes, edits of
a track's notes (transpose, quantise, stretch), and effect settings.

Notes go out in the contract's form (``id``, ``pitch``, ``time`` and ``duration`` in
seconds, ``velocity`` 0..1). A context note without an id, time or duration cannot be
edited and is left alone; a velocity written as MIDI (above 1) is read as n/127.
"""

from __future__ import annotations

import math
from typing import Any, Final

from dawai.core.agent.actions import MAX_NOTE_DURATION, MAX_NOTE_SECONDS
from dawai.core.agent.context import ContextNote
from dawai.core.generation import MAX_BARS, PartRequest, PartType, Style, write_part
from dawai.core.music import BarGrid, Key

__all__ = [
    "NoteEdit",
    "effect_settings",
    "generated_notes",
    "quantised",
    "stretched",
    "track_end",
    "transposed",
]

NoteEdit = dict[str, Any]  # a contract note


def _velocity(value: float | None) -> float:
    if value is None or not math.isfinite(value) or value < 0:
        return 0.8
    return round(min(value / 127 if value > 1 else value, 1.0), 4)


def _editable(note: ContextNote) -> bool:
    return (
        note.id is not None
        and note.time is not None
        and note.duration is not None
        and note.pitch is not None
        and math.isfinite(note.time)
        and math.isfinite(note.duration)
        and math.isfinite(note.pitch)
        and note.duration > 0
        and note.time >= 0
    )


def _note(note: ContextNote, **changes: float) -> NoteEdit:
    assert note.pitch is not None and note.time is not None and note.duration is not None
    out: NoteEdit = {
        "id": str(note.id),
        "pitch": round(note.pitch),
        "time": note.time,
        "duration": note.duration,
        "velocity": _velocity(note.velocity),
    }
    out.update(changes)
    return out


def editable(notes: list[ContextNote]) -> list[ContextNote]:
    return [n for n in notes if _editable(n)]


def transposed(notes: list[ContextNote], semitones: int) -> list[NoteEdit] | None:
    """The notes moved by ``semitones``; ``None`` when one would leave MIDI's 0-127."""
    out = []
    for note in editable(notes):
        assert note.pitch is not None
        pitch = round(note.pitch) + semitones
        if not 0 <= pitch <= 127:
            return None
        out.append(_note(note, pitch=pitch))
    return out


def quantised(notes: list[ContextNote], step: float) -> list[NoteEdit]:
    """The notes whose start or length is off the grid of ``step`` seconds, moved onto it
    (starts to the nearest line, lengths to a whole number of steps, at least one)."""
    out = []
    for note in editable(notes):
        assert note.time is not None and note.duration is not None
        time = round(round(note.time / step) * step, 6)
        duration = round(max(step, round(note.duration / step) * step), 6)
        if abs(time - note.time) > 1e-6 or abs(duration - note.duration) > 1e-6:
            out.append(_note(note, time=time, duration=min(duration, MAX_NOTE_DURATION)))
    return out


def stretched(notes: list[ContextNote], factor: float) -> list[NoteEdit] | None:
    """The notes' starts (from the first note's) and lengths times ``factor``; ``None``
    when the result would run past the contract's limits."""
    usable = editable(notes)
    if not usable:
        return []
    anchor = min(n.time for n in usable if n.time is not None)
    out = []
    for note in usable:
        assert note.time is not None and note.duration is not None
        time = round(anchor + (note.time - anchor) * factor, 6)
        duration = round(note.duration * factor, 6)
        if time > MAX_NOTE_SECONDS or duration > MAX_NOTE_DURATION or duration <= 0:
            return None
        out.append(_note(note, time=time, duration=duration))
    return out


def track_end(notes: list[ContextNote], grid: BarGrid) -> float:
    """Where a part added after a track's notes starts: the barline at or after its end."""
    ends = [n.time + n.duration for n in editable(notes) if n.time is not None and n.duration is not None]
    if not ends:
        return 0.0
    return grid.bars_in(max(ends)) * grid.bar_seconds


def generated_notes(
    part: PartType, key: Key, style: Style, grid: BarGrid, bars: int, seed: int, prompt: str
) -> tuple[list[tuple[int, float, float, float]], str]:
    """``bars`` bars of a part from the local generator, in the grid's time signature (its
    bars and accents), as ``(pitch, time, duration, velocity 0..1)`` from 0, and its
    description."""
    length = bars * grid.bar_seconds
    request = PartRequest(
        part,
        key,
        tempo=grid.tempo,
        bars=max(1, min(MAX_BARS, bars)),
        seed=seed,
        prompt=prompt,
        meter=grid.signature,
    )
    written = write_part(request, style)
    out = []
    for note in written.notes:
        if note.start >= length - 1e-9:
            continue
        duration = round(min(note.duration, length - note.start), 6)
        if duration > 0:
            out.append((note.pitch, note.start, duration, round(note.velocity / 127, 4)))
    return out, written.description


_HEAVY: Final = (
    "a lot",
    "lots",
    "heavy",
    "heavily",
    "more",
    "big",
    "wet",
    "huge",
    "強め",
    "強く",
    "深め",
    "深く",
    "多め",
    "たっぷり",
)
_LIGHT: Final = (
    "a little",
    "a bit",
    "subtle",
    "light",
    "slight",
    "less",
    "touch",
    "軽め",
    "軽く",
    "薄め",
    "少し",
    "ちょっと",
    "控えめ",
)


def effect_settings(effect: str, text: str, grid: BarGrid, amount: float | None) -> dict[str, float]:
    """Settings a musician would start from for ``effect``, scaled by words of intensity
    in ``text`` (``a lot of reverb``, ``軽めのディレイ``) or a percentage (the wet mix)."""
    scale = 1.5 if any(w in text for w in _HEAVY) else 0.5 if any(w in text for w in _LIGHT) else 1.0
    beat = round(60.0 / grid.tempo, 4)

    def mix(base: float) -> float:
        if amount is not None:
            return round(max(0.0, min(amount, 100.0)) / 100, 3)
        return round(min(base * scale, 1.0), 3)

    if effect == "reverb":
        return {"mix": mix(0.3), "decay": round(2.0 * scale, 2), "preDelay": 0.02}
    if effect == "delay":
        time = (
            beat * 0.75
            if "dotted" in text or "付点" in text
            else beat / 2
            if "eighth" in text or "8分" in text or "1/8" in text
            else beat
        )
        return {"mix": mix(0.25), "time": round(time, 4), "feedback": round(min(0.35 * scale, 0.9), 3)}
    if effect == "eq":
        if any(w in text for w in ("bright", "明る", "high", "高音", "treble")):
            return {"low": 0.0, "mid": 0.0, "high": 3.0}
        if any(w in text for w in ("warm", "bass", "low", "暖か", "低音")):
            return {"low": 3.0, "mid": 0.0, "high": -1.5}
        if any(w in text for w in ("muddy", "clean", "clear", "こもり", "すっきり", "クリア")):
            return {"low": -3.0, "mid": -1.5, "high": 1.5}
        return {"low": -1.0, "mid": 0.0, "high": 1.5}
    if effect == "compressor":
        return {
            "threshold": round(-18.0 * scale, 1),
            "ratio": round(4.0 * scale, 1),
            "attack": 0.01,
            "release": 0.2,
        }
    if effect == "chorus":
        return {"mix": mix(0.4), "rate": 1.5, "depth": round(min(0.3 * scale, 1.0), 3)}
    return {"drive": round(min(0.5 * scale, 1.0), 3), "mix": mix(0.5), "tone": 0.5}
