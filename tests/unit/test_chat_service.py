"""Chat's reliability rules (the gateway's, through ChatService), on in-memory scripted providers."""

from __future__ import annotations

import asyncio

import pytest

from dawai.core.chat import ChatInput, ChatService
from dawai.core.errors import (
    InvalidInput,
    MissingCredentials,
    RateLimited,
    UpstreamAuthError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamTruncated,
)
from dawai.core.models import Finish, TextDelta, Usage
from dawai.core.prompting import MusicExpertStrategy
from tests.conftest import scripted_gateway
from tests.fakes.providers import ScriptedProvider, ok_script


def build(
    providers: dict[str, ScriptedProvider], env: dict[str, str] | None = None, toml: str = "", tmp=None
):
    sleeps: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    gateway, settings = scripted_gateway(providers, env=env, toml=toml, tmp=tmp, sleep=fake_sleep)
    service = ChatService(gateway=gateway, strategy=MusicExpertStrategy(), settings=settings)
    return service, sleeps


async def collect(service: ChatService, chat: ChatInput) -> list:
    events = []
    async for event in service.stream(chat):
        events.append(event)
    return events


def chat(model: str = "a-model", **kw) -> ChatInput:
    return ChatInput(message=kw.pop("message", "hello"), model=model, **kw)


def test_stream_passes_events_through_in_order():
    provider = ScriptedProvider([ok_script("こん", "にちは")])
    service, _ = build({"a": provider})
    events = asyncio.run(collect(service, chat()))
    assert events == [TextDelta("こん"), TextDelta("にちは"), Usage(3, 2), Finish("stop")]
    assert provider.calls[0].model == "a-model"


def test_retry_on_429_then_success_honours_retry_after():
    provider = ScriptedProvider([[RateLimited("slow down", retry_after=2.0)], ok_script("ok")])
    service, sleeps = build({"a": provider})
    events = asyncio.run(collect(service, chat()))
    assert TextDelta("ok") in events
    assert sleeps == [2.0]
    assert len(provider.calls) == 2


def test_retry_backoff_on_5xx_is_exponential():
    failing = [UpstreamError("boom", retryable=True)]
    provider = ScriptedProvider([failing, failing, ok_script("ok")])
    service, sleeps = build({"a": provider})
    asyncio.run(collect(service, chat()))
    assert sleeps == [0.25, 0.5]  # backoff_base * 2**attempt, full jitter factor 1.0


def test_retries_stop_after_max_and_raise_the_last_error():
    provider = ScriptedProvider([[UpstreamError("boom", retryable=True)]])
    service, sleeps = build({"a": provider}, {"DAWAI_MAX_RETRIES": "1"})
    with pytest.raises(UpstreamError, match="boom"):
        asyncio.run(collect(service, chat()))
    assert len(provider.calls) == 2 and len(sleeps) == 1


def test_long_retry_after_is_not_waited_for():
    provider = ScriptedProvider([[RateLimited("later", retry_after=3600)]])
    service, sleeps = build({"a": provider})
    with pytest.raises(RateLimited):
        asyncio.run(collect(service, chat()))
    assert sleeps == [] and len(provider.calls) == 1


def test_auth_errors_are_not_retried():
    provider = ScriptedProvider([[UpstreamAuthError("rejected")], ok_script("never")])
    service, _ = build({"a": provider})
    with pytest.raises(UpstreamAuthError):
        asyncio.run(collect(service, chat()))
    assert len(provider.calls) == 1


def test_no_retry_after_the_first_token():
    provider = ScriptedProvider([[TextDelta("half"), UpstreamError("boom", retryable=True)], ok_script("x")])
    service, _ = build({"a": provider})

    async def run():
        got = []
        with pytest.raises(UpstreamError):
            async for event in service.stream(chat()):
                got.append(event)
        return got

    assert asyncio.run(run()) == [TextDelta("half")]
    assert len(provider.calls) == 1


def test_fallback_chain_before_the_first_token(tmp_path):
    primary = ScriptedProvider([[UpstreamAuthError("no")]])
    backup = ScriptedProvider([ok_script("from backup")])
    toml = '[llm.fallbacks]\n"a-model" = ["b-model"]\n'
    service, _ = build({"a": primary, "b": backup}, toml=toml, tmp=tmp_path)
    events = asyncio.run(collect(service, chat()))
    assert TextDelta("from backup") in events
    reply = asyncio.run(service.reply(chat()))
    assert (reply.text, reply.provider, reply.model) == ("from backup", "b", "b-model")


