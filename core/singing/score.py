"""A synthesis request checked against the rules and limits, and put in one normal form.

``prepare`` returns the request with its notes sorted by start, lyrics in NFC without
surrounding space and times rounded to the microsecond, or raises: ``InvalidInput`` (400)
naming each bad field (``notes[3].pitch``: outside 0–127 with the key shift; ``notes[4].start``:
overlaps the note before), ``TooLarge`` (413) for a render past ``max_seconds``. The normal
form is what the phrase cache keys on (``cache_key``), so two requests that differ only in
note order or float noise share an entry.
"""

from __future__ import annotations

import hashlib
import itertools
import math

import msgspec

from dawai.core.errors import FieldError, InvalidInput, TooLarge
from dawai.core.models import SynthesisNote, SynthesisRequest
from dawai.core.singing.lyrics import normalise_lyric

__all__ = ["SingingLimits", "cache_key", "prepare"]

# Two notes may touch; one starting more than this before the previous one ends overlaps it.
_TOLERANCE = 1e-6


class SingingLimits(msgspec.Struct, frozen=True):
    max_seconds: float = 300.0
    max_notes: int = 10_000
    min_steps: int = 1
    max_steps: int = 1000


def _invalid(errors: list[FieldError]) -> InvalidInput:
    return InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors)[:500], errors)


def prepare(request: SynthesisRequest, limits: SingingLimits) -> SynthesisRequest:
    """The request in normal form, or the error that refuses it."""
    errors: list[FieldError] = []
    if not request.notes:
        errors.append(FieldError("notes", "at least one note is needed"))
    if len(request.notes) > limits.max_notes:
        errors.append(FieldError("notes", f"at most {limits.max_notes} notes"))
    if request.steps is not None and not limits.min_steps <= request.steps <= limits.max_steps:
        errors.append(FieldError("steps", f"must be {limits.min_steps}–{limits.max_steps}"))
    for i, note in enumerate(request.notes):
        shifted = note.pitch + request.key_shift
        if not 0 <= shifted <= 127:
            with_shift = f" with keyShift {request.key_shift}" if request.key_shift else ""
            errors.append(FieldError(f"notes[{i}].pitch", f"{shifted} is outside 0–127{with_shift}"))
        if not (math.isfinite(note.start) and note.start >= 0):
            errors.append(FieldError(f"notes[{i}].start", "must be a time in seconds, 0 or more"))
        if not (math.isfinite(note.duration) and note.duration > 0):
            errors.append(FieldError(f"notes[{i}].duration", "must be more than 0 seconds"))
        if not normalise_lyric(note.lyric):
            errors.append(FieldError(f"notes[{i}].lyric", "is empty"))
    if errors:
        raise _invalid(errors)
    order = sorted(range(len(request.notes)), key=lambda i: (request.notes[i].start, i))
    for before, after in itertools.pairwise(order):
        a, b = request.notes[before], request.notes[after]
        if b.start < a.start + a.duration - _TOLERANCE:
            errors.append(
                FieldError(
                    f"notes[{after}].start",
                    f"overlaps note {before}, which ends at {a.start + a.duration:g} s",
                )
            )
    if errors:
        raise _invalid(errors)
    end = max(n.start + n.duration for n in request.notes)
    if end > limits.max_seconds:
        raise TooLarge(
            f"The render would last {end:.1f} s; this server renders at most {limits.max_seconds:g} s "
            "(singing.max_render_seconds)."
        )
    notes = tuple(
        SynthesisNote(
            pitch=request.notes[i].pitch,
            start=round(request.notes[i].start, 6),
            duration=round(request.notes[i].duration, 6),
            lyric=normalise_lyric(request.notes[i].lyric),
        )
        for i in order
    )
    return msgspec.structs.replace(request, notes=notes)


def cache_key(identity: str, request: SynthesisRequest) -> str:
    """The phrase cache's key: the voice's identity and the request's normal form, hashed."""
    digest = hashlib.sha256(msgspec.json.encode([identity, request]))
    return digest.hexdigest()
