"""The tracks a plan can touch, and which one a command means.

``TrackTable`` starts from the request's tracks, takes in the tracks the plan adds and
forgets those it deletes, so a later command can name a track added earlier ("add a bass
track and mute it"). ``find`` reads a reference from a command, strongest first: a track
id (``track t2``, ``track 3`` — an id, else the third track), the current track
(``context.currentTrack``), a track's name, a kind of instrument (``the drums``,
``ベース``: the first track of that type or whose name says so), then ``it``/``それ`` for the
track the previous command touched. Ids of added tracks are ``track-N``, the smallest N
not used in the project, so the same request always gets the same plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

from dawai.core.agent.context import AgentContext, ContextNote
from dawai.core.agent.offline import lexicon as lx

__all__ = ["TrackRow", "TrackTable"]

_TRACK_ID_RE: Final = re.compile(r"(?:track|トラック)\s*(?:id\s*)?[#№]?\s*([\w-]{1,128})")
_NTH_RE: Final = re.compile(r"(\d{1,3})\s*(?:st|nd|rd|th)?\s*(?:track|番目のトラック|番目)")


@dataclass(slots=True)
class TrackRow:
    id: str
    name: str
    type: str
    notes: list[ContextNote] = field(default_factory=list)
    instrument: str | None = None

    def apply(self, edits: list[dict[str, Any]]) -> None:
        """Take in edited notes (by id) or added ones, so later commands see them."""
        changed = {str(e["id"]): e for e in edits}
        kept = [n for n in self.notes if n.id is None or str(n.id) not in changed]
        self.notes = kept + [
            ContextNote(
                id=str(e["id"]),
                pitch=e["pitch"],
                time=e["time"],
                duration=e["duration"],
                velocity=e["velocity"],
            )
            for e in edits
        ]

    def matches(self, kind: lx.Instrument) -> bool:
        if kind.track_type != "midi":
            return self.type == kind.track_type or bool(kind.pattern.search(lx.fold(self.name)))
        return self.type == "midi" and bool(
            kind.pattern.search(lx.fold(self.name)) or kind.pattern.search(lx.fold(self.instrument or ""))
        )


class TrackTable:
    def __init__(self, context: AgentContext, current: str | None) -> None:
        self.rows: list[TrackRow] = [
            TrackRow(str(t.id), t.name, t.type, list(t.notes)) for t in context.tracks
        ]
        self._used = {row.id for row in self.rows}
        self.note_ids = {str(n.id) for t in context.tracks for n in t.notes if n.id is not None}
        self.current = current if current is not None and self.get(current) else None
        self.last: TrackRow | None = None

    def get(self, track_id: str) -> TrackRow | None:
        return next((row for row in self.rows if row.id == track_id), None)

    def add(self, name: str, track_type: str, instrument: str | None) -> TrackRow:
        number = len(self.rows) + 1
        while f"track-{number}" in self._used:
            number += 1
        row = TrackRow(f"track-{number}", name, track_type, [], instrument)
        self._used.add(row.id)
        self.rows.append(row)
        self.last = row
        return row

    def delete(self, row: TrackRow) -> None:
        self.rows.remove(row)
        if self.last is row:
            self.last = None
        if self.current == row.id:
            self.current = None

    def note_id(self, row: TrackRow, start: int) -> tuple[str, int]:
        """A note id unused in the project, and the counter to go on from."""
        number = start
        while f"{row.id}-n{number}" in self.note_ids:
            number += 1
        found = f"{row.id}-n{number}"
        self.note_ids.add(found)
        return found, number + 1

    # -- references ----------------------------------------------------------------------

    def find(self, text: str, *, kinds: bool = True, pronouns: bool = True) -> TrackRow | None:
        """The track ``text`` (folded) names, or ``None``."""
        for match in _TRACK_ID_RE.finditer(text):
            row = self.get(match.group(1))
            if row is not None:
                return row
        for row in self.rows:
            if (
                len(row.id) > 1
                and not row.id.isdigit()
                and re.search(rf"(?<![\w-]){re.escape(lx.fold(row.id))}(?![\w-])", text)
            ):
                return row
        nth = _NTH_RE.search(text) or re.search(r"(?:track|トラック)\s*(\d{1,3})(?!\d)", text)
        if nth is not None and 1 <= int(nth.group(1)) <= len(self.rows):
            return self.rows[int(nth.group(1)) - 1]
        if self.current is not None and lx.CURRENT.search(text):
            return self.get(self.current)
        named = self._by_name(text)
        if named is not None:
            return named
        if kinds:
            kind = self.kind_in(text)
            if kind is not None:
                found = next((row for row in self.rows if row.matches(kind)), None)
                if found is not None:
                    return found
        if pronouns and self.last is not None and lx.PRONOUN.search(text):
            return self.last
        return None

    def _by_name(self, text: str) -> TrackRow | None:
        best: tuple[int, TrackRow] | None = None
        for row in self.rows:
            name = lx.fold(row.name).strip()
            if not name:
                continue
            pattern = rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])" if name.isascii() else re.escape(name)
            if re.search(pattern, text) and (best is None or len(name) > best[0]):
                best = (len(name), row)
        return best[1] if best else None

    @staticmethod
    def kind_in(text: str) -> lx.Instrument | None:
        """The kind of instrument named first in ``text``; the longer phrase wins at a tie."""
        found: tuple[int, int, lx.Instrument] | None = None
        for kind in lx.INSTRUMENTS:
            match = kind.pattern.search(text)
            if match and (found is None or (match.start(), -len(match.group(0))) < found[:2]):
                found = (match.start(), -len(match.group(0)), kind)
        return found[2] if found else None

    def default(self) -> TrackRow | None:
        """The track a command that names none means: the one the previous command
        touched, else the current track, else the only track."""
        if self.last is not None:
            return self.last
        if self.current is not None:
            return self.get(self.current)
        return self.rows[0] if len(self.rows) == 1 else None
