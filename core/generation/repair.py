"""Notes a model wrote, checked and mended before they reach the DAW.

A model answers the notes schema (``NOTES_SCHEMA``: times in beats, which models count
better than seconds), as well as it manages. ``repair_notes`` keeps what can be used and
says what it changed: pitches outside 0-127 by less than two octaves are moved by octaves
into range (a pitch further out, or a drum outside the GM map, means nothing and is
dropped); velocities are clamped to 1-127 (written 0-1, they are scaled); starts and
lengths are quantised to a twelfth of a beat (sixteenths and triplets both fit); a note
with no length, starting before the part or after its last bar, or not a note at all is
dropped; a note running past the end is cut there; a second note on the same pitch and
start is dropped; past ``MAX_MODEL_NOTES`` the rest are dropped.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Final

from dawai.core.errors import UpstreamError
from dawai.core.generation.models import GeneratedNote, PartRequest
from dawai.core.generation.progression import key_tones
from dawai.core.music import GM_DRUMS

__all__ = ["GRID", "MAX_MODEL_NOTES", "NOTES_SCHEMA", "Repaired", "repair_notes"]

MAX_MODEL_NOTES: Final = 2048
GRID: Final = 1 / 12  # beats
_OCTAVE_REACH: Final = 24  # semitones outside 0-127 that octaves may still fix

_NOTE_FIELDS: Final = {
    "pitch": {"type": "integer", "description": "MIDI note number, 0-127 (60 is middle C)."},
    "startBeat": {"type": "number", "description": "Beats (quarter notes) from the part's start, from 0."},
    "durationBeats": {"type": "number", "description": "Length in beats, more than 0."},
    "velocity": {"type": "integer", "description": "MIDI velocity, 1-127."},
}
# The subset every provider's structured output accepts: an object at the root, every
# property required, no additional properties, no oneOf or default; ranges are ours to check.
NOTES_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "notes": {
            "type": "array",
            "description": f"The part's notes, at most {MAX_MODEL_NOTES}.",
            "items": {
                "type": "object",
                "properties": _NOTE_FIELDS,
                "required": list(_NOTE_FIELDS),
                "additionalProperties": False,
            },
        },
        "description": {"type": "string", "description": "One sentence on what the part is."},
        "suggestions": {"type": "string", "description": "One or two ideas for what to try next."},
    },
    "required": ["notes", "description", "suggestions"],
    "additionalProperties": False,
}


class Repaired:
    """The usable notes (seconds at the tempo, sorted) and what was changed to get them."""

    __slots__ = ("changes", "description", "notes", "suggestions")

    def __init__(
        self, notes: tuple[GeneratedNote, ...], changes: tuple[str, ...], description: str, suggestions: str
    ) -> None:
        self.notes = notes
        self.changes = changes
        self.description = description
        self.suggestions = suggestions


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _quantise(beats: float) -> float:
    return round(beats / GRID) * GRID


def _text(value: Any) -> str:
    return value.strip()[:2000] if isinstance(value, str) else ""


def _pitch(raw: float, drums: bool, counts: Counter[str]) -> int | None:
    pitch = round(raw)
    if drums:
        if pitch in GM_DRUMS:
            return pitch
        counts["not a General MIDI drum (35-81)"] += 1
        return None
    if 0 <= pitch <= 127:
        return pitch
    if -_OCTAVE_REACH <= pitch <= 127 + _OCTAVE_REACH:
        counts["moved:pitch"] += 1
        while pitch < 0:
            pitch += 12
        while pitch > 127:
            pitch -= 12
        return pitch
    counts["a pitch too far outside 0-127 to mean anything"] += 1
    return None


def _velocity(raw: float, counts: Counter[str]) -> int:
    if 0 < raw <= 1 and raw != int(raw):
        counts["scaled:velocity"] += 1
        return max(1, round(raw * 127))
    velocity = round(raw)
    if not 1 <= velocity <= 127:
        counts["clamped:velocity"] += 1
    return max(1, min(127, velocity))


def repair_notes(value: Any, request: PartRequest) -> Repaired:
    """The model's ``value`` (the schema's object) made into notes that ``request`` allows.

    UpstreamError (a 502) when the value is not the schema's object, or when no note is
    left: there is nothing to give the DAW."""
    raw_notes = value.get("notes") if isinstance(value, dict) else None
    if not isinstance(raw_notes, list):
        raise UpstreamError("The model's reply had no list of notes; nothing could be generated.")
    counts: Counter[str] = Counter()
    if len(raw_notes) > MAX_MODEL_NOTES:
        counts[f"past the first {MAX_MODEL_NOTES} notes"] += len(raw_notes) - MAX_MODEL_NOTES
        raw_notes = raw_notes[:MAX_MODEL_NOTES]
    total = float(request.beats)
    per_beat = request.seconds_per_beat
    drums = request.type.is_drums
    seen: set[tuple[int, float]] = set()
    notes: list[GeneratedNote] = []
    for raw in raw_notes:
        fields = raw if isinstance(raw, dict) else {}
        pitch_raw, start_raw, length_raw, velocity_raw = (
            _number(fields.get(name)) for name in ("pitch", "startBeat", "durationBeats", "velocity")
        )
        if pitch_raw is None or start_raw is None or length_raw is None:
            counts["not a note (a pitch, start and length are numbers)"] += 1
            continue
        if length_raw <= 0:
            counts["no length"] += 1
            continue
        start = _quantise(start_raw)
        if start < 0:
            counts["starting before the part"] += 1
            continue
        if start >= total:
            counts[f"starting after bar {request.bars}"] += 1
            continue
        end = max(start + GRID, _quantise(start_raw + length_raw))
        if abs(start - start_raw) > 1e-6 or abs(end - (start_raw + length_raw)) > 1e-6:
            counts["quantised"] += 1
        if end > total:
            counts["cut"] += 1
            end = total
        pitch = _pitch(pitch_raw, drums, counts)
        if pitch is None:
            continue
        if (pitch, start) in seen:
            counts["a second note on the same pitch and start"] += 1
            continue
        seen.add((pitch, start))
        velocity = _velocity(velocity_raw if velocity_raw is not None else 96, counts)
        notes.append(
            GeneratedNote(pitch, round(start * per_beat, 6), round((end - start) * per_beat, 6), velocity)
        )
    notes.sort(key=lambda note: (note.start, note.pitch))
    changes = _changes(counts, request)
    if not notes:
        detail = "; ".join(changes) if changes else "the list was empty"
        raise UpstreamError(f"None of the model's notes could be used ({detail}).")
    if not drums:
        allowed = key_tones(request.key)
        outside = sum(note.pitch % 12 not in allowed for note in notes)
        if outside:
            changes += (f"{outside} of the notes are outside {request.key.name} (kept as written).",)
    value = value if isinstance(value, dict) else {}
    return Repaired(tuple(notes), changes, _text(value.get("description")), _text(value.get("suggestions")))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _changes(counts: Counter[str], request: PartRequest) -> tuple[str, ...]:
    fixed = {
        "moved:pitch": ("pitch", "pitches", "moved by octaves into 0-127"),
        "scaled:velocity": ("velocity", "velocities", "written 0-1 scaled to 1-127"),
        "clamped:velocity": ("velocity", "velocities", "clamped to 1-127"),
        "quantised": ("note", "notes", "quantised to a twelfth of a beat"),
        "cut": ("note", "notes", f"cut at the end of bar {request.bars}"),
    }
    said = [
        f"{_count(counts[reason], one, many)} {what}"
        for reason, (one, many, what) in fixed.items()
        if counts[reason]
    ]
    dropped = ((reason, n) for reason, n in counts.items() if reason not in fixed)
    said.extend(f"{_count(n, 'note', 'notes')} dropped ({reason})" for reason, n in dropped)
    return tuple(said)
