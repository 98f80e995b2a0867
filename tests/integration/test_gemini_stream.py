"""Gemini, read raw from the SDK's API client: yet the requests are the ones the SDK's own
``generate_content_stream`` and ``generate_content`` send, and the events and replies are
the ones its models give."""

from __future__ import annotations

import asyncio

import pytest

from dawai.adapters.providers.gemini import GeminiProvider, _finish, _text, _usage
from dawai.core.errors import InvalidInput
from dawai.core.models import ChatMessage, Finish, LLMReply, LLMRequest, TextDelta, Usage
from dawai.ports.llm import ProviderConfig
from tests.fakes.llm_upstream import DEFAULT_REPLY

HISTORY = (ChatMessage("user", "hi"), ChatMessage("assistant", "やあ"), ChatMessage("user", "テンポは?"))


@pytest.mark.parametrize(
    ("system", "temperature", "model"),
    [("You are a producer. 日本語で。", None, "fake+chunks=5"), ("", 0.7, "models/fake"), (" ", 0.0, "fake")],
)
def test_the_raw_stream_sends_and_reads_what_the_sdk_itself_would(upstream, system, temperature, model):
    request = LLMRequest(
        model=model, system=system, messages=HISTORY, max_tokens=321, temperature=temperature
    )

    async def main():
        provider = GeminiProvider(
            ProviderConfig(name="google", api_key="AIza-test", base_url=upstream.base_url)
        )
        try:
            ours = [event async for event in provider.stream(request)]
            theirs: list[object] = []
            reason = usage = None
            sdk = provider._client.aio.models
            async for chunk in await sdk.generate_content_stream(**provider._args(request)):
                if _text(chunk):
                    theirs.append(TextDelta(_text(chunk)))
                reason, usage = _finish(chunk) or reason, _usage(chunk) or usage
            theirs += [usage, Finish(reason)]
            return ours, theirs
        finally:
            await provider.aclose()

    upstream.reset()
    ours, theirs = asyncio.run(main())
    assert ours == theirs
    assert isinstance(ours[-2], Usage) and ours[-1] == Finish("STOP")
    _same_request(*upstream.requests[-2:])
    assert upstream.requests[-1].query == "alt=sse"


def _same_request(ours, theirs) -> None:
    assert (ours.method, ours.path, ours.query, ours.body) == (
        theirs.method,
        theirs.path,
        theirs.query,
        theirs.body,
    )
    assert {k: v for k, v in ours.headers.items() if k != "content-length"} == {
        k: v for k, v in theirs.headers.items() if k != "content-length"
    }


@pytest.mark.parametrize("temperature", [None, 0.3])
def test_a_reply_is_what_the_sdk_itself_would_send_and_read(upstream, temperature):
    request = LLMRequest(
        model="fake", system="Be brief.", messages=HISTORY, max_tokens=50, temperature=temperature
    )

    async def main():
        provider = GeminiProvider(
            ProviderConfig(name="google", api_key="AIza-test", base_url=upstream.base_url)
        )
        try:
            ours = await provider.complete(request)
            response = await provider._client.aio.models.generate_content(**provider._args(request))
            return ours, LLMReply(_text(response), _usage(response), _finish(response))
        finally:
            await provider.aclose()

    upstream.reset()
    ours, theirs = asyncio.run(main())
    assert ours == theirs and ours.text and ours.finish_reason == "STOP"
    _same_request(*upstream.requests[-2:])
    assert upstream.requests[-1].query == ""


@pytest.mark.parametrize("model", ["../models/x", "fake?alt=json", "a&b", ""])
def test_model_names_the_sdk_refuses_are_invalid_input(upstream, model):
    request = LLMRequest(model=model, system="", messages=HISTORY[:1], max_tokens=10)

    async def main():
        provider = GeminiProvider(
            ProviderConfig(name="google", api_key="AIza-test", base_url=upstream.base_url)
        )
        try:
            with pytest.raises(InvalidInput):
                async for _ in provider.stream(request):
                    pass
        finally:
            await provider.aclose()

    asyncio.run(main())


