"""A plan being written: the project as the commands so far have left it (tempo, key, time
signature, tracks), the actions, and what to say about them."""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from dawai.core.agent.context import AgentContext
from dawai.core.agent.offline import lexicon as lx
from dawai.core.agent.offline.replies import Words, not_understood
from dawai.core.agent.offline.targets import TrackTable
from dawai.core.generation import STYLES, Style, read_prompt
from dawai.core.music import BarGrid, Key, MusicParseError, TimeSignature, parse_key, parse_time_signature
from dawai.core.music.meter import DEFAULT_TEMPO

__all__ = ["Clause", "PlanState"]

T = TypeVar("T")

_MODE_KEY_RE: Final = re.compile(
    r"(?<![a-z])([a-g])(#|♯|b|♭|-sharp|-flat| sharp| flat)?\s*"
    r"(major|minor|maj|min|メジャー|マイナー)(?![a-z])"
)
_AFTER_KEY_RE: Final = re.compile(
    r"(?:key|キー)\s*(?:of|to|=|:|is|を|は|が)?\s*(?:the\s+)?([a-g][#♯b♭]?m?)(?![a-z#♯])"
)
_ACCIDENTALS: Final = {"-sharp": "#", " sharp": "#", "-flat": "b", " flat": "b", "♯": "#", "♭": "b"}


@dataclass(frozen=True, slots=True)
class Clause:
    """One command: as written, NFKC-normalised, and folded (casefolded too)."""

    text: str
    normal: str
    folded: str
    sweep: bool = False  # one of the commands "all tracks" became: skip tracks it cannot apply to

    @classmethod
    def of(cls, text: str, *, sweep: bool = False) -> Clause:
        normal = unicodedata.normalize("NFKC", text).strip()
        return cls(text.strip(), normal, normal.casefold(), sweep)


class PlanState:
    def __init__(self, prompt: str, context: AgentContext, current: str | None, max_per_action: int) -> None:
        self.japanese = lx.is_japanese(prompt)
        project = context.project
        tempo = project.tempo
        self.tempo = (
            tempo if tempo is not None and math.isfinite(tempo) and 20 <= tempo <= 300 else DEFAULT_TEMPO
        )
        self.signature = TimeSignature()
        if project.time_signature:
            self.set_signature(project.time_signature)
        self.key: Key | None = None
        if project.key:
            try:
                self.key = parse_key(project.key)
            except MusicParseError:
                self.key = None
        whole = read_prompt(prompt)
        self.style: Style = whole.style if whole.genre_named else STYLES["pop"]
        project_id = context.the_project_id
        self.seed = zlib.crc32(project_id.encode()) % 100_000 if project_id else 0
        self.tracks = TrackTable(context, current)
        self.actions: list[dict[str, Any]] = []
        self.summary: list[Words] = []
        self.problems: list[Words] = []
        self.unknown = False
        self.next = ""
        self._per_action = max_per_action

    def grid(self, tempo: float | None = None) -> BarGrid:
        return BarGrid(tempo if tempo is not None else self.tempo, self.signature)

    def set_signature(self, text: str) -> bool:
        try:
            self.signature = parse_time_signature(text)
        except MusicParseError:
            return False
        return True

    def key_in(self, clause: Clause) -> Key | None:
        """The key a clause names, in any of the forms musicians write, else ``None``."""
        found = read_prompt(clause.normal).key
        if found is not None:
            return found
        for pattern in (_MODE_KEY_RE, _AFTER_KEY_RE):
            match = pattern.search(clause.folded)
            if match is None:
                continue
            if pattern is _MODE_KEY_RE:
                accidental = match.group(2) or ""
                written = f"{match.group(1)}{_ACCIDENTALS.get(accidental, accidental)} {match.group(3)}"
            else:
                written = match.group(1)
            try:
                return parse_key(written.replace("メジャー", "major").replace("マイナー", "minor"))
            except MusicParseError:
                continue
        return None

    # -- writing -------------------------------------------------------------------------

    def act(self, kind: str, params: dict[str, Any], description: str) -> None:
        self.actions.append({"type": kind, "params": params, "description": description[:1000]})

    def chunks(self, items: Sequence[T]) -> list[list[T]]:
        """``items`` in pieces one action may carry."""
        size = self._per_action
        return [list(items[i : i + size]) for i in range(0, len(items), size)]

    def said(self, words: Words) -> None:
        self.summary.append(words)

    def cannot(self, words: Words) -> None:
        self.problems.append(words)

    def not_understood(self, clause: Clause) -> None:
        self.unknown = True
        self.problems.append(not_understood(clause.text))
