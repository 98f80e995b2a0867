"""The agent: Sense (the project and its stored summary), Plan (a model's structured
plan, or a local planner's), Act (every action validated before it goes out).

``reply`` answers a whole plan; when some of its actions fail validation, up to
``[agent].repair_rounds`` rounds send the reasons back to the model and take the plan it
sends again (if that one keeps at least as many actions). ``stream`` answers an
``EventStream`` of ``AgentStatus``, ``AgentActionEvent`` (one per validated action, as
soon as its closing brace has arrived upstream) and a closing ``AgentResult``.

A model id of ``local`` goes to the local ``Planner`` when one is installed (no key,
no network), else it is ``NotConfigured``; its actions pass the same validator.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from dawai.core import audit
from dawai.core.agent.actions import to_wire
from dawai.core.agent.context import AgentContext
from dawai.core.agent.incremental import OVERSIZED, ActionScanner
from dawai.core.agent.prompt import render_agent_prompt, repair_message
from dawai.core.agent.schema import plan_schema
from dawai.core.agent.validation import Dropped, PlanValidator, describe_dropped
from dawai.core.errors import NotConfigured, UnstructuredReply
from dawai.core.gateway import BuildRequest, Credentials, LLMGateway
from dawai.core.lenient_json import NoJson, loads_lenient
from dawai.core.models import ChatMessage, LLMRequest, Route, TextDelta
from dawai.core.music.errors import MusicParseError
from dawai.core.music.meter import DEFAULT_TEMPO, BarGrid, TimeSignature, parse_time_signature
from dawai.core.settings import Settings
from dawai.core.streams import EventStream
from dawai.core.summaries import owned_key, project_id_of
from dawai.ports.stores import SummaryStore

__all__ = [
    "LOCAL_MODEL",
    "AgentActionEvent",
    "AgentInput",
    "AgentResult",
    "AgentService",
    "AgentStatus",
    "LocalPlan",
    "Planner",
    "Sense",
]

LOCAL_MODEL = "local"
_log = logging.getLogger("dawai.agent")
_decode = msgspec.json.Decoder().decode
_PROSE = "The model answered in prose instead of a plan; nothing was changed. Try again, or another model."


class AgentInput(msgspec.Struct, frozen=True, kw_only=True):
    prompt: str
    model: str
    context: AgentContext = AgentContext()
    api_keys: Mapping[str, str] = {}
    api_key: str | None = None
    project_id: str | None = None
    # The client's token name, which the project's summary is kept under; None without tokens.
    owner: str | None = None


class Sense(msgspec.Struct, frozen=True, kw_only=True):
    """What the agent knows before it plans."""

    prompt: str
    context: AgentContext
    grid: BarGrid
    summary: dict[str, Any] | None = None


class LocalPlan(msgspec.Struct, frozen=True, kw_only=True):
    """A local planner's answer: actions in the wire form (they are validated like a
    model's), or ``understood=False`` with an ``error`` that says what it could not do."""

    actions: list[dict[str, Any]] = []
    summary: str = ""
    next_steps: str = ""
    understood: bool = True
    error: str = ""


@runtime_checkable
class Planner(Protocol):
    """Plans without a provider (``model: "local"``): deterministic, no key, no I/O."""

    def plan(self, sense: Sense) -> LocalPlan: ...


class AgentStatus(msgspec.Struct, frozen=True, tag="status", tag_field="type"):
    stage: Literal["sense", "plan", "act"]


class AgentActionEvent(msgspec.Struct, frozen=True, tag="action", tag_field="type"):
    action: dict[str, Any]


class AgentResult(msgspec.Struct, frozen=True, kw_only=True, tag="result", tag_field="type", rename="camel"):
    actions: list[dict[str, Any]] = []
    summary: str = ""
    next_steps: str = ""
    success: bool = True
    error: str = ""
    dropped: list[Dropped] = []
    model: str = ""
    provider: str = ""


AgentEvent = AgentStatus | AgentActionEvent | AgentResult


def _grid(context: AgentContext) -> BarGrid:
    project = context.project
    tempo = project.tempo if project.tempo is not None and math.isfinite(project.tempo) else DEFAULT_TEMPO
    tempo = tempo if 20 <= tempo <= 300 else DEFAULT_TEMPO
    signature = TimeSignature()
    if project.time_signature:
        with contextlib.suppress(MusicParseError):  # an unreadable one: 4/4
            signature = parse_time_signature(project.time_signature)
    return BarGrid(tempo, signature)


