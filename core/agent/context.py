"""What the agent reads from a request: the project settings and the tracks it may touch.

The wire ``context`` object is decoded straight into these (camelCase on the wire, unknown
keys ignored, as the contract says of ``context``). The types hold the request limits
(``MAX_TRACKS`` tracks, ``MAX_TRACK_NOTES`` notes a track), so they are field errors and
the OpenAPI schema states them.
Ids may arrive as numbers and are compared as strings.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = [
    "MAX_TRACKS",
    "MAX_TRACK_NOTES",
    "AgentContext",
    "ContextNote",
    "ContextProject",
    "ContextTrack",
    "track_id_of",
]

MAX_TRACKS = 64
MAX_TRACK_NOTES = 4096
Ident = str | int
Short = Annotated[str, msgspec.Meta(max_length=200)]


class ContextNote(msgspec.Struct, frozen=True, kw_only=True):
    id: Ident | None = None
    pitch: float | None = None
    time: float | None = None
    duration: float | None = None
    velocity: float | None = None


class ContextTrack(msgspec.Struct, frozen=True, kw_only=True):
    id: Ident
    name: Short = ""
    type: Short = "midi"
    notes: Annotated[list[ContextNote], msgspec.Meta(max_length=MAX_TRACK_NOTES)] = []


class ContextProject(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: Ident | None = None
    name: Short | None = None
    tempo: float | None = None
    key: Short | None = None
    time_signature: Short | None = None


class ContextCurrentTrack(msgspec.Struct, frozen=True, kw_only=True):
    """The track selected in the DAW (``context.currentTrack``); the agent reads its id."""

    id: Ident | None = None
    name: Short | None = None
    type: Short | None = None


class AgentContext(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    project: ContextProject = ContextProject()
    tracks: Annotated[list[ContextTrack], msgspec.Meta(max_length=MAX_TRACKS)] = []
    project_id: Ident | None = None
    current_track: ContextCurrentTrack | None = None

    @property
    def current_track_id(self) -> str | None:
        """``currentTrack.id`` as a string, when the client sent one."""
        track = self.current_track
        return None if track is None or track.id is None else str(track.id)

    @property
    def the_project_id(self) -> str | None:
        """``project.id``, else ``projectId``: the key of the stored summary."""
        found = self.project.id if self.project.id is not None else self.project_id
        return None if found is None else str(found)


def track_id_of(track: ContextTrack) -> str:
    return str(track.id)
