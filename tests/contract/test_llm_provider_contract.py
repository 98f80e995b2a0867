"""The ``LLMProvider`` contract, run against every provider: ours and plugins'.

Each harness (see ``harness.py``) builds a provider for a scenario; the checks are the same
for all. Scenarios a harness cannot produce are skipped for it.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from dawai.core.errors import RateLimited, UpstreamAuthError, UpstreamError, UpstreamTruncated
from dawai.core.models import ChatMessage, Finish, LLMRequest, TextDelta, Usage
from dawai.ports.llm import JsonStreamingProvider, KeyedProvider, LLMProvider
from tests.contract.harness import JAPANESE, Harness

# Written the way OpenAI's strict mode wants it (every property required, nothing else allowed).
SCHEMA = {
    "type": "object",
    "properties": {"tempo": {"type": "integer"}, "key": {"type": "string"}, "mood": {"type": "string"}},
    "required": ["tempo", "key", "mood"],
    "additionalProperties": False,
}


def request(model: str, message: str = "Say hello to the band") -> LLMRequest:
    return LLMRequest(
        model=model, system="You are terse.", messages=(ChatMessage("user", message),), max_tokens=64
    )


def build(harness: Harness, scenario: str) -> tuple[LLMProvider, str]:
    made = harness.make(scenario)
    if made is None:
        pytest.skip(f"{harness.name} cannot produce the '{scenario}' scenario")
    return made


async def drain(provider: LLMProvider, req: LLMRequest) -> list:
    return [event async for event in provider.stream(req)]


def run(coro):
    return asyncio.run(coro)


def test_implements_the_port(harness: Harness):
    provider, _ = build(harness, "ok")
    assert isinstance(provider, LLMProvider)
    assert isinstance(provider.name, str) and provider.name


def test_stream_shape_and_stop_signal(harness: Harness):
    provider, model = build(harness, "ok")

    async def go():
        try:
            return await drain(provider, request(model))
        finally:
            await provider.aclose()

    events = run(go())
    assert all(isinstance(e, TextDelta | Usage | Finish) for e in events), events
    assert any(isinstance(e, TextDelta) and e.content for e in events)
    assert isinstance(events[-1], Finish), "the last event must be the stop signal"
    assert sum(isinstance(e, Finish) for e in events) == 1
    for usage in (e for e in events if isinstance(e, Usage)):
        assert usage.input_tokens >= 0 and usage.output_tokens >= 0
    expected = harness.expected_text("ok", "Say hello to the band")
    if expected is not None:
        assert "".join(e.content for e in events if isinstance(e, TextDelta)) == expected


def test_complete_matches_the_stream(harness: Harness):
    provider, model = build(harness, "ok")

    async def go():
        try:
            streamed = await drain(provider, request(model))
            reply = await provider.complete(request(model))
            return streamed, reply
        finally:
            await provider.aclose()

    streamed, reply = run(go())
    assert reply.text == "".join(e.content for e in streamed if isinstance(e, TextDelta))
    assert reply.finish_reason


def test_japanese_survives_chunking(harness: Harness):
    provider, model = build(harness, "japanese")

    async def go():
        try:
            return await drain(provider, request(model, JAPANESE))
        finally:
            await provider.aclose()

    events = run(go())
    text = "".join(e.content for e in events if isinstance(e, TextDelta))
    assert text == (harness.expected_text("japanese", JAPANESE) or JAPANESE)


def test_truncated_stream_raises(harness: Harness):
    provider, model = build(harness, "truncated")

    async def go():
        seen = []
        try:
            with pytest.raises(UpstreamTruncated):
                async for event in provider.stream(request(model)):
                    seen.append(event)
        finally:
            await provider.aclose()
        return seen

    assert not any(isinstance(e, Finish) for e in run(go()))


@pytest.mark.parametrize(
    ("scenario", "error"),
    [("auth", UpstreamAuthError), ("rate_limited", RateLimited), ("server_error", UpstreamError)],
)
def test_failures_raise_domain_errors(harness: Harness, scenario, error):
    provider, model = build(harness, scenario)

    async def go():
        try:
            with pytest.raises(error) as streamed:
                await drain(provider, request(model))
            with pytest.raises(error):
                await provider.complete(request(model))
            return streamed.value
        finally:
            await provider.aclose()

    exc = run(go())
    if scenario == "rate_limited":
        assert exc.retry_after is not None and exc.retry_after >= 0
    if scenario == "server_error":
        assert exc.retryable is True
    if scenario == "auth":
        assert "key" in exc.detail.lower()


def test_closing_early_is_clean(harness: Harness):
    provider, model = build(harness, "ok")

    async def go():
        stream = provider.stream(request(model))
        first = await anext(aiter(stream))
        await stream.aclose()
        await provider.aclose()
        return first

    assert isinstance(run(go()), TextDelta | Usage)


def test_structured_output(harness: Harness):
    made = harness.structured()
    if made is None:
        pytest.skip(f"{harness.name} has no structured-output scenario")
    provider, model, expected = made

    async def go():
        try:
            return await provider.complete_json(request(model, "Suggest a tempo and key"), SCHEMA)
        finally:
            await provider.aclose()

    assert run(go()) == expected


def _stream_json(harness: Harness, made: tuple[LLMProvider, str] | None):
    if made is None:
        pytest.skip(f"{harness.name} has no structured-stream scenario")
    provider, model = made
    if not isinstance(provider, JsonStreamingProvider):
        pytest.skip(f"{harness.name} has no stream_json (the gateway streams its complete_json value)")
    return provider, provider.stream_json(request(model, "Suggest a tempo and key"), SCHEMA)


def test_structured_stream_shape_and_value(harness: Harness):
    made = harness.structured()
    provider, stream = _stream_json(harness, made[:2] if made else None)

    async def go():
        try:
            return [event async for event in stream]
        finally:
            await provider.aclose()

    events = run(go())
    assert all(isinstance(e, TextDelta | Usage | Finish) for e in events), events
    assert isinstance(events[-1], Finish) and sum(isinstance(e, Finish) for e in events) == 1
    text = "".join(e.content for e in events if isinstance(e, TextDelta))
    assert json.loads(text) == made[2]


def test_structured_stream_truncated_raises(harness: Harness):
    provider, stream = _stream_json(harness, harness.structured_truncated())

    async def go():
        seen = []
        try:
            with pytest.raises(UpstreamTruncated):
                async for event in stream:
                    seen.append(event)
        finally:
            await provider.aclose()
        return seen

    assert not any(isinstance(e, Finish) for e in run(go()))


def test_keyed_views_send_over_the_instance_and_leave_it_open(harness: Harness):
    """A ``KeyedProvider`` (registered with ``keys_per_request``): a view per key works as a
    provider, and closing it leaves the instance it came from serving."""
    provider, model = build(harness, "ok")
    if not isinstance(provider, KeyedProvider):
        pytest.skip(f"{harness.name} takes its key at construction (no with_key)")

    async def go():
        try:
            views = [provider.with_key(key) for key in ("key-one", "key-two", None)]
            seen = []
            for view in views:
                assert isinstance(view, LLMProvider) and view.name == provider.name
                seen.append(await drain(view, request(model)))
                await view.aclose()  # a no-op: the instance owns the connections
            seen.append(await drain(provider, request(model)))
            return seen
        finally:
            await provider.aclose()

    for events in run(go()):
        assert isinstance(events[-1], Finish)