def test_truncated_stream_is_an_error_not_a_success():
    provider = ScriptedProvider([[TextDelta("a"), TextDelta("b")]])
    service, _ = build({"a": provider})
    with pytest.raises(UpstreamTruncated):
        asyncio.run(collect(service, chat()))


def test_plugin_stream_that_ends_quietly_is_still_caught():
    class Quiet(ScriptedProvider):
        async def stream(self, request):
            yield TextDelta("only")

    service, _ = build({"a": Quiet([[]])})
    with pytest.raises(UpstreamTruncated):
        asyncio.run(collect(service, chat()))


def test_first_token_timeout_then_fallback(tmp_path):
    slow = ScriptedProvider([[5.0, *ok_script("late")]])
    fast = ScriptedProvider([ok_script("fast")])
    toml = '[reliability]\nfirst_token_timeout = 0.05\n[llm.fallbacks]\n"a-model" = ["b-model"]\n'
    service, _ = build({"a": slow, "b": fast}, toml=toml, tmp=tmp_path)
    assert TextDelta("fast") in asyncio.run(collect(service, chat()))
    assert slow.cancelled_streams == 1


def test_first_token_timeout_without_fallback_is_a_timeout(tmp_path):
    slow = ScriptedProvider([[5.0, *ok_script("late")]])
    service, _ = build({"a": slow}, toml="[reliability]\nfirst_token_timeout = 0.05\n", tmp=tmp_path)
    with pytest.raises(UpstreamTimeout):
        asyncio.run(collect(service, chat()))


def test_total_timeout(tmp_path):
    slow = ScriptedProvider([[TextDelta("a"), 5.0, Finish()]])
    service, _ = build({"a": slow}, toml="[reliability]\ntotal_timeout = 0.1\n", tmp=tmp_path)
    with pytest.raises(UpstreamTimeout):
        asyncio.run(collect(service, chat()))


def test_closing_the_stream_cancels_the_upstream():
    provider = ScriptedProvider([[TextDelta("a"), 10.0, Finish()]])
    service, _ = build({"a": provider})

    async def run():
        stream = service.stream(chat())
        assert await stream.next() == TextDelta("a")
        await stream.aclose()

    asyncio.run(run())
    assert provider.cancelled_streams == 1 and provider.closed_streams == 1


def test_missing_key_names_the_setting():
    service, _ = build({})
    with pytest.raises(MissingCredentials) as info:
        service.stream(chat("claude-3-sonnet"))
    assert "ANTHROPIC_API_KEY" in str(info.value) and info.value.provider == "anthropic"


def test_fallback_without_key_is_skipped_and_primary_missing_key_falls_through(tmp_path):
    backup = ScriptedProvider([ok_script("backup")])
    toml = '[llm.fallbacks]\n"claude-3-sonnet" = ["b-model"]\n'
    service, _ = build({"b": backup}, toml=toml, tmp=tmp_path)
    assert TextDelta("backup") in asyncio.run(collect(service, chat("claude-3-sonnet")))


def test_unknown_model_is_invalid_input_naming_the_field():
    service, _ = build({})
    with pytest.raises(InvalidInput) as info:
        service.stream(chat("mistral-large"))
    assert info.value.errors[0].field == "model"


def test_non_streaming_reply_retries_and_reports_usage():
    provider = ScriptedProvider([[UpstreamError("x", retryable=True)], ok_script("fine", usage=Usage(7, 1))])
    service, sleeps = build({"a": provider})
    reply = asyncio.run(service.reply(chat()))
    assert (reply.text, reply.usage, reply.provider) == ("fine", Usage(7, 1), "a")
    assert len(sleeps) == 1


def test_an_unroutable_fallback_never_breaks_the_primary(tmp_path):
    provider = ScriptedProvider([ok_script("primary works")])
    service, _ = build({"a": provider}, toml='[llm.fallbacks]\n"a-model" = ["nowhere-model"]\n', tmp=tmp_path)
    assert TextDelta("primary works") in asyncio.run(collect(service, chat()))
