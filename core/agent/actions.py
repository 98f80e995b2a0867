"""The agent's action types: what a plan may ask the DAW to do, as msgspec structs.

One struct per action type of the wire contract (``addTrack`` ... ``updateProject``),
tagged by ``type``, each with its ``params`` and a ``description``. The structs carry the
ranges (``Meta``), so converting a model's JSON into them checks every field in one call
and names the path of the first bad one; what needs the request's context (track and note
ids, the key's spelling) is the validator's (``validation.py``). The provider schema
(``schema.py``) is derived from these same types.

Optional fields are ``None`` by default and left out of the wire form (``omit_defaults``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "ACTION_TYPES",
    "EFFECTS",
    "MAX_NOTE_SECONDS",
    "TRACK_TYPES",
    "Action",
    "ActionOut",
    "AddNotes",
    "AddNotesParams",
    "AddTrack",
    "AddTrackParams",
    "ApplyEffect",
    "ApplyEffectOut",
    "ApplyEffectOutParams",
    "ApplyEffectParams",
    "DeleteNotes",
    "DeleteNotesParams",
    "DeleteTrack",
    "DeleteTrackParams",
    "EffectSetting",
    "Note",
    "Plan",
    "UpdateNotes",
    "UpdateNotesParams",
    "UpdateProject",
    "UpdateProjectParams",
    "UpdateTrack",
    "UpdateTrackParams",
    "to_wire",
]

TrackType = Literal["midi", "drums", "audio", "voice"]
EffectName = Literal["reverb", "delay", "eq", "compressor", "chorus", "distortion"]
TRACK_TYPES: tuple[str, ...] = ("midi", "drums", "audio", "voice")
EFFECTS: tuple[str, ...] = ("reverb", "delay", "eq", "compressor", "chorus", "distortion")

# Where a note may start and how long it may last: ten hours of song, one hour of note
# (finite bounds also keep an overflowing 1e999 out).
MAX_NOTE_SECONDS = 36_000.0
MAX_NOTE_DURATION = 3_600.0

Id = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=1000)]
Pitch = Annotated[int, msgspec.Meta(ge=0, le=127)]
Time = Annotated[float, msgspec.Meta(ge=0, le=MAX_NOTE_SECONDS)]
Duration = Annotated[float, msgspec.Meta(gt=0, le=MAX_NOTE_DURATION)]
Velocity = Annotated[float, msgspec.Meta(ge=0, le=1)]
Volume = Annotated[float, msgspec.Meta(ge=0, le=100)]
Pan = Annotated[float, msgspec.Meta(ge=-100, le=100)]
Tempo = Annotated[float, msgspec.Meta(ge=20, le=300)]
SettingName = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")]
SettingValue = Annotated[float, msgspec.Meta(ge=-1_000_000, le=1_000_000)]


class _Params(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel"):
    pass


class Note(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A note: ``time`` and ``duration`` in seconds, ``velocity`` 0..1. ``id`` is ours to
    assign on ``addNotes`` when the model gives none; ``updateNotes`` needs an existing one."""

    id: Id | None = None
    pitch: Pitch
    time: Time
    duration: Duration
    velocity: Velocity


class EffectSetting(msgspec.Struct, frozen=True, kw_only=True):
    """One effect parameter (``mix``, ``decay``, ``feedback`` ...). The wire form is an
    object ``{name: value}``; the model writes a list, the one shape every provider's
    strict schema can hold."""

    name: SettingName
    value: SettingValue


class AddTrackParams(_Params, frozen=True):
    name: Name
    track_type: TrackType
    instrument: Name | None = None
    id: Id | None = None  # the model's or, when None, one we assign


class UpdateTrackParams(_Params, frozen=True):
    track_id: Id
    name: Name | None = None
    volume: Volume | None = None
    pan: Pan | None = None
    muted: bool | None = None
    solo: bool | None = None


class DeleteTrackParams(_Params, frozen=True):
    track_id: Id


class AddNotesParams(_Params, frozen=True):
    track_id: Id
    notes: list[Note]


class UpdateNotesParams(_Params, frozen=True):
    track_id: Id
    notes: list[Note]


class DeleteNotesParams(_Params, frozen=True):
    track_id: Id
    note_ids: list[Id]


class ApplyEffectParams(_Params, frozen=True):
    track_id: Id
    effect: EffectName
    settings: Annotated[list[EffectSetting], msgspec.Meta(max_length=16)] = []


class UpdateProjectParams(_Params, frozen=True):
    tempo: Tempo | None = None
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    time_signature: Annotated[str, msgspec.Meta(max_length=8)] | None = None


class _Action(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    description: Text = ""


class AddTrack(_Action, frozen=True, tag="addTrack"):
    params: AddTrackParams


class UpdateTrack(_Action, frozen=True, tag="updateTrack"):
    params: UpdateTrackParams


class DeleteTrack(_Action, frozen=True, tag="deleteTrack"):
    params: DeleteTrackParams


class AddNotes(_Action, frozen=True, tag="addNotes"):
    params: AddNotesParams


class UpdateNotes(_Action, frozen=True, tag="updateNotes"):
    params: UpdateNotesParams


class DeleteNotes(_Action, frozen=True, tag="deleteNotes"):
    params: DeleteNotesParams


class ApplyEffect(_Action, frozen=True, tag="applyEffect"):
    params: ApplyEffectParams


class UpdateProject(_Action, frozen=True, tag="updateProject"):
    params: UpdateProjectParams


class ApplyEffectOutParams(_Params, frozen=True):
    """``applyEffect`` params as the reply writes them: settings as ``{name: value}``."""

    track_id: Id
    effect: EffectName
    settings: dict[str, float] = {}


class ApplyEffectOut(_Action, frozen=True, tag="applyEffect"):
    params: ApplyEffectOutParams


Action = (
    AddTrack | UpdateTrack | DeleteTrack | AddNotes | UpdateNotes | DeleteNotes | ApplyEffect | UpdateProject
)
# The reply's form of a validated action (``to_wire``'s), for the wire schema.
ActionOut = (
    AddTrack
    | UpdateTrack
    | DeleteTrack
    | AddNotes
    | UpdateNotes
    | DeleteNotes
    | ApplyEffectOut
    | UpdateProject
)
ACTION_TYPES: tuple[str, ...] = (
    "addTrack",
    "updateTrack",
    "deleteTrack",
    "addNotes",
    "updateNotes",
    "deleteNotes",
    "applyEffect",
    "updateProject",
)


class Plan(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """What the model is asked for: the actions, what they do, and what to try next."""

    actions: list[Action]
    summary: Text
    next_steps: Text


def to_wire(action: Action) -> dict[str, Any]:
    """The contract's form of a validated action: ``{"type", "params", "description"}``,
    optional params left out, effect settings as an object."""
    wire: dict[str, Any] = msgspec.to_builtins(action)
    if isinstance(action, ApplyEffect):
        wire["params"]["settings"] = {s.name: s.value for s in action.params.settings}
    return wire
