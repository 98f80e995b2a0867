"""Gemini streams: read raw from the SDK's API client, yet the request is the one the SDK's
own ``generate_content_stream`` sends, and the events are the ones its models give."""

from __future__ import annotations

import asyncio

import pytest

from dawai.adapters.providers.gemini import GeminiProvider, _finish, _text, _usage
from dawai.core.errors import InvalidInput
from dawai.core.models import ChatMessage, Finish, LLMRequest, TextDelta, Usage
from dawai.ports.llm import ProviderConfig

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
    sent_by_us, sent_by_sdk = upstream.requests[-2:]
    assert (sent_by_us.method, sent_by_us.path, sent_by_us.query, sent_by_us.body) == (
        sent_by_sdk.method,
        sent_by_sdk.path,
        sent_by_sdk.query,
        sent_by_sdk.body,
    )
    assert sent_by_us.query == "alt=sse"
    assert {k: v for k, v in sent_by_us.headers.items() if k != "content-length"} == {
        k: v for k, v in sent_by_sdk.headers.items() if k != "content-length"
    }


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
