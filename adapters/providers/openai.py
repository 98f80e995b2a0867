"""OpenAI (Chat Completions) and any OpenAI-compatible server, through the ``openai`` SDK.

The SDK builds, authenticates and sends each request and maps error statuses to its
exceptions; we ask it for the raw response and decode the body with msgspec, which
costs a fraction of the SDK's per-chunk models (docs/adr/0007); should the SDK's private
raw-response header change, streams go through its public ``with_streaming_response``
instead, read the same way (docs/adr/0021). One instance serves every
key: ``with_key`` gives a view that sends its key per request over the shared client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import msgspec
import openai

from dawai.adapters.internals import OPENAI_RAW_STREAMS, usable
from dawai.adapters.providers.failures import (
    broken_stream,
    connection_failure,
    decode_structured,
    decode_upstream,
    status_failure,
    stream_end,
)
from dawai.adapters.providers.raw import NO_KEY, RawKeyViews, key_template, post_raw, public_stream
from dawai.adapters.upstream.clients import http_client_for_sdk
from dawai.adapters.upstream.http1 import response_chunks
from dawai.adapters.upstream.sse_reader import sse_events
from dawai.core.errors import DawaiError, UpstreamError, UpstreamTruncated
from dawai.core.models import ChatEvent, LLMReply, LLMRequest, TextDelta, Usage
from dawai.ports.llm import ProviderConfig

__all__ = ["OpenAICompatibleProvider", "OpenAIProvider"]


class _Delta(msgspec.Struct):
    content: str | None = None
    refusal: str | None = None  # structured output the model declined to give


class _Message(msgspec.Struct):
    content: str | None = None
    refusal: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    message: _Message | None = None
    finish_reason: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _ErrorBody(msgspec.Struct):
    message: str | None = None


class _Chunk(msgspec.Struct):
    choices: list[_Choice] = []
    usage: _Usage | None = None
    error: _ErrorBody | None = None


_decode_chunk = msgspec.json.Decoder(_Chunk).decode


def _json_format(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}}


class OpenAIProvider(RawKeyViews):
    # OpenAI's own API wants max_completion_tokens; self-hosted servers know max_tokens.
    _max_tokens_field = "max_completion_tokens"

    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self._key = config.api_key
        self._max_event_bytes = config.limits.max_event_bytes
        self._client = openai.AsyncOpenAI(
            # Servers that need no key still get a bearer token (some proxies insist).
            api_key=config.api_key or NO_KEY,
            base_url=config.base_url,
            max_retries=0,  # the gateway retries, and only before the first token
            http_client=http_client_for_sdk(openai.DefaultAsyncHttpxClient, config),
        )
        self._auth = key_template(
            self._client.auth_headers, config.api_key, {"Authorization": f"Bearer {NO_KEY}"}
        )
        # Streams read raw through the SDK's private header, or its public path (docs/adr/0021).
        self._raw_path = usable(OPENAI_RAW_STREAMS)

    def _body(self, request: LLMRequest, **extra: Any) -> dict[str, Any]:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        body: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            self._max_tokens_field: request.max_tokens,
            **extra,
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        return body

    def _failure(self, exc: Exception) -> DawaiError:
        if isinstance(exc, openai.APIStatusError):
            message = exc.body.get("message") if isinstance(exc.body, dict) else None
            return status_failure(self.name, exc.status_code, message, exc.response.headers, self._key)
        if isinstance(exc, openai.APIConnectionError):
            return connection_failure(self.name, exc, timeout=isinstance(exc, openai.APITimeoutError))
        return UpstreamError(f"The {self.name} provider failed ({type(exc).__name__}).", provider=self.name)

    async def _post(self, body: dict[str, Any], *, stream: bool) -> httpx2.Response:
        try:
            if stream and not self._raw_path:  # the raw-response header is not as verified
                return await public_stream(self._client.chat.completions, body, self._options)
            return await post_raw(
                self._client, "/chat/completions", body, stream=stream, options=self._options
            )
        except openai.OpenAIError as exc:
            raise self._failure(exc) from None

    async def complete(self, request: LLMRequest) -> LLMReply:
        return await self._complete(self._body(request))

    async def _complete(self, body: dict[str, Any]) -> LLMReply:
        response = await self._post(body, stream=False)
        chunk = decode_upstream(_decode_chunk, response.content, self.name, "reply")
        choice = chunk.choices[0] if chunk.choices else None
        if choice is None or choice.finish_reason is None:
            raise UpstreamTruncated(f"The {self.name} reply has no finish_reason.", provider=self.name)
        if choice.message is not None and choice.message.refusal:
            raise self._refused()
        usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens) if chunk.usage else None
        return LLMReply(
            (choice.message.content if choice.message else None) or "", usage, choice.finish_reason
        )

    def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]:
        return self._stream(self._body(request, stream=True, stream_options={"include_usage": True}))

    async def _stream(self, body: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        response = await self._post(body, stream=True)
        finish_reason: str | None = None
        usage: Usage | None = None
        started = False
        try:
            done = False
            async for _event, data in sse_events(response_chunks(response), self._max_event_bytes):
                # Reading on to the end of the body after [DONE] lets the connection be reused.
                started = True
                if done or data == b"[DONE]":
                    done = True
                    continue
                chunk = decode_upstream(_decode_chunk, data, self.name, "stream")
                if chunk.error is not None:
                    raise UpstreamError(
                        f"The {self.name} provider reported an error mid-stream.",
                        provider=self.name,
                        retryable=True,
                    )
                if chunk.choices:
                    choice = chunk.choices[0]
                    delta = choice.delta
                    if delta is not None:
                        if delta.content:
                            yield TextDelta(delta.content)
                        elif delta.refusal:
                            raise self._refused()
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        except DawaiError:
            raise
        except Exception as exc:
            raise broken_stream(self.name, exc, started=started) from None
        finally:
            await response.aclose()
        for event in stream_end(self.name, finish_reason, usage, "a finish_reason"):
            yield event

    def _refused(self) -> UpstreamError:
        return UpstreamError(f"The {self.name} model refused to answer in the schema.", provider=self.name)

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        """Structured Outputs: a strict ``json_schema`` response format (the schema must
        follow its rules: an object at the root, every property required,
        ``additionalProperties: false``)."""
        reply = await self._complete(self._body(request, response_format=_json_format(schema)))
        return decode_structured(reply.text, self.name)

    def stream_json(self, request: LLMRequest, schema: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        """``complete_json``'s reply streamed: the JSON text in ``content`` deltas."""
        body = self._body(
            request,
            stream=True,
            stream_options={"include_usage": True},
            response_format=_json_format(schema),
        )
        return self._stream(body)

    async def aclose(self) -> None:
        if self._owner:  # a view's client belongs to the instance it came from
            await self._client.close()


class OpenAICompatibleProvider(OpenAIProvider):
    """vLLM, llama.cpp, Ollama, LM Studio and friends: same wire, older field names."""

    _max_tokens_field = "max_tokens"
