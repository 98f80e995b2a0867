"""Gemini, read raw from the SDK's API client: yet the requests are the ones the SDK's own
``generate_content_stream`` and ``generate_content`` send, and the events, replies and
errors are the ones its models give (automatic continuation included)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from dawai.adapters.providers.gemini import GeminiProvider, _finish, _text, _usage
from dawai.core.errors import InvalidInput
from dawai.core.models import ChatMessage, Finish, LLMReply, LLMRequest, TextDelta, Usage
from dawai.ports.llm import ProviderConfig
from tests.fakes.llm_upstream import DEFAULT_REPLY

HISTORY = (ChatMessage("user", "hi"), ChatMessage("assistant", "やあ"), ChatMessage("user", "テンポは?"))
Way = Callable[[GeminiProvider, LLMRequest], Awaitable[object]]


async def _our_events(provider: GeminiProvider, request: LLMRequest) -> list[object]:
    return await _collect(provider.stream(request))


async def _sdk_events(provider: GeminiProvider, request: LLMRequest) -> list[object]:
    """What the SDK's own ``generate_content_stream`` gives, in our terms; its failures
    mapped by the provider as they used to be."""

    async def events() -> AsyncIterator[object]:
        reason = usage = None
        try:
            async for chunk in await provider._client.aio.models.generate_content_stream(
                **provider._args(request)
            ):
                if _text(chunk):
                    yield TextDelta(_text(chunk))
                reason, usage = _finish(chunk) or reason, _usage(chunk) or usage
        except Exception as exc:
            raise provider._failure(exc) from None
        yield usage
        yield Finish(reason)

    return await _collect(events())


async def _collect(events: AsyncIterator[object]) -> list[object]:
    """The events, and the failure that ended them, if one did (by type)."""
    got: list[object] = []
    try:
        async for event in events:
            got.append(event)
    except Exception as exc:
        got.append(type(exc).__name__)
    return got


async def _our_reply(provider: GeminiProvider, request: LLMRequest) -> LLMReply:
    return await provider.complete(request)


async def _sdk_reply(provider: GeminiProvider, request: LLMRequest) -> LLMReply:
    response = await provider._client.aio.models.generate_content(**provider._args(request))
    return LLMReply(_text(response), _usage(response), _finish(response))


_TRANSPORT = "dawai"


def _both_ways(
    upstream, transport: str, request: LLMRequest, ours: Way, theirs: Way
) -> tuple[object, object]:
    """``ours`` then ``theirs`` on one provider, on ``transport`` (``llm.transport``)."""

    async def main():
        provider = GeminiProvider(
            ProviderConfig(
                name="google", api_key="AIza-test", base_url=upstream.base_url, transport=transport
            )
        )
        try:
            return await ours(provider, request), await theirs(provider, request)
        finally:
            await provider.aclose()

    upstream.reset()
    return asyncio.run(main())


def _same_requests(upstream, count: int) -> None:
    """Our ``count`` requests (first) and the SDK's (then) were the same."""
    requests = upstream.requests[-2 * count :]
    for ours, theirs in zip(requests[:count], requests[count:], strict=True):
        assert (ours.method, ours.path, ours.query, ours.body) == (
            theirs.method,
            theirs.path,
            theirs.query,
            theirs.body,
        )
        assert {k: v for k, v in ours.headers.items() if k != "content-length"} == {
            k: v for k, v in theirs.headers.items() if k != "content-length"
        }


def _texts(events: list[object]) -> str:
    return "".join(e.content for e in events if isinstance(e, TextDelta))


@pytest.mark.parametrize(
    ("system", "temperature", "model"),
    [("You are a producer. 日本語で。", None, "fake+chunks=5"), ("", 0.7, "models/fake"), (" ", 0.0, "fake")],
)
def test_a_stream_sends_and_reads_what_the_sdk_itself_would(
    upstream, llm_transport, system, temperature, model
):
    request = LLMRequest(
        model=model, system=system, messages=HISTORY, max_tokens=321, temperature=temperature
    )
    ours, theirs = _both_ways(upstream, llm_transport, request, _our_events, _sdk_events)
    assert ours == theirs
    assert isinstance(ours[-2], Usage) and ours[-1] == Finish("STOP")
    _same_requests(upstream, 1)
    assert upstream.requests[-1].query == "alt=sse"


@pytest.mark.parametrize("temperature", [None, 0.3])
def test_a_reply_sends_and_reads_what_the_sdk_itself_would(upstream, llm_transport, temperature):
    request = LLMRequest(
        model="fake", system="Be brief.", messages=HISTORY, max_tokens=50, temperature=temperature
    )
    ours, theirs = _both_ways(upstream, llm_transport, request, _our_reply, _sdk_reply)
    assert ours == theirs and ours.text and ours.finish_reason == "STOP"
    _same_requests(upstream, 1)
    assert upstream.requests[-1].query == ""


@pytest.mark.parametrize(
    "directives",
    [
        "continue_after=2",  # stopped at the per-request limit, with a token
        "continue_after=2+cut_after=2",  # the connection dropped after a checkpoint token
    ],
)
def test_a_stream_that_continues_is_followed_as_the_sdk_follows_it(upstream, llm_transport, directives):
    request = LLMRequest(model=f"fake+chunks=6+{directives}", system="s", messages=HISTORY, max_tokens=99)
    ours, theirs = _both_ways(upstream, llm_transport, request, _our_events, _sdk_events)
    assert _texts(ours) == _texts(theirs) == DEFAULT_REPLY
    assert ours[-2:] == theirs[-2:] and ours[-1] == Finish("STOP")
    _same_requests(upstream, 2)
    assert "continuationToken" in upstream.requests[-1].body


def test_a_reply_that_continues_is_followed_as_the_sdk_follows_it(upstream, llm_transport):
    request = LLMRequest(model="fake+chunks=6+continue_after=2", system="s", messages=HISTORY, max_tokens=99)
    ours, theirs = _both_ways(upstream, llm_transport, request, _our_reply, _sdk_reply)
    assert ours == theirs and ours.text == DEFAULT_REPLY and ours.finish_reason == "STOP"
    _same_requests(upstream, 2)


def test_an_error_document_in_a_200_stream_is_the_error_the_sdk_raises(upstream, llm_transport):
    request = LLMRequest(model="fake+chunks=6+raw_error_after=2", system="", messages=HISTORY, max_tokens=9)
    ours, theirs = _both_ways(upstream, llm_transport, request, _our_events, _sdk_events)
    assert [type(e).__name__ for e in ours[:2]] == ["TextDelta", "TextDelta"]
    assert ours[2:] == theirs[2:] == ["RateLimited"]


@pytest.mark.parametrize("model", ["../models/x", "fake?alt=json", "a&b", ""])
def test_model_names_the_sdk_refuses_are_invalid_input(upstream, llm_transport, model):
    request = LLMRequest(model=model, system="", messages=HISTORY[:1], max_tokens=10)
    ours, _ = _both_ways(upstream, llm_transport, request, _our_events, _our_events)
    assert ours == ["InvalidInput"]
    with pytest.raises(InvalidInput):
        _both_ways(upstream, llm_transport, request, _our_reply, _our_reply)