def _element(text: str) -> Any:
    """One action's text, decoded strictly, else leniently; ``Dropped``-worthy text raises."""
    if text == OVERSIZED:
        raise NoJson("the action is too large")
    try:
        return _decode(text)
    except msgspec.DecodeError:
        return loads_lenient(text)


def _text(value: Any) -> str:
    return value[:1000] if isinstance(value, str) else ""


class _Act:
    """The Act stage of one plan: actions validated in order, reasons kept."""

    def __init__(self, sense: Sense, settings: Settings) -> None:
        self.validator = PlanValidator(sense.context, settings.agent)
        self.kept: list[dict[str, Any]] = []
        self.dropped: list[Dropped] = []
        self.seen = 0

    def take(self, raw: Any) -> dict[str, Any] | None:
        index, self.seen = self.seen, self.seen + 1
        checked = self.validator.check(raw, index)
        if isinstance(checked, Dropped):
            self.dropped.append(checked)
            return None
        wire = to_wire(checked)
        self.kept.append(wire)
        return wire

    def take_text(self, text: str) -> dict[str, Any] | None:
        try:
            raw = _element(text)
        except NoJson:
            index, self.seen = self.seen, self.seen + 1
            reason = "not valid JSON" if text != OVERSIZED else "larger than an action may be"
            self.dropped.append(Dropped(index, "?", reason))
            return None
        return self.take(raw)

    def result(self, summary: str, next_steps: str, route: Route | None, problem: str = "") -> AgentResult:
        error = " ".join(e for e in (problem, describe_dropped(self.dropped, self.seen)) if e)
        success = not problem and (bool(self.kept) or not self.dropped)
        return AgentResult(
            actions=self.kept,
            summary=summary,
            next_steps=next_steps,
            success=success,
            error=error,
            dropped=self.dropped,
            model=route.model if route else LOCAL_MODEL,
            provider=route.provider if route else LOCAL_MODEL,
        )


