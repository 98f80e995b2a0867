"""The Plan stage's prompt: what the model must know to write a valid plan.

The system prompt states the action types and their params, the project's tempo, time
signature and bar grid in seconds (so "bar 5" and "beat 3" become the right times), the
key, the tracks with their ids and notes (ids are what updates and deletions name), and
the stored project summary when there is one. The reply's language follows the user's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dawai.core.agent.context import AgentContext, ContextTrack
from dawai.core.models import ChatMessage
from dawai.core.music.meter import BarGrid
from dawai.core.prompting import detect_language
from dawai.core.summaries import render_summary

__all__ = ["AgentPrompt", "render_agent_prompt", "repair_message"]

MAX_NOTES_SHOWN = 200  # per track; the rest are counted
_LANGUAGES = {"ja": "Japanese", "en": "English"}

SYSTEM = """You are the editing agent inside DAWAI, a browser DAW. You change the user's song by
answering with a plan: a JSON object {{"actions": [...], "summary": str, "nextSteps": str}}.
Every action is {{"type": T, "params": {{...}}, "description": str}} with T one of:
- addTrack: name, trackType (midi|drums|audio|voice), instrument, id (a new id, or null)
- updateTrack: trackId and any of name, volume (0-100), pan (-100..100), muted, solo
- deleteTrack: trackId
- addNotes: trackId, notes [{{id (null for new), pitch 0-127, time s >= 0, duration s > 0, velocity 0-1}}]
- updateNotes: trackId, notes with the id of an existing note and their new values
- deleteNotes: trackId, noteIds
- applyEffect: trackId, effect (reverb|delay|eq|compressor|chorus|distortion), settings [{{name, value}}]
- updateProject: any of tempo (20-300 BPM), key (like "A minor"), timeSignature (like "6/8")
Use only track ids listed below or given by an addTrack earlier in the same plan (give new
tracks an id so later actions can use it). Fields you do not set are null. Times are seconds
from the start of the song. Drums use the General MIDI map (36 kick, 38 snare, 42 closed hat).
Keep to what the user asked; if nothing can be done, return no actions and say why in summary.
Write summary, nextSteps and descriptions in {language}."""


class AgentPrompt:
    __slots__ = ("messages", "system")

    def __init__(self, system: str, messages: tuple[ChatMessage, ...]) -> None:
        self.system, self.messages = system, messages


def _grid_lines(grid: BarGrid) -> str:
    beat, bar = grid.beat_seconds, grid.bar_seconds
    sig = grid.signature
    return (
        f"Tempo {grid.tempo:g} BPM, time signature {sig}: one beat ({_note_name(sig.unit)}) = {beat:.4g} s, "
        f"one bar = {bar:.4g} s. Bar N, beat B starts at (N-1)*{bar:.4g} + (B-1)*{beat:.4g} seconds "
        f"(bar 1 at 0 s, bar 5 at {grid.seconds(5):.4g} s; beat 3 of bar 1 at {grid.seconds(1, 3):.4g} s)."
    )


def _note_name(unit: int) -> str:
    return {1: "whole", 2: "half", 4: "quarter", 8: "eighth", 16: "sixteenth", 32: "32nd"}[unit] + " note"


def _short(value: Any, limit: int = 40) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _track_line(track: ContextTrack) -> str:
    head = f'- id="{_short(track.id, 128)}" name="{_short(track.name)}" type={_short(track.type, 12)}'
    notes = track.notes
    if not notes:
        return head + ", no notes"
    shown = []
    for note in notes[:MAX_NOTES_SHOWN]:
        parts = [f"{_short(note.id, 40)}:" if note.id is not None else "?:"]
        parts.append(f"p{note.pitch:g}" if note.pitch is not None else "p?")
        if note.time is not None:
            parts.append(f"@{note.time:.4g}")
        if note.duration is not None:
            parts.append(f"+{note.duration:.4g}")
        if note.velocity is not None:
            parts.append(f"v{note.velocity:.3g}")
        shown.append("".join(parts))
    more = f" … and {len(notes) - MAX_NOTES_SHOWN} more" if len(notes) > MAX_NOTES_SHOWN else ""
    return f"{head}, {len(notes)} notes (id:pitch@time+duration velocity): " + " ".join(shown) + more


def render_agent_prompt(
    prompt: str, context: AgentContext, grid: BarGrid, summary: Mapping[str, Any] | None
) -> AgentPrompt:
    system = SYSTEM.format(language=_LANGUAGES[detect_language(prompt)])
    project = context.project
    lines = ["", "Project:" + (f' "{_short(project.name)}"' if project.name else ""), _grid_lines(grid)]
    if project.key:
        lines.append(f"Key: {_short(project.key, 20)}")
    if context.tracks:
        lines.append("Tracks:")
        lines += [_track_line(track) for track in context.tracks]
    else:
        lines.append("Tracks: none yet.")
    if summary:
        rendered = render_summary(summary)
        if rendered:
            lines += ["Analysis of the project:", rendered]
    return AgentPrompt(system + "\n" + "\n".join(lines), (ChatMessage("user", prompt),))


def repair_message(reasons: str) -> str:
    """The user turn of a repair round: what was wrong, and what to send."""
    return (
        f"Some actions of that plan were rejected: {reasons} Send the whole plan again as one "
        "JSON object, with those actions corrected or left out and the valid ones kept."
    )
