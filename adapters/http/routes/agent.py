"""``POST /api/agent`` and ``POST /api/stream/agent`` (and under ``/ai/api``): agent mode.

The body is the contract's (``prompt``, ``context``, ``model``, ``apiKey``, ``apiKeys``;
``projectId`` too, for the stored summary). The reply is the validated plan; the stream
sends ``status`` events for the stages, one ``action`` event per validated action as soon
as it is complete upstream, a ``result``, then ``[DONE]``, with chat's rules for errors,
heartbeats, timeouts and disconnects (``sse_response``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody

from dawai.adapters.http.auth import token_name
from dawai.adapters.http.openapi import event_stream, problem_responses
from dawai.adapters.http.route_set import (
    API_PREFIXES,
    SHUTDOWN_OPT,
    SLOT_OPT,
    Audit,
    OnShutdown,
    RateClass,
    RouteSet,
    Slot,
)
from dawai.adapters.http.schemas import Key, KeysByProvider, ModelName, ProjectId, StreamError
from dawai.adapters.http.sse import frame, sse_response
from dawai.core.agent.actions import ActionOut
from dawai.core.agent.context import AgentContext
from dawai.core.agent.service import AgentActionEvent, AgentInput, AgentResult, AgentService, AgentStatus
from dawai.core.errors import FieldError, InvalidInput
from dawai.core.settings import DEFAULT_MODEL
from dawai.core.summaries import PROJECT_ID_PATTERN

__all__ = ["AgentBody", "AgentResponse", "routes", "to_input"]

MAX_PROMPT_CHARS = 4000
_PROJECT_ID = re.compile(PROJECT_ID_PATTERN)


class AgentBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    prompt: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_PROMPT_CHARS)]
    context: AgentContext | None = None
    model: ModelName = DEFAULT_MODEL
    apiKey: Key | None = None
    apiKeys: KeysByProvider | None = None
    projectId: ProjectId | None = None


class DroppedOut(msgspec.Struct, frozen=True):
    """An action the validator dropped: its place in the plan (from 0), its type, why."""

    index: int
    type: str
    reason: str


class AgentResponse(msgspec.Struct, frozen=True):
    actions: list[ActionOut]
    summary: str
    nextSteps: str
    success: bool
    error: str
    dropped: list[DroppedOut]
    model: str
    provider: str


class StatusEvent(msgspec.Struct, frozen=True, tag="status"):
    stage: Literal["sense", "plan", "act"]


class ActionEvent(msgspec.Struct, frozen=True, tag="action"):
    action: ActionOut


class ResultEvent(msgspec.Struct, frozen=True, tag="result"):
    summary: str
    nextSteps: str
    success: bool
    error: str
    dropped: list[DroppedOut]
    model: str
    provider: str


def to_input(body: AgentBody, request: Request[Any, Any, Any]) -> AgentInput:
    """The core's input; ``projectId`` is checked against the pattern update-summary
    stores projects under (the schema states it; msgspec checks only its length)."""
    if body.projectId is not None and not _PROJECT_ID.fullmatch(body.projectId):
        message = "must be letters, digits and . _ : -, starting with a letter or digit"
        raise InvalidInput(f"projectId: {message}", [FieldError("projectId", message)])
    return AgentInput(
        prompt=body.prompt,
        model=body.model,
        context=body.context or AgentContext(),
        api_keys=body.apiKeys or {},
        api_key=body.apiKey or None,
        project_id=body.projectId,
        owner=token_name(request.scope),
    )


def _outcome(result: AgentResult) -> tuple[str, str, bool, str, list[DroppedOut], str, str]:
    """The fields the reply and the stream's `result` event share, in their order."""
    dropped = [DroppedOut(d.index, d.type, d.reason) for d in result.dropped]
    return (
        result.summary,
        result.next_steps,
        result.success,
        result.error,
        dropped,
        result.model,
        result.provider,
    )


def _agent_frames(item: Any) -> bytes:
    if isinstance(item, AgentActionEvent | AgentStatus):
        return frame(item)
    assert isinstance(item, AgentResult)
    return frame(ResultEvent(*_outcome(item)))


async def _agent(
    data: JSONBody[AgentBody], agent: NamedDependency[AgentService], request: Request[Any, Any, Any]
) -> AgentResponse:
    """Plan edits to the song: the validated actions, what they do, what next. Actions that
    fail validation are left out, each named in `error` and `dropped`."""
    result = await agent.reply(to_input(data, request))
    return AgentResponse(msgspec.convert(result.actions, list[ActionOut]), *_outcome(result))


async def _stream_agent(
    data: JSONBody[AgentBody],
    agent: NamedDependency[AgentService],
    request: Request[Any, Any, Any],
) -> Response[Any]:
    """The plan as Server-Sent Events: `status` events (`sense`, `plan`, `act`), one
    `action` per validated action as soon as the model has finished writing it, then
    `result` and `[DONE]`. Failures before the model's first token are problem+json;
    after it, an in-band `error` event."""
    stream = await agent.stream(to_input(data, request))
    return await sse_response(request, stream, agent.heartbeat_interval, encode=_agent_frames)


AGENT_PROBLEMS = problem_responses(400, 401, 429, 502, 503, 504)


def handlers() -> list[HTTPRouteHandler]:
    stream_responses = {
        200: event_stream(
            StatusEvent | ActionEvent | ResultEvent | StreamError,
            "`status` events, one `action` per validated action, then `result`, then `[DONE]`.",
        ),
        **AGENT_PROBLEMS,
    }
    return [
        post(
            "/agent",
            summary="Agent: plan edits to the song",
            tags=["agent"],
            status_code=200,
            responses=AGENT_PROBLEMS,
        )(_agent),
        post(
            "/stream/agent",
            summary="Agent, streamed action by action as Server-Sent Events",
            # Let finish when the server stops; one of the client's capped streams while open.
            opt={SHUTDOWN_OPT: OnShutdown.DRAIN, SLOT_OPT: Slot.STREAM},
            tags=["agent"],
            status_code=200,
            responses=stream_responses,
        )(_stream_agent),
    ]


routes = RouteSet(
    API_PREFIXES,
    handlers,
    {"agent": lambda container: container.agent_service()},
    rate=RateClass.CHAT,
    audit=Audit.ON,
)