class AgentService:
    def __init__(
        self,
        *,
        gateway: LLMGateway,
        summaries: SummaryStore,
        settings: Settings,
        local_planner: Planner | None = None,
    ) -> None:
        self._gateway = gateway
        self._summaries = summaries
        self._settings = settings
        self._limits = settings.agent
        self._max_tokens = settings.llm.max_tokens
        self._local = local_planner
        self.heartbeat_interval = settings.reliability.heartbeat_interval

    # -- Sense ---------------------------------------------------------------------------

    async def sense(self, request: AgentInput) -> Sense:
        summary = None
        project = project_id_of(None, request.project_id or request.context.the_project_id)
        if project is not None:
            try:
                summary = await self._summaries.get(owned_key(project, request.owner))
            except Exception as exc:  # the agent goes on without the summary
                _log.warning("summary lookup failed for project %s: %s", project, type(exc).__name__)
        return Sense(
            prompt=request.prompt, context=request.context, grid=_grid(request.context), summary=summary
        )

    # -- Plan ----------------------------------------------------------------------------

    def _request_for(self, sense: Sense, after: tuple[ChatMessage, ...] = ()) -> BuildRequest:
        prompt = render_agent_prompt(sense.prompt, sense.context, sense.grid, sense.summary)

        def build(route: Route) -> LLMRequest:
            return LLMRequest(
                model=route.model,
                system=prompt.system,
                messages=(*prompt.messages, *after),
                max_tokens=self._max_tokens,
                temperature=0.2,
            )

        return build

    def _credentials(self, request: AgentInput) -> Credentials:
        return Credentials(request.api_keys, request.api_key)

    def _local_planner(self) -> Planner:
        if self._local is None:
            raise NotConfigured(
                "The offline agent (model 'local') is not available in this build yet; "
                "use a provider model such as claude-3-sonnet, gpt-4 or gemini-2.5-pro."
            )
        return self._local

    async def _plan_once(
        self, request: AgentInput, sense: Sense, after: tuple[ChatMessage, ...]
    ) -> AgentResult:
        act = _Act(sense, self._settings)
        try:
            reply = await self._gateway.complete_json(
                request.model, self._credentials(request), self._request_for(sense, after), plan_schema()
            )
        except UnstructuredReply as exc:
            return act.result(_text(exc.text), "", None, _PROSE)
        value, route = reply.value, reply.route
        if isinstance(value, str):  # a plugin that gave text: read what JSON it holds
            try:
                value = loads_lenient(value)
            except NoJson:
                return act.result(_text(reply.value), "", route, _PROSE)
        if isinstance(value, list):
            value = {"actions": value}
        if not isinstance(value, dict) or not isinstance(value.get("actions"), list):
            return act.result("", "", route, "The model's plan had no list of actions; nothing was changed.")
        for raw in value["actions"]:
            act.take(raw)
        return act.result(_text(value.get("summary")), _text(value.get("nextSteps")), route)

    # -- the two answers -----------------------------------------------------------------

    async def reply(self, request: AgentInput) -> AgentResult:
        sense = await self.sense(request)
        if request.model == LOCAL_MODEL:
            return self._local_result(sense)
        result = await self._plan_once(request, sense, ())
        rounds = 0
        while result.dropped and rounds < self._limits.repair_rounds:
            rounds += 1
            plan = msgspec.json.encode(
                {"actions": result.actions, "summary": result.summary, "nextSteps": result.next_steps}
            ).decode()
            after = (ChatMessage("assistant", plan), ChatMessage("user", repair_message(result.error)))
            repaired = await self._plan_once(request, sense, after)
            if len(repaired.actions) < len(result.actions) or not repaired.success:
                break
            result = repaired
        return result

    def _local_result(self, sense: Sense) -> AgentResult:
        audit.note_route(LOCAL_MODEL, LOCAL_MODEL)
        planned = self._local_planner().plan(sense)
        act = _Act(sense, self._settings)
        if not planned.understood:
            return act.result(planned.summary, planned.next_steps, None, planned.error or "Not understood.")
        for raw in planned.actions:
            act.take(raw)
        result = act.result(planned.summary, planned.next_steps, None)
        if planned.error:  # understood in part: what it could not do goes with what it did
            result = msgspec.structs.replace(
                result, error=" ".join(e for e in (planned.error, result.error) if e)
            )
        return result

    async def stream(self, request: AgentInput) -> EventStream[AgentEvent]:
        """Start a streamed plan. Limits, routing and key errors raise here, before any
        byte is sent; the stream opens once the model's first token is kept (the
        gateway's rule, as for chat), so a failure before it is a problem document."""
        sense = await self.sense(request)
        if request.model == LOCAL_MODEL:
            result = self._local_result(sense)
            return EventStream(_local_events(result))
        upstream = self._gateway.stream_json(
            request.model, self._credentials(request), self._request_for(sense), plan_schema()
        )
        return EventStream(self._events(sense, upstream))

    async def _events(self, sense: Sense, upstream: Any) -> AsyncIterator[AgentEvent]:
        act = _Act(sense, self._settings)
        scanner = ActionScanner()
        try:
            await upstream.opened()
            yield AgentStatus("sense")
            yield AgentStatus("plan")
            acting = False
            async for event in upstream:
                if not isinstance(event, TextDelta):
                    continue
                for text in scanner.feed(event.content):
                    wire = act.take_text(text)
                    if wire is not None:
                        if not acting:
                            acting = True
                            yield AgentStatus("act")
                        yield AgentActionEvent(wire)
            if not acting:
                yield AgentStatus("act")
            end = scanner.finish()
            route = upstream.route
            if not end.found_root:
                yield act.result(_text(end.head.strip()), "", route, _PROSE)
                return
            problem = ""
            if not end.saw_actions:
                problem = "The model's plan had no list of actions; nothing was changed."
            elif not end.complete:
                problem = (
                    f"The plan was cut off before its end; the {len(act.kept)} complete actions were kept."
                )
            yield act.result(end.summary or "", end.next_steps or "", route, problem)
        finally:
            await upstream.aclose()


async def _local_events(result: AgentResult) -> AsyncIterator[AgentEvent]:
    yield AgentStatus("sense")
    yield AgentStatus("plan")
    yield AgentStatus("act")
    for action in result.actions:
        yield AgentActionEvent(action)
    yield result
