"""AgentService over scripted providers: Sense (limits, the stored summary, the bar grid
in the prompt), Plan (the schema asked for), Act (validation, the repair round), the
streamed events, and the hook for a local planner."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from dawai.adapters.stores import MemorySummaryStore
from dawai.core.agent import AgentContext, plan_schema
from dawai.core.agent.service import (
    AgentActionEvent,
    AgentInput,
    AgentResult,
    AgentService,
    AgentStatus,
    LocalPlan,
    Sense,
)
from dawai.core.errors import NotConfigured, UpstreamError
from dawai.core.models import ChatEvent, Finish, LLMRequest, TextDelta
from tests.conftest import scripted_gateway

CONTEXT = {
    "project": {"id": "song-1", "tempo": 90, "timeSignature": "3/4", "key": "A minor"},
    "tracks": [
        {"id": "t1", "name": "Piano", "type": "midi", "notes": [{"id": "n1", "pitch": 60, "time": 0}]}
    ],
}
GOOD = {"type": "updateTrack", "params": {"trackId": "t1", "volume": 70}, "description": "quieter"}
BAD = {"type": "updateTrack", "params": {"trackId": "nope", "volume": 70}, "description": "?"}


def plan(*actions: Any, summary: str = "done") -> str:
    return json.dumps({"actions": list(actions), "summary": summary, "nextSteps": "listen"})


class PlanProvider:
    """Answers each call with the next reply text (the last repeats): ``complete_json``
    decodes it, ``stream_json`` streams it in ``pieces`` pieces."""

    def __init__(self, *replies: str, pieces: int = 7, fail: BaseException | None = None) -> None:
        self.name = "plans"
        self.replies = list(replies)
        self.pieces = pieces
        self.calls: list[tuple[LLMRequest, dict[str, Any]]] = []
        self.fail = fail

    def _next(self, request: LLMRequest, schema: dict[str, Any]) -> str:
        self.calls.append((request, schema))
        if self.fail is not None:
            raise self.fail
        return self.replies[min(len(self.calls), len(self.replies)) - 1]

    async def complete(self, request: LLMRequest) -> Any:
        raise AssertionError("the agent asks for structured output")

    def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]:
        raise AssertionError("the agent asks for structured output")

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        text = self._next(request, schema)
        try:
            return json.loads(text)
        except ValueError:
            return text  # a plugin without native support hands back text

    async def stream_json(self, request: LLMRequest, schema: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        text = self._next(request, schema)
        size = max(1, len(text) // self.pieces)
        for start in range(0, len(text), size):
            yield TextDelta(text[start : start + size])
        yield Finish("stop")

    async def aclose(self) -> None:
        return None


class EchoPlanner:
    def __init__(self) -> None:
        self.seen: list[Sense] = []

    def plan(self, sense: Sense) -> LocalPlan:
        self.seen.append(sense)
        if "tempo" not in sense.prompt:
            return LocalPlan(understood=False, error="I only know tempo here; try claude-3-sonnet.")
        return LocalPlan(actions=[{"type": "updateProject", "params": {"tempo": 100}}], summary="tempo")


def service(
    provider: PlanProvider, *, store: Any = None, planner: Any = None, tmp: Any = None
) -> AgentService:
    toml = "[agent]\nrepair_rounds = 0\n" if tmp is not None else ""
    gateway, settings = scripted_gateway({"plans": provider}, toml=toml, tmp=tmp)
    return AgentService(
        gateway=gateway, summaries=store or MemorySummaryStore(), settings=settings, local_planner=planner
    )


def ask(prompt: str = "make the piano quieter", model: str = "plans-1", **fields: Any) -> AgentInput:
    context = msgspec.convert(fields.pop("context", CONTEXT), AgentContext)
    return AgentInput(prompt=prompt, model=model, context=context, **fields)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 10))


def collect(agent: AgentService, request: AgentInput) -> list[Any]:
    async def main() -> list[Any]:
        stream = await agent.stream(request)
        return [event async for event in stream]

    return run(main())


def test_a_valid_plan_is_answered_whole():
    provider = PlanProvider(plan(GOOD))
    result = run(service(provider).reply(ask()))
    assert (
        result.success and result.error == "" and result.summary == "done" and result.next_steps == "listen"
    )
    assert result.actions == [GOOD]
    ((request, schema),) = provider.calls
    assert schema == plan_schema()
    assert request.messages[-1].content == "make the piano quieter"


def test_the_prompt_states_the_bar_grid_tracks_and_summary():
    store = MemorySummaryStore()
    run(store.put("song-1", {"key": "A minor", "keyConfidence": 0.9, "tracks": []}))
    provider = PlanProvider(plan(GOOD))
    run(service(provider, store=store).reply(ask("add a note at bar 5 beat 3")))
    system = provider.calls[0][0].system
    # 90 BPM in 3/4: a beat is 0.6667 s, a bar 2 s; bar 5 starts at 8 s.
    assert "one beat (quarter note) = 0.6667 s, one bar = 2 s" in system
    assert "bar 5 at 8 s" in system
    assert 'id="t1" name="Piano" type=midi, 1 notes' in system and "n1:p60@0" in system
    assert "key A minor (0.90)" in system


def test_an_invalid_action_is_dropped_and_one_repair_round_is_tried():
    provider = PlanProvider(plan(GOOD, BAD), plan(GOOD, {**BAD, "params": {"trackId": "t1", "pan": 10}}))
    result = run(service(provider).reply(ask()))
    assert len(provider.calls) == 2
    repair = provider.calls[1][0].messages
    assert repair[-2].role == "assistant" and "unknown track 'nope'" in repair[-1].content
    assert result.success and len(result.actions) == 2 and result.error == ""


def test_a_repair_that_keeps_fewer_actions_is_not_taken():
    provider = PlanProvider(plan(GOOD, BAD), plan(BAD))
    result = run(service(provider).reply(ask()))
    assert result.actions == [GOOD] and "Dropped 1 of 2 actions: action 2 (updateTrack)" in result.error
    assert result.success  # one valid action went through
    assert [d.reason for d in result.dropped] == [
        "unknown track 'nope': not in context.tracks nor added earlier in this plan"
    ]


def test_repair_rounds_can_be_turned_off(tmp_path):
    provider = PlanProvider(plan(BAD))
    result = run(service(provider, tmp=tmp_path).reply(ask()))
    assert not result.success and not result.actions and len(provider.calls) == 1


def test_a_plugin_that_answers_text_is_read_leniently_and_prose_is_a_failure():
    result = run(service(PlanProvider("```json\n" + plan(GOOD)[:-1] + ",}\n```")).reply(ask()))
    assert result.actions == [GOOD]
    prose = run(service(PlanProvider("Sorry, I can't edit songs.")).reply(ask()))
    assert not prose.success and "prose" in prose.error and prose.summary == "Sorry, I can't edit songs."


def test_the_stream_sends_stages_then_each_action_then_the_result():
    events = collect(service(PlanProvider(plan(GOOD, BAD, GOOD), pieces=30)), ask())
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "AgentStatus",
        "AgentStatus",
        "AgentStatus",
        "AgentActionEvent",
        "AgentActionEvent",
        "AgentResult",
    ]
    assert [e.stage for e in events[:3]] == ["sense", "plan", "act"]
    assert all(isinstance(e, AgentActionEvent) and e.action == GOOD for e in events[3:5])
    result = events[-1]
    assert isinstance(result, AgentResult) and result.summary == "done" and "action 2" in result.error


def test_a_streamed_action_is_sent_before_the_upstream_ends():
    gate = asyncio.Event()
    seen: list[Any] = []

    class Held(PlanProvider):
        async def stream_json(self, request: LLMRequest, schema: dict[str, Any]) -> AsyncIterator[ChatEvent]:
            text = plan(GOOD, GOOD)
            cut = text.index('"quieter"}') + len('"quieter"}')
            yield TextDelta(text[:cut])
            await asyncio.wait_for(gate.wait(), 5)  # held until the first action was read
            yield TextDelta(text[cut:])
            yield Finish("stop")

    async def main() -> None:
        stream = await service(Held()).stream(ask())
        async for event in stream:
            seen.append(event)
            if isinstance(event, AgentActionEvent):
                gate.set()

    run(main())
    assert sum(isinstance(e, AgentActionEvent) for e in seen) == 2


def test_a_streamed_prose_reply_is_a_failed_result():
    events = collect(service(PlanProvider("I would rather not.")), ask())
    assert isinstance(events[-1], AgentResult) and not events[-1].success and "prose" in events[-1].error


def test_a_failure_before_the_first_token_is_raised_when_the_stream_opens():
    async def main() -> None:
        stream = await service(PlanProvider(fail=UpstreamError("down", provider="plans"))).stream(ask())
        with pytest.raises(UpstreamError):
            await stream.opened()

    run(main())


def test_local_is_not_configured_until_a_planner_is_installed():
    with pytest.raises(NotConfigured, match="model 'local'"):
        run(service(PlanProvider()).reply(ask(model="local")))


def test_a_local_planner_plugs_in_and_passes_the_same_validator():
    planner = EchoPlanner()
    agent = service(PlanProvider(), planner=planner)
    result = run(agent.reply(ask("set the tempo", model="local")))
    assert result.actions == [{"type": "updateProject", "params": {"tempo": 100.0}, "description": ""}]
    assert result.provider == "local" and planner.seen[0].grid.tempo == 90
    not_understood = run(agent.reply(ask("sing", model="local")))
    assert not not_understood.success and "claude-3-sonnet" in not_understood.error
    events = collect(agent, ask("set the tempo", model="local"))
    assert [type(e) for e in events] == [AgentStatus] * 3 + [AgentActionEvent, AgentResult]
