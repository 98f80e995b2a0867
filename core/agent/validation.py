"""The Act stage's gate: every action a model proposes is checked here, and only what
passes reaches the client.

``PlanValidator`` checks one action at a time, in plan order, against the request's
context and what earlier actions of the same plan did: a track added earlier may be
used, a track deleted earlier may not; note ids must exist on their track; an added track
gets an id unique in the project (the model's, or one we assign); added notes get ids
too. Field types and ranges are the action structs' (``actions.py``), checked by one
``msgspec.convert``; keys are read by ``dawai.core.music.parse_key`` and written in the
reply's form (``A minor``). The limits (actions per plan, notes per action and per plan)
come from ``[agent]``. A rejected action becomes a ``Dropped`` with the reason; the
validator never hands back anything it did not check.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from dawai.core.agent.actions import (
    ACTION_TYPES,
    Action,
    AddNotes,
    AddTrack,
    ApplyEffect,
    DeleteNotes,
    DeleteTrack,
    Note,
    UpdateNotes,
    UpdateProject,
    UpdateTrack,
)
from dawai.core.agent.context import AgentContext
from dawai.core.music import MusicParseError, parse_key
from dawai.core.music.meter import parse_time_signature
from dawai.core.settings import AgentSettings

__all__ = ["Dropped", "PlanValidator", "describe_dropped"]

# Characters of msgspec's message kept in a dropped action's reason.
_MAX_REASON = 200
# Tracks notes cannot go on.
_NO_NOTES = frozenset({"audio"})


class Dropped(msgspec.Struct, frozen=True):
    """An action that did not pass: its place in the plan, its type as written, and why."""

    index: int
    type: str
    reason: str


def _new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


class _Invalid(Exception):
    pass


class _Track:
    __slots__ = ("kind", "notes")

    def __init__(self, kind: str, notes: Iterable[str]) -> None:
        self.kind = kind
        self.notes = set(notes)


def _normalised(raw: Any) -> Any:
    """What models write instead of the contract, made into it before the strict check:
    params at the top level instead of under ``params``, effect settings as an object."""
    if not isinstance(raw, dict):
        return raw
    if "params" not in raw and isinstance(raw.get("type"), str):
        raw = {
            "type": raw["type"],
            "description": raw.get("description", ""),
            "params": {k: v for k, v in raw.items() if k not in ("type", "description")},
        }
    if raw.get("description") is None:
        raw = {**raw, "description": ""}
    params = raw.get("params")
    if raw.get("type") == "applyEffect" and isinstance(params, dict):
        settings = params.get("settings")
        if isinstance(settings, dict):
            params = {**params, "settings": [{"name": k, "value": v} for k, v in settings.items()]}
        elif settings is None:
            params = {**params, "settings": []}
        raw = {**raw, "params": params}
    return raw


class PlanValidator:
    """Checks one plan's actions in order (``check``); keep one per plan."""

    def __init__(
        self,
        context: AgentContext,
        limits: AgentSettings,
        *,
        new_id: Callable[[str], str] = _new_id,
    ) -> None:
        self._limits = limits
        self._new_id = new_id
        self._tracks: dict[str, _Track] = {}
        self._all_note_ids: set[str] = set()
        for track in context.tracks:
            ids = [str(n.id) for n in track.notes if n.id is not None]
            self._tracks[str(track.id)] = _Track(track.type, ids)
            self._all_note_ids.update(ids)
        # Ids used in the project, deleted tracks' included: an id is never reused.
        self._used_track_ids = set(self._tracks)
        self._deleted: set[str] = set()
        self.kept = 0
        self.notes = 0

    def check(self, raw: Any, index: int) -> Action | Dropped:
        """The action, checked and completed (ids assigned, key spelt), or why not."""
        kind = raw.get("type") if isinstance(raw, dict) else None
        kind = kind if isinstance(kind, str) else "?"
        if self.kept >= self._limits.max_actions:
            return Dropped(index, kind[:40], f"the plan has more than {self._limits.max_actions} actions")
        if not isinstance(raw, dict):
            return Dropped(index, kind, "an action must be an object")
        if kind not in ACTION_TYPES:
            known = ", ".join(ACTION_TYPES)
            return Dropped(index, kind[:40], f"unknown action type '{kind[:40]}' (known: {known})")
        try:
            action: Action = msgspec.convert(_normalised(raw), Action)
        except msgspec.ValidationError as exc:
            return Dropped(index, kind, _field_message(str(exc)))
        try:
            checked = self._in_context(action)
        except _Invalid as exc:
            return Dropped(index, kind, str(exc))
        self.kept += 1
        return checked

    # -- per type ------------------------------------------------------------------------

    def _track(self, track_id: str) -> _Track:
        if track_id in self._deleted:
            raise _Invalid(f"track '{track_id}' was deleted earlier in this plan")
        track = self._tracks.get(track_id)
        if track is None:
            raise _Invalid(
                f"unknown track '{track_id}': not in context.tracks nor added earlier in this plan"
            )
        return track

    def _count_notes(self, notes: list[Any]) -> None:
        if not notes:
            raise _Invalid("the note list is empty")
        if len(notes) > self._limits.max_notes_per_action:
            raise _Invalid(f"{len(notes)} notes; one action may carry {self._limits.max_notes_per_action}")
        if self.notes + len(notes) > self._limits.max_plan_notes:
            raise _Invalid(f"the plan would carry more than {self._limits.max_plan_notes} notes")

    def _in_context(self, action: Action) -> Action:
        if isinstance(action, AddTrack):
            return self._add_track(action)
        if isinstance(action, UpdateProject):
            return self._update_project(action)
        track_id = action.params.track_id
        track = self._track(track_id)
        if isinstance(action, UpdateTrack):
            p = action.params
            if p.name is None and p.volume is None and p.pan is None and p.muted is None and p.solo is None:
                raise _Invalid("updateTrack changes nothing: give name, volume, pan, muted or solo")
            return action
        if isinstance(action, DeleteTrack):
            self._deleted.add(track_id)
            self._all_note_ids -= track.notes
            return action
        if isinstance(action, AddNotes):
            return self._add_notes(action, track_id, track)
        if isinstance(action, UpdateNotes):
            self._count_notes(action.params.notes)
            ids = [n.id for n in action.params.notes]
            for position, note_id in enumerate(ids):
                if note_id is None:
                    raise _Invalid(f"notes[{position}] has no id: updateNotes changes existing notes")
                if note_id not in track.notes:
                    raise _Invalid(f"notes[{position}]: no note '{note_id}' on track '{track_id}'")
            if len(set(ids)) != len(ids):
                raise _Invalid("a note id appears twice")
            self.notes += len(ids)
            return action
        if isinstance(action, DeleteNotes):
            doomed = action.params.note_ids
            self._count_notes(doomed)
            for position, note_id in enumerate(doomed):
                if note_id not in track.notes:
                    raise _Invalid(f"noteIds[{position}]: no note '{note_id}' on track '{track_id}'")
            if len(set(doomed)) != len(doomed):
                raise _Invalid("a note id appears twice")
            track.notes.difference_update(doomed)
            self._all_note_ids.difference_update(doomed)
            self.notes += len(doomed)
            return action
        assert isinstance(action, ApplyEffect)
        names = [s.name for s in action.params.settings]
        if len(set(names)) != len(names):
            raise _Invalid("an effect setting is named twice")
        return action

    def _add_track(self, action: AddTrack) -> AddTrack:
        given = action.params.id
        if given is not None and given in self._used_track_ids:
            raise _Invalid(f"track id '{given}' is already used in this project")
        track_id = given
        while track_id is None or track_id in self._used_track_ids:
            track_id = self._new_id("track")
        self._used_track_ids.add(track_id)
        self._tracks[track_id] = _Track(action.params.track_type, ())
        if given is None:
            action = msgspec.structs.replace(
                action, params=msgspec.structs.replace(action.params, id=track_id)
            )
        return action

    def _add_notes(self, action: AddNotes, track_id: str, track: _Track) -> AddNotes:
        notes = action.params.notes
        self._count_notes(notes)
        if track.kind in _NO_NOTES:
            raise _Invalid(
                f"track '{track_id}' is an {track.kind} track: notes go on midi, drums or voice tracks"
            )
        fresh: set[str] = set()
        completed: list[Note] = []
        for position, note in enumerate(notes):
            note_id = note.id
            if note_id is not None and (note_id in self._all_note_ids or note_id in fresh):
                raise _Invalid(f"notes[{position}]: note id '{note_id}' is already used")
            while note_id is None or note_id in self._all_note_ids or note_id in fresh:
                note_id = self._new_id("note")
            fresh.add(note_id)
            completed.append(note if note.id is not None else msgspec.structs.replace(note, id=note_id))
        track.notes.update(fresh)
        self._all_note_ids.update(fresh)
        self.notes += len(notes)
        return msgspec.structs.replace(action, params=msgspec.structs.replace(action.params, notes=completed))

    def _update_project(self, action: UpdateProject) -> UpdateProject:
        p = action.params
        if p.tempo is None and p.key is None and p.time_signature is None:
            raise _Invalid("updateProject changes nothing: give tempo, key or timeSignature")
        key = p.key
        if key is not None:
            try:
                key = parse_key(key).name
            except MusicParseError:
                raise _Invalid(
                    f"key '{key}' is not a key (write it like 'A minor', 'F#m' or 'Bb major')"
                ) from None
        signature = p.time_signature
        if signature is not None:
            try:
                signature = str(parse_time_signature(signature))
            except MusicParseError:
                raise _Invalid(
                    f"timeSignature '{signature}' is not like '4/4' or '6/8' (1-32 over 1, 2, 4, 8, 16 or 32)"
                ) from None
        return msgspec.structs.replace(
            action, params=msgspec.structs.replace(p, key=key, time_signature=signature)
        )


def _field_message(message: str) -> str:
    """msgspec's message with its ``$.params.notes[3].pitch`` path written as the
    contract's field names (``params.notes[3].pitch``)."""
    text, sep, path = message.rpartition(" - at `$")
    if not sep:
        text, path = message, ""
    # msgspec quotes a bad enum value whole: a model's megabyte string must not become the
    # reply's error (nor, in a repair round, the model's next prompt).
    if len(text) > _MAX_REASON:
        text = text[: _MAX_REASON - 1] + "…"
    path = path.rstrip("`").lstrip(".")
    return f"{path}: {text}" if path else text


def describe_dropped(dropped: list[Dropped], total: int) -> str:
    """The reply's ``error``: how many were dropped and each reason; ``""`` for none."""
    if not dropped:
        return ""
    reasons = "; ".join(f"action {d.index + 1} ({d.type}): {d.reason}" for d in dropped[:20])
    more = f"; and {len(dropped) - 20} more" if len(dropped) > 20 else ""
    return f"Dropped {len(dropped)} of {total} actions: {reasons}{more}."
