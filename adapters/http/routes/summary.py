"""``POST /api/update-summary``: analyse a project's notes, store the summary, return it."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody

from dawai.adapters.http.auth import token_name
from dawai.adapters.http.openapi import problem_responses
from dawai.adapters.http.route_set import API_PREFIXES, Audit, RouteSet
from dawai.adapters.http.schemas import (
    SUMMARY_MAX_NOTES,
    TIME_SIGNATURE_PATTERN,
    SummaryResponse,
    UpdateSummaryBody,
)
from dawai.core.errors import FieldError, InvalidInput
from dawai.core.music import parse_time_signature
from dawai.core.music.meter import DEFAULT_TIME_SIGNATURE
from dawai.core.summaries import PROJECT_ID_PATTERN, ProjectNotes, SummaryNote, SummaryService, SummaryTrack

__all__ = ["routes", "to_project"]

_PROJECT_ID = re.compile(PROJECT_ID_PATTERN)
_TIME_SIGNATURE = re.compile(TIME_SIGNATURE_PATTERN)


def to_project(body: UpdateSummaryBody) -> ProjectNotes:
    """The core's input; the checks the schema cannot state are field errors here."""
    errors = []
    if not _PROJECT_ID.fullmatch(body.projectId):
        errors.append(
            FieldError("projectId", "must be letters, digits and . _ : -, starting with a letter or digit")
        )
    total = sum(len(track.notes) for track in body.tracks)
    if total > SUMMARY_MAX_NOTES:
        errors.append(FieldError("tracks", f"at most {SUMMARY_MAX_NOTES} notes in all tracks, not {total}"))
    signature = DEFAULT_TIME_SIGNATURE
    if _TIME_SIGNATURE.fullmatch(body.timeSignature):
        signature = parse_time_signature(body.timeSignature)
    else:
        errors.append(FieldError("timeSignature", "must be beats over a note value, like 4/4, 3/4 or 6/8"))
    if errors:
        raise InvalidInput("; ".join(f"{e.field}: {e.message}" for e in errors), errors)
    tracks = tuple(
        SummaryTrack(
            track.id,
            track.name,
            track.type,
            tuple(SummaryNote(note.pitch, note.time, note.duration) for note in track.notes),
        )
        for track in body.tracks
    )
    return ProjectNotes(body.projectId, tracks, body.tempo, signature)


async def _update_summary(
    data: JSONBody[UpdateSummaryBody],
    summaries: NamedDependency[SummaryService],
    request: Request[Any, Any, Any],
) -> SummaryResponse:
    """Analyse the project's notes, store the summary under `projectId` (replacing the last
    one) and return it: per track its note count, pitch range, density, key and the chord of
    each bar; for the project its key, tempo, time signature, length and bars. Later chat and
    agent requests whose `context.project.id` (or `context.projectId`) names the project get
    the summary in their prompt — on a server with tokens, those that come with the same
    token only."""
    summary = await summaries.update(to_project(data), token_name(request.scope))
    return msgspec.convert(summary, SummaryResponse)


def handlers() -> list[HTTPRouteHandler]:
    return [
        post(
            "/update-summary",
            summary="Analyse and store a project summary",
            tags=["summary"],
            status_code=200,
            responses=problem_responses(400, 503),
        )(_update_summary),
    ]


routes = RouteSet(
    API_PREFIXES, handlers, {"summaries": lambda container: container.summary_service()}, audit=Audit.ON
)
