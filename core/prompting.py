"""The default prompt strategy: a music-production expert that answers in the user's
language and sees the DAW project compactly; and ``build_strategy``, the one place a
strategy is looked up by name (``llm.prompt_strategy``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dawai.core.catalog import Catalog
from dawai.core.errors import NotConfigured
from dawai.core.models import ChatMessage, Prompt, PromptInput
from dawai.core.summaries import render_summary
from dawai.ports.prompt import PromptStrategy

__all__ = ["MusicExpertStrategy", "build_strategy", "detect_language", "render_context"]

_JA = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_LANGUAGE_NAMES = {"ja": "Japanese", "en": "English"}

SYSTEM = """You are the music-production expert inside DAWAI, a browser DAW.
Give practical, specific advice on composition, arrangement, music theory, instruments,
mixing and mastering, genres, MIDI editing and using the DAW. Refer to the user's project
and tracks by name when it helps. Keep answers concise; use short lists for steps.
Always answer in the language the user writes in{language}."""


def detect_language(text: str) -> str:
    """``ja`` when the text has kana or kanji, else ``en`` (the two languages we serve)."""
    return "ja" if _JA.search(text) else "en"


def _fmt(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: Any, unit: str = "") -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return f"{value:g}{unit}"


def render_context(context: str | Mapping[str, Any] | None, max_tracks: int = 16) -> str:
    """The project/track context as a few compact lines; unknown keys are ignored."""
    if context is None:
        return ""
    if isinstance(context, str):
        return _fmt(context.strip(), 4000)
    lines: list[str] = []
    project = context.get("project")
    if isinstance(project, Mapping):
        parts = [f"name={_fmt(project['name'])}"] if project.get("name") else []
        tempo = _num(project.get("tempo"), " BPM")
        if tempo:
            parts.append(f"tempo={tempo}")
        for key in ("key", "timeSignature"):
            if project.get(key):
                parts.append(f"{key}={_fmt(project[key], 20)}")
        now, total = _num(project.get("currentTime"), "s"), _num(project.get("totalDuration"), "s")
        if now or total:
            parts.append(f"position={now or '?'}/{total or '?'}")
        if "isPlaying" in project:
            parts.append("playing" if project.get("isPlaying") else "stopped")
        if _num(project.get("tracksCount")):
            parts.append(f"tracks={project['tracksCount']}")
        lines.append("Project: " + ", ".join(parts))
    track = context.get("currentTrack")
    if isinstance(track, Mapping):
        parts = [f"{k}={_fmt(track[k], 40)}" for k in ("id", "name", "type") if track.get(k) is not None]
        if _num(track.get("notesCount")):
            parts.append(f"notes={track['notesCount']}")
        if _num(track.get("volume")):
            parts.append(f"volume={track['volume']}%")
        lines.append("Selected track: " + ", ".join(parts))
    tracks = context.get("tracks")
    if isinstance(tracks, list) and tracks:
        shown = [t for t in tracks if isinstance(t, Mapping)][:max_tracks]
        rendered = []
        for t in shown:
            notes = t.get("notes")
            count = f" ({len(notes)} notes)" if isinstance(notes, list) else ""
            name, kind = _fmt(t.get("name", "?"), 40), _fmt(t.get("type", "?"), 20)
            rendered.append(f"{name} [{kind}, id={_fmt(t.get('id', '?'), 40)}]{count}")
        more = len(tracks) - len(shown)
        lines.append("Tracks: " + "; ".join(rendered) + (f"; +{more} more" if more > 0 else ""))
    return "\n".join(line for line in lines if line)


class MusicExpertStrategy:
    name = "music-expert"

    def __init__(self, max_history: int = 20) -> None:
        self._max_history = max_history

    def render(self, prompt_input: PromptInput) -> Prompt:
        language = _LANGUAGE_NAMES[detect_language(prompt_input.message)]
        system = SYSTEM.format(language=f" (this user writes {language})")
        context = render_context(prompt_input.context)
        if context:
            system += "\n\nCurrent project:\n" + context
        analysis = render_summary(prompt_input.summary) if prompt_input.summary else ""
        if analysis:
            system += "\n\nProject analysis (notes as last sent for this project):\n" + analysis
        history = prompt_input.history[-self._max_history :]
        messages = (*history, ChatMessage("user", prompt_input.message))
        return Prompt(system=system, messages=_alternating(messages))


def _alternating(messages: tuple[ChatMessage, ...]) -> tuple[ChatMessage, ...]:
    """Merge consecutive same-role turns and drop a leading assistant turn: Anthropic and
    Gemini reject histories that do not alternate starting with the user."""
    merged: list[ChatMessage] = []
    for message in messages:
        if not merged and message.role == "assistant":
            continue
        if merged and merged[-1].role == message.role:
            merged[-1] = ChatMessage(message.role, merged[-1].content + "\n\n" + message.content)
        else:
            merged.append(message)
    return tuple(merged)


def build_strategy(catalog: Catalog, name: str) -> PromptStrategy:
    """The strategy registered as ``name``; ``NotConfigured`` naming the known ones if none is."""
    entry = catalog.strategies.get(name)
    if entry is None:
        known = ", ".join(sorted(catalog.strategies)) or "none"
        raise NotConfigured(f"Prompt strategy '{name}' is not registered (known: {known}).")
    return entry.factory()
