"""Ghost text: ``/ghost_text/complete``, ``/analyze``, ``/feedback`` and forgetting a user
(also under ``/ai/api/ghost_text``)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, delete, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, PathParameter

from dawai.adapters.http.auth import client_scoped
from dawai.adapters.http.ghost_schemas import (
    USER_ID_PATTERN,
    GhostAnalyzeBody,
    GhostAnalyzeResponse,
    GhostCandidateOut,
    GhostCompleteBody,
    GhostCompleteResponse,
    GhostFeedbackBody,
    GhostLineOut,
    strict_bool,
)
from dawai.adapters.http.openapi import problem_responses
from dawai.adapters.http.route_set import AUDIT_OPT, Audit, RateClass, RouteSet
from dawai.core.errors import FieldError, InvalidInput
from dawai.core.ghost.service import GhostTextHandle
from dawai.core.ghost.text import utf16_length
from dawai.core.models import CompletionQuery

__all__ = ["routes"]

PREFIXES = ("/ghost_text", "/ai/api/ghost_text")


async def _complete(
    request: Request, data: JSONBody[GhostCompleteBody], ghost: NamedDependency[GhostTextHandle]
) -> GhostCompleteResponse:
    """What to insert at the cursor: up to ``maxCandidates`` lyric, chord, term or phrase
    candidates, best first. ``cursor`` counts UTF-16 code units (default: the end)."""
    service = await ghost.service()
    context = (
        {} if data.context is None else {k: v for k, v in msgspec.structs.asdict(data.context).items() if v}
    )
    query = CompletionQuery(
        text=data.text,
        cursor=utf16_length(data.text) if data.cursor is None else data.cursor,
        language=data.language,
        context=context,
        max_candidates=data.maxCandidates,
        user_id=None if data.userId is None else client_scoped(request.scope, data.userId),
    )
    reply = await service.complete(query)
    return GhostCompleteResponse(
        [GhostCandidateOut(c.text, c.score, c.kind) for c in reply.candidates], reply.latency_ms
    )


async def _analyze(
    data: JSONBody[GhostAnalyzeBody], ghost: NamedDependency[GhostTextHandle]
) -> GhostAnalyzeResponse:
    """The language, each line's syllables (morae for Japanese) and rhyme key, the rhyme
    scheme (stanzas apart by a space, ``-`` for a line without a rhyme) and the chords found."""
    service = await ghost.service()
    analysis = await service.analyze(data.text)
    return GhostAnalyzeResponse(
        "ja" if analysis.language == "ja" else "en",
        [GhostLineOut(line.text, line.syllables, line.rhyme) for line in analysis.lines],
        analysis.rhyme_scheme,
        list(analysis.chords),
    )


async def _feedback(
    request: Request, data: JSONBody[GhostFeedbackBody], ghost: NamedDependency[GhostTextHandle]
) -> None:
    """Whether the user accepted a shown candidate; that user's later completions rank
    accepted material higher (and no one else's)."""
    accepted = strict_bool(data.accepted, "accepted")
    event = data.event or ("accepted" if accepted else "dismissed")
    if (event == "accepted") != accepted:
        raise InvalidInput(
            f"event {event!r} disagrees with accepted={str(accepted).lower()}",
            [FieldError("event", 'must agree with accepted ("shown" only with accepted false)')],
        )
    service = await ghost.service()
    user = client_scoped(request.scope, data.userId)
    await service.feedback(user, data.text, data.candidate, event, data.kind)


async def _forget(
    request: Request,
    userId: Annotated[str, PathParameter(pattern=USER_ID_PATTERN, min_length=1, max_length=128)],
    ghost: NamedDependency[GhostTextHandle],
) -> None:
    """Remove everything kept about the user (feedback, learned weights, cached answers).
    Answers 204 whether or not anything was kept."""
    service = await ghost.service()
    await service.forget(client_scoped(request.scope, userId))


def handlers() -> list[HTTPRouteHandler]:
    problems = problem_responses(400, 503)
    return [
        post(
            "/complete",
            summary="Ghost-text candidates",
            tags=["ghost text"],
            status_code=200,
            responses=problems,
            opt={AUDIT_OPT: Audit.ON},
        )(_complete),
        post(
            "/analyze",
            summary="Syllables, rhymes and chords",
            tags=["ghost text"],
            status_code=200,
            responses=problems,
        )(_analyze),
        post(
            "/feedback",
            summary="Report an accepted or dismissed candidate",
            tags=["ghost text"],
            status_code=204,
            responses=problems,
        )(_feedback),
        delete(
            "/users/{userId:str}",
            summary="Forget a user",
            tags=["ghost text"],
            status_code=204,
            responses=problems,
        )(_forget),
    ]


routes = RouteSet(
    PREFIXES, handlers, {"ghost": lambda container: container.ghost_text()}, rate=RateClass.GHOST_TEXT
)
