"""Project summaries: what ``/api/update-summary`` computes and stores, and how a stored one
reads in a prompt.

``summarise`` turns a project's notes into the summary (the contract's camelCase shape, as
stored and sent): per track its note count, pitch range, density, key with confidence and
the chord of each bar (``dawai.core.music.analysis``); per project the key over every pitched
track, length, tempo, time signature and bars. ``SummaryService`` stores it through the
``SummaryStore`` port and, for a chat or agent request, finds the stored summary of the
project its context names (``project_id_of``) and renders it (``render_summary``) as a few
compact lines for the system prompt.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

import msgspec

from dawai.core.errors import NotConfigured
from dawai.core.music.analysis import DEFAULT_MAX_BARS, analyse_notes
from dawai.core.music.key_estimation import DEFAULT_PROFILE, estimate_key
from dawai.core.music.meter import DEFAULT_TEMPO, DEFAULT_TIME_SIGNATURE, BarGrid, TimeSignature
from dawai.ports.stores import SummaryStore

__all__ = [
    "PROJECT_ID_MAX_LENGTH",
    "PROJECT_ID_PATTERN",
    "ProjectNotes",
    "SummaryNote",
    "SummaryService",
    "SummaryTrack",
    "owned_key",
    "project_id_of",
    "render_summary",
    "summarise",
]

PROJECT_ID_MAX_LENGTH: Final = 128
# Letters, digits and ``. _ : -``, starting with a letter or digit: safe in a Redis key and a log.
PROJECT_ID_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9._:\-]*"
_PROJECT_ID: Final = re.compile(PROJECT_ID_PATTERN)
UNPITCHED_TYPES: Final = frozenset({"drums"})
_log = logging.getLogger(__name__)


class SummaryNote(msgspec.Struct, frozen=True):
    pitch: int
    time: float
    duration: float


class SummaryTrack(msgspec.Struct, frozen=True):
    id: str
    name: str
    type: str
    notes: tuple[SummaryNote, ...] = ()


class ProjectNotes(msgspec.Struct, frozen=True):
    project_id: str
    tracks: tuple[SummaryTrack, ...] = ()
    tempo: float = DEFAULT_TEMPO
    time_signature: TimeSignature = DEFAULT_TIME_SIGNATURE


def _rounded(value: float, places: int = 3) -> float:
    return round(value, places)


def summarise(
    project: ProjectNotes, *, profile: str = DEFAULT_PROFILE, max_bars: int = DEFAULT_MAX_BARS
) -> dict[str, Any]:
    """The summary of ``project`` (see the module doc); bars count from 1."""
    grid = BarGrid(project.tempo, project.time_signature)
    length = max((n.time + n.duration for t in project.tracks for n in t.notes), default=0.0)
    pitched = [n for t in project.tracks if t.type not in UNPITCHED_TYPES for n in t.notes]
    project_key = estimate_key(pitched, profile)
    tracks = []
    for track in project.tracks:
        analysis = analyse_notes(
            track.notes,
            grid,
            length,
            pitched=track.type not in UNPITCHED_TYPES,
            spelling_key=project_key.key if project_key else None,
            profile=profile,
            max_bars=max_bars,
        )
        tracks.append(
            {
                "id": track.id,
                "name": track.name,
                "type": track.type,
                "noteCount": analysis.note_count,
                "pitchRange": list(analysis.pitch_range) if analysis.pitch_range else None,
                "density": _rounded(analysis.density),
                "key": analysis.key.key.name if analysis.key else None,
                "keyConfidence": _rounded(analysis.key.confidence) if analysis.key else 0.0,
                "chords": [{"bar": c.bar, "chord": c.chord.symbol} for c in analysis.chords],
            }
        )
    return {
        "projectId": project.project_id,
        "key": project_key.key.name if project_key else None,
        "keyConfidence": _rounded(project_key.confidence) if project_key else 0.0,
        "tempo": project.tempo,
        "timeSignature": str(project.time_signature),
        "length": _rounded(length),
        "bars": grid.bars_in(length),
        "tracks": tracks,
    }


def owned_key(project_id: str, owner: str | None) -> str:
    """The key a project's summary is kept under: ``<owner>/<project id>`` for a project
    named by a client that came with a token (``owner``, the token's name), so one token's
    clients never read or replace another's summaries; the id itself without one. Neither
    token names nor project ids hold ``/``, so no two keys clash."""
    return project_id if owner is None else f"{owner}/{project_id}"


def project_id_of(context: object, project_id: str | None = None) -> str | None:
    """The project a request is about: ``project_id`` if given, else the context's
    ``project.id``, else its ``projectId``; None when none is a valid project id."""
    candidates: list[object] = [project_id]
    if isinstance(context, Mapping):
        project = context.get("project")
        if isinstance(project, Mapping):
            candidates.append(project.get("id"))
        candidates.append(context.get("projectId"))
    for candidate in candidates:
        if (
            isinstance(candidate, str)
            and len(candidate) <= PROJECT_ID_MAX_LENGTH
            and _PROJECT_ID.fullmatch(candidate)
        ):
            return candidate
    return None


def _text(value: object, limit: int = 60) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _chord_line(chords: object, max_chords: int) -> str:
    """``1 G | 2 D/F# | 3-4 Em | 5 C``: runs of one chord in consecutive bars joined."""
    if not isinstance(chords, Sequence) or isinstance(chords, str):
        return ""
    runs: list[list[Any]] = []  # [first bar, last bar, chord]
    for item in chords:
        if not isinstance(item, Mapping):
            continue
        bar, chord = item.get("bar"), item.get("chord")
        if not isinstance(bar, int) or isinstance(bar, bool) or not isinstance(chord, str):
            continue
        if runs and runs[-1][2] == chord and runs[-1][1] == bar - 1:
            runs[-1][1] = bar
        else:
            runs.append([bar, bar, chord])
    shown = [f"{a} {_text(c, 16)}" if a == b else f"{a}-{b} {_text(c, 16)}" for a, b, c in runs[:max_chords]]
    more = f" | … ({len(runs) - max_chords} more)" if len(runs) > max_chords else ""
    return " | ".join(shown) + more


def render_summary(summary: Mapping[str, Any], *, max_tracks: int = 16, max_chords: int = 32) -> str:
    """A stored summary as prompt text: one line for the project, one per track (at most
    ``max_tracks``) with its chords by bar (at most ``max_chords`` runs). Tolerant of missing
    or mistyped fields (a summary stored by another version); empty when nothing is usable."""
    parts = []
    if summary.get("key"):
        confidence = _number(summary.get("keyConfidence"))
        parts.append(f"key {_text(summary['key'], 20)}" + (f" ({confidence:.2f})" if confidence else ""))
    tempo = _number(summary.get("tempo"))
    if tempo:
        parts.append(f"{tempo:g} BPM")
    if summary.get("timeSignature"):
        parts.append(_text(summary["timeSignature"], 8))
    length, bars = _number(summary.get("length")), _number(summary.get("bars"))
    if length is not None:
        parts.append(f"{length:.1f} s" + (f" ({bars:g} bars)" if bars else ""))
    lines = ["Project: " + ", ".join(parts)] if parts else []
    tracks = summary.get("tracks")
    tracks = [t for t in tracks if isinstance(t, Mapping)] if isinstance(tracks, list) else []
    for track in tracks[:max_tracks]:
        head = f"{_text(track.get('name', '?'), 40)} [id={_text(track.get('id', '?'), 40)}"
        head += f", {_text(track['type'], 12)}]" if track.get("type") else "]"
        facts = []
        count = _number(track.get("noteCount"))
        if count is not None:
            facts.append(f"{count:g} notes")
        span = track.get("pitchRange")
        if isinstance(span, list) and len(span) == 2 and all(_number(p) is not None for p in span):
            facts.append(f"pitches {span[0]}-{span[1]}")
        density = _number(track.get("density"))
        if density:
            facts.append(f"{density:.2f} notes/s")
        if track.get("key"):
            confidence = _number(track.get("keyConfidence"))
            facts.append(f"key {_text(track['key'], 20)}" + (f" ({confidence:.2f})" if confidence else ""))
        chords = _chord_line(track.get("chords"), max_chords)
        if chords:
            facts.append(f"chords by bar: {chords}")
        lines.append(f"- {head}: " + "; ".join(facts))
    if len(tracks) > max_tracks:
        lines.append(f"- … {len(tracks) - max_tracks} more tracks")
    return "\n".join(lines)


class SummaryService:
    """Computes, stores and looks up project summaries through the ``SummaryStore`` port."""

    def __init__(
        self, store: SummaryStore, *, profile: str = DEFAULT_PROFILE, max_bars: int = DEFAULT_MAX_BARS
    ) -> None:
        self._store = store
        self._profile = profile
        self._max_bars = max_bars

    async def update(self, project: ProjectNotes, owner: str | None = None) -> dict[str, Any]:
        """Summarise ``project``, store it under its id (replacing the last one) and
        ``owner`` (see ``owned_key``), return it; ``NotConfigured`` (a 503) when the store fails."""
        # Up to tens of milliseconds for a large project: off the event loop, so streams go on.
        summary = await asyncio.to_thread(summarise, project, profile=self._profile, max_bars=self._max_bars)
        try:
            await self._store.put(owned_key(project.project_id, owner), summary)
        except Exception as exc:  # the store's own errors (Redis) are not ours to name
            raise NotConfigured(
                "The project summary store cannot be reached; check DAWAI_REDIS_URL and the Redis server."
            ) from exc
        return summary

    async def get(self, project_id: str, owner: str | None = None) -> dict[str, Any] | None:
        return await self._store.get(owned_key(project_id, owner))

    async def for_context(
        self, context: object, project_id: str | None = None, owner: str | None = None
    ) -> dict[str, Any] | None:
        """The stored summary of the project a request names (see ``project_id_of``), or None.

        A store that fails (Redis unreachable) gives None and a warning: a chat goes on
        without the summary rather than failing.
        """
        found = project_id_of(context, project_id)
        if found is None:
            return None
        try:
            return await self._store.get(owned_key(found, owner))
        except Exception as exc:
            _log.warning("summary lookup failed for project %s: %s", found, type(exc).__name__)
            return None

    async def prompt_text(
        self, context: object, project_id: str | None = None, owner: str | None = None
    ) -> str:
        """The stored summary of the project a request names, rendered for a prompt; "" if none."""
        summary = await self.for_context(context, project_id, owner)
        return render_summary(summary) if summary else ""
