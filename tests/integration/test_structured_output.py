"""Structured output through the gateway and the real SDKs, against the loopback fake.

Each built-in provider asks for it in its API's own way (Anthropic: a forced tool, its
input streamed as ``input_json_delta``; OpenAI and OpenAI-compatible servers: a strict
``json_schema`` response format; Gemini: ``responseJsonSchema`` with a JSON MIME type, on
the raw streaming path); the fake answers in that API's shape and refuses a malformed
request, as the real one would.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from dawai.bootstrap.container import build_container
from dawai.core.errors import UpstreamTruncated
from dawai.core.gateway import Credentials, LLMGateway
from dawai.core.models import ChatMessage, Finish, LLMRequest, Route, TextDelta, Usage
from tests.conftest import make_host, make_settings, upstream_env
from tests.fakes.llm_upstream import STRUCTURED_REPLY

PROVIDERS = ["anthropic", "openai", "google", "local"]
SCHEMA = {
    "type": "object",
    "properties": {"tempo": {"type": "integer"}, "key": {"type": "string"}, "mood": {"type": "string"}},
    "required": ["tempo", "key", "mood"],
    "additionalProperties": False,
}
EXPECTED = json.loads(STRUCTURED_REPLY)


@pytest.fixture
def gateway(upstream, tmp_path):
    config = tmp_path / "dawai.toml"
    config.write_text(
        f'[providers.local]\nkind = "openai-compatible"\nbase_url = "{upstream.base_url}/compat/v1"\n'
    )
    settings = make_settings(upstream_env(upstream, DAWAI_CONFIG=str(config)))
    container = build_container(settings, make_host(settings))
    upstream.reset()
    yield container.llm_gateway()
    asyncio.run(container.provider_pool().aclose())


def build(route: Route) -> LLMRequest:
    return LLMRequest(route.model, "Answer in JSON.", (ChatMessage("user", "Suggest a tempo"),), 64)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def asked_for(upstream, provider: str) -> dict:
    """The structured-output part of the last request the fake saw."""
    body = upstream.requests[-1].body
    if provider == "anthropic":
        return {"tools": body["tools"], "tool_choice": body["tool_choice"]}
    if provider == "google":
        config = body["generationConfig"]
        return {k: config[k] for k in ("responseMimeType", "responseJsonSchema")}
    return body["response_format"]


def native(provider: str) -> dict:
    if provider == "anthropic":
        tool = {"name": "answer", "description": "Give the answer.", "input_schema": SCHEMA}
        return {"tools": [tool], "tool_choice": {"type": "tool", "name": "answer"}}
    if provider == "google":
        return {"responseMimeType": "application/json", "responseJsonSchema": SCHEMA}
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True}}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_structured_reply_by_the_providers_own_mechanism(gateway: LLMGateway, upstream, provider):
    reply = run(gateway.complete_json(f"{provider}/fake", Credentials(), build, SCHEMA))
    assert reply.value == EXPECTED and reply.route == Route(provider, "fake")
    assert asked_for(upstream, provider) == native(provider)
    assert not upstream.requests[-1].stream


@pytest.mark.parametrize("provider", PROVIDERS)
def test_structured_stream_by_the_providers_own_mechanism(gateway: LLMGateway, upstream, provider):
    async def main():
        stream = gateway.stream_json(f"{provider}/fake+chunks=7", Credentials(), build, SCHEMA)
        return [event async for event in stream], stream.route

    events, route = run(main())
    pieces = [e.content for e in events if isinstance(e, TextDelta)]
    assert len(pieces) == 7 and json.loads("".join(pieces)) == EXPECTED
    assert isinstance(events[-2], Usage) and isinstance(events[-1], Finish)
    assert route == Route(provider, "fake+chunks=7")
    seen = upstream.requests[-1]
    assert seen.stream and asked_for(upstream, provider) == native(provider)
    if provider == "google":
        assert seen.path.endswith(":streamGenerateContent") and "alt=sse" in seen.query


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_structured_stream_cut_short_is_truncated(gateway: LLMGateway, provider):
    async def main():
        seen = []
        stream = gateway.stream_json(f"{provider}/fake+chunks=7+cut_after=3", Credentials(), build, SCHEMA)
        with pytest.raises(UpstreamTruncated):
            async for event in stream:
                seen.append(event)
        return seen

    seen = run(main())
    assert len(seen) == 3 and not any(isinstance(e, Finish) for e in seen)


def test_gemini_structured_stream_resumes_with_the_schema(gateway: LLMGateway, upstream):
    """A structured stream Gemini stops at its per-request limit goes on from the
    continuation token through the SDK, still asking for the schema."""

    async def main():
        stream = gateway.stream_json("google/fake+chunks=6+continue_after=2", Credentials(), build, SCHEMA)
        return [event async for event in stream]

    events = run(main())
    assert json.loads("".join(e.content for e in events if isinstance(e, TextDelta))) == EXPECTED
    resumed = upstream.requests[-1].body
    assert "continuationToken" in resumed
    assert resumed["generationConfig"]["responseJsonSchema"] == SCHEMA


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/messages", {"tools": [], "tool_choice": {"type": "tool", "name": "answer"}}),
        (
            "/v1/messages",
            {
                "tools": [{"name": "answer", "input_schema": {"type": "string"}}],
                "tool_choice": {"type": "tool", "name": "answer"},
            },
        ),
        (
            "/v1/chat/completions",
            {"response_format": {"type": "json_schema", "json_schema": {"name": "answer"}}},
        ),
        ("/v1beta/models/fake:generateContent", {"generationConfig": {"responseJsonSchema": SCHEMA}}),
    ],
)
def test_the_fake_refuses_a_malformed_structured_request(upstream, path, body):
    """What makes the tests above mean something: a request the real API would refuse is
    a 400 here too, not a reply."""
    import urllib.error
    import urllib.request

    data = json.dumps({"model": "fake", "messages": [], **body}).encode()
    sent = urllib.request.Request(upstream.base_url + path, data, {"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(sent, timeout=5)
    assert refused.value.code == 400
