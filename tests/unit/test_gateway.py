"""LLMGateway's public calls, on in-memory scripted providers.

Chat's reliability rules (retries, fallbacks, timeouts, truncation) are checked through
ChatService in test_chat_service.py; here: what every other feature relies on — the four
calls, the request built per route, the route reported, structured output with and without
a provider's own ``stream_json``, and when a stream counts as open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from dawai.core.errors import MissingCredentials, RateLimited, UpstreamAuthError, UpstreamTruncated
from dawai.core.gateway import Credentials, GatewayStream, LLMGateway
from dawai.core.models import ChatEvent, ChatMessage, Finish, LLMRequest, Route, TextDelta, Usage
from tests.conftest import scripted_gateway
from tests.fakes.providers import ScriptedProvider, ok_script

SCHEMA = {"type": "object", "properties": {"tempo": {"type": "integer"}}}


class JsonStreaming(ScriptedProvider):
    """A provider with the newer port's ``stream_json``: the script is its JSON stream."""

    def __init__(self, scripts, name: str = "fake") -> None:
        super().__init__(scripts, name)
        self.schemas: list[dict[str, Any]] = []

    def stream_json(self, request: LLMRequest, schema: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        self.schemas.append(schema)
        return self.stream(request)


def gateway_for(providers: dict[str, ScriptedProvider], toml: str = "", tmp=None) -> LLMGateway:
    return scripted_gateway(providers, toml=toml, tmp=tmp)[0]


def build(route: Route) -> LLMRequest:
    return LLMRequest(route.model, "Be brief.", (ChatMessage("user", "tempo?"),), max_tokens=32)


async def drain(stream: GatewayStream) -> list[ChatEvent]:
    return [event async for event in stream]


NO_KEYS = Credentials()


def test_complete_reports_the_route_usage_and_finish_reason():
    provider = ScriptedProvider([ok_script("a", "b", usage=Usage(5, 2))])
    reply = asyncio.run(gateway_for({"a": provider}).complete("a-model", NO_KEYS, build))
    assert (reply.text, reply.route, reply.usage, reply.finish_reason) == (
        "ab",
        Route("a", "a-model"),
        Usage(5, 2),
        "stop",
    )
    assert provider.calls[0] == build(Route("a", "a-model"))


def test_each_target_gets_the_request_built_for_its_route(tmp_path):
    primary = ScriptedProvider([[UpstreamAuthError("no")]])
    backup = ScriptedProvider([ok_script("ok")])
    toml = '[llm.fallbacks]\n"a-model" = ["b-model"]\n'
    gateway = gateway_for({"a": primary, "b": backup}, toml, tmp_path)
    built: list[Route] = []

    def recording(route: Route) -> LLMRequest:
        built.append(route)
        return build(route)

    async def main():
        stream = gateway.stream("a-model", NO_KEYS, recording)
        events = await drain(stream)
        return events, stream.route

    events, route = asyncio.run(main())
    assert built == [Route("a", "a-model"), Route("b", "b-model")]
    assert backup.calls[0].model == "b-model" and TextDelta("ok") in events
    assert route == Route("b", "b-model")


def test_credentials_choose_the_key_and_missing_ones_raise_before_any_call():
    provider = ScriptedProvider([ok_script("x")])
    gateway = gateway_for({"a": provider})
    with pytest.raises(MissingCredentials):
        gateway.stream("claude-3-sonnet", NO_KEYS, build)
    assert gateway.targets("a-model", Credentials({"a": "k"}))[0].route == Route("a", "a-model")
    assert provider.calls == []


def test_complete_json_uses_the_providers_structured_call_with_retries():
    provider = ScriptedProvider([[RateLimited("slow", retry_after=0.0)], ok_script("x")])
    reply = asyncio.run(gateway_for({"a": provider}).complete_json("a-model", NO_KEYS, build, SCHEMA))
    assert (reply.value, reply.route) == ({"text": "x"}, Route("a", "a-model"))
    assert len(provider.calls) == 2


def test_stream_json_uses_the_providers_stream_json():
    provider = JsonStreaming([[TextDelta('{"tem'), TextDelta('po": 90}'), Usage(4, 2), Finish("stop")]])

    async def main():
        return await drain(gateway_for({"a": provider}).stream_json("a-model", NO_KEYS, build, SCHEMA))

    events = asyncio.run(main())
    assert "".join(e.content for e in events if isinstance(e, TextDelta)) == '{"tempo": 90}'
    assert events[-2:] == [Usage(4, 2), Finish("stop")]
    assert provider.schemas == [SCHEMA]


def test_stream_json_without_stream_json_is_complete_json_in_one_piece():
    """A plugin written against the older port (no stream_json) still gives a structured
    stream: its complete_json value, encoded, then the stop signal."""
    provider = ScriptedProvider([ok_script("café")])
    assert not hasattr(provider, "stream_json")

    async def main():
        return await drain(gateway_for({"a": provider}).stream_json("a-model", NO_KEYS, build, SCHEMA))

    assert asyncio.run(main()) == [TextDelta('{"text":"café"}'), Finish("stop")]


def test_stream_json_truncation_and_fallback_are_the_same_as_text(tmp_path):
    cut = JsonStreaming([[UpstreamTruncated("cut")], [TextDelta('{"a"'), UpstreamTruncated("cut")]])
    backup = JsonStreaming([[TextDelta("{}"), Finish()]])
    toml = '[llm.fallbacks]\n"a-model" = ["b-model"]\n'
    gateway = gateway_for({"a": cut, "b": backup}, toml, tmp_path)

    async def main():
        first = await drain(gateway.stream_json("a-model", NO_KEYS, build, SCHEMA))
        with pytest.raises(UpstreamTruncated):
            await drain(gateway.stream_json("a-model", NO_KEYS, build, SCHEMA))
        return first

    assert asyncio.run(main()) == [TextDelta("{}"), Finish()]


def test_a_stream_that_ends_before_its_first_token_falls_back(tmp_path):
    class Empty(ScriptedProvider):
        async def stream(self, request):
            self.calls.append(request)
            yield Usage(1, 0)

    empty = Empty([[]])
    backup = ScriptedProvider([ok_script("backup")])
    toml = '[llm.fallbacks]\n"a-model" = ["b-model"]\n'
    gateway = gateway_for({"a": empty, "b": backup}, toml, tmp_path)
    events = asyncio.run(drain(gateway.stream("a-model", NO_KEYS, build)))
    assert events[0] == TextDelta("backup") and len(empty.calls) == 1


def test_the_stream_opens_only_once_the_first_token_is_kept():
    """Nothing is buffered while attempts fail and are retried: the first thing a reader
    can see is the kept attempt's first token (or the last failure)."""
    provider = ScriptedProvider([[RateLimited("slow", retry_after=0.0)], [0.05, *ok_script("late")]])

    async def main():
        stream = gateway_for({"a": provider}).stream("a-model", NO_KEYS, build)
        try:
            assert await stream.opened(0.01) is False
            assert stream.route is None
            assert await stream.opened(5.0) is True
            assert stream.route == Route("a", "a-model")
            return await stream.next(0)
        finally:
            await stream.aclose()

    assert asyncio.run(main()) == TextDelta("late")


def test_a_stream_that_fails_before_opening_raises_from_opened():
    provider = ScriptedProvider([[UpstreamAuthError("rejected")]])

    async def main():
        stream = gateway_for({"a": provider}).stream("a-model", NO_KEYS, build)
        try:
            with pytest.raises(UpstreamAuthError):
                await stream.opened(5.0)
        finally:
            await stream.aclose()

    asyncio.run(main())