async def _sdk_events(provider: GeminiProvider, request: LLMRequest) -> list[object]:
    """The events the SDK's own ``generate_content_stream`` gives (automatic continuation
    included), in our terms."""
    events: list[object] = []
    reason = usage = None
    async for chunk in await provider._client.aio.models.generate_content_stream(**provider._args(request)):
        if _text(chunk):
            events.append(TextDelta(_text(chunk)))
        reason, usage = _finish(chunk) or reason, _usage(chunk) or usage
    return [*events, usage, Finish(reason)]


def _texts(events: list[object]) -> str:
    return "".join(e.content for e in events if isinstance(e, TextDelta))


@pytest.mark.parametrize(
    "directives",
    [
        "continue_after=2",  # stopped at the per-request limit, with a token
        "continue_after=2+cut_after=2",  # the connection dropped after a checkpoint token
    ],
)
def test_a_stream_that_continues_is_followed_as_the_sdk_follows_it(upstream, directives):
    request = LLMRequest(model=f"fake+chunks=6+{directives}", system="s", messages=HISTORY, max_tokens=99)

    async def main():
        provider = GeminiProvider(
            ProviderConfig(name="google", api_key="AIza-test", base_url=upstream.base_url)
        )
        try:
            ours = [event async for event in provider.stream(request)]
            return ours, await _sdk_events(provider, request)
        finally:
            await provider.aclose()

    upstream.reset()
    ours, theirs = asyncio.run(main())
    assert _texts(ours) == DEFAULT_REPLY
    assert ours[-2:] == theirs[-2:] and ours[-1] == Finish("STOP")
    assert _texts(ours) == _texts(theirs)
    first_ours, then_ours, first_sdk, then_sdk = upstream.requests[-4:]
    _same_request(first_ours, first_sdk)
    _same_request(then_ours, then_sdk)
    assert "continuationToken" in then_ours.body


def test_a_reply_that_continues_is_followed_as_the_sdk_follows_it(upstream):
    request = LLMRequest(model="fake+chunks=6+continue_after=2", system="s", messages=HISTORY, max_tokens=99)

    async def main():
        provider = GeminiProvider(
            ProviderConfig(name="google", api_key="AIza-test", base_url=upstream.base_url)
        )
        try:
            ours = await provider.complete(request)
            response = await provider._client.aio.models.generate_content(**provider._args(request))
            return ours, LLMReply(_text(response), _usage(response), _finish(response))
        finally:
            await provider.aclose()

    upstream.reset()
    ours, theirs = asyncio.run(main())
    assert ours == theirs and ours.text == DEFAULT_REPLY and ours.finish_reason == "STOP"
    first_ours, then_ours, first_sdk, then_sdk = upstream.requests[-4:]
    _same_request(first_ours, first_sdk)
    _same_request(then_ours, then_sdk)


def test_an_error_document_in_a_200_stream_is_the_error_the_sdk_raises(upstream):
    request = LLMRequest(model="fake+chunks=6+raw_error_after=2", system="", messages=HISTORY, max_tokens=9)

    async def main():
        provider = GeminiProvider(
            ProviderConfig(name="google", api_key="AIza-test", base_url=upstream.base_url)
        )
        outcomes = []
        try:
            for events in (provider.stream(request), _sdk_stream_events(provider, request)):
                got: list[object] = []
                try:
                    async for event in events:
                        got.append(event)
                except Exception as exc:
                    got.append(exc)
                outcomes.append(got)
            return outcomes
        finally:
            await provider.aclose()

    ours, theirs = asyncio.run(main())
    assert [type(e).__name__ for e in ours] == ["TextDelta", "TextDelta", "RateLimited"]
    assert [type(e).__name__ for e in ours] == [type(e).__name__ for e in theirs]


async def _sdk_stream_events(provider: GeminiProvider, request: LLMRequest):
    """The SDK's own stream, its failures mapped by the provider as they used to be."""
    try:
        async for chunk in await provider._client.aio.models.generate_content_stream(
            **provider._args(request)
        ):
            yield TextDelta(_text(chunk))
    except Exception as exc:
        raise provider._failure(exc) from None
