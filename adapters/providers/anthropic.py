"""Claude through the official ``anthropic`` SDK (Messages API).

The SDK builds, authenticates and sends each request and maps error statuses to its
exceptions; we ask it for the raw response and decode the events with msgspec
(docs/adr/0007), or, should its private raw-response header change, read the body of its
public ``with_streaming_response`` the same way (docs/adr/0021). One instance serves every
key: ``with_key`` gives a view that sends its key per request over the shared client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2
import msgspec

from dawai.adapters.internals import ANTHROPIC_RAW_STREAMS, usable
from dawai.adapters.providers.failures import (
    broken_stream,
    connection_failure,
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

__all__ = ["AnthropicProvider"]

_RETRYABLE_STREAM_ERRORS = frozenset({"overloaded_error", "api_error"})


class _Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None


class _Delta(msgspec.Struct):
    type: str | None = None
    text: str | None = None
    partial_json: str | None = None  # a forced tool's input, streamed (input_json_delta)
    stop_reason: str | None = None


class _Block(msgspec.Struct):
    type: str
    text: str | None = None
    input: Any = None


class _Message(msgspec.Struct):
    content: list[_Block] = []
    stop_reason: str | None = None
    usage: _Usage | None = None


class _Error(msgspec.Struct):
    type: str = "error"
    message: str | None = None


class _Event(msgspec.Struct):
    type: str
    delta: _Delta | None = None
    message: _Message | None = None
    usage: _Usage | None = None
    error: _Error | None = None


_decode_event = msgspec.json.Decoder(_Event).decode
_decode_message = msgspec.json.Decoder(_Message).decode


def _forced_tool(schema: dict[str, Any]) -> dict[str, Any]:
    """Structured output by forced tool use: one tool whose input is the schema, and the
    model told to call it (works on every Claude model)."""
    tools = [{"name": "answer", "description": "Give the answer.", "input_schema": schema}]
    return {"tools": tools, "tool_choice": {"type": "tool", "name": "answer"}}


class AnthropicProvider(RawKeyViews):
    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self._key = config.api_key
        self._max_event_bytes = config.limits.max_event_bytes
        self._client = anthropic.AsyncAnthropic(
            # Never None: the SDK would then look for a key in the environment and its
            # own config files. A shared instance's requests carry each view's key.
            api_key=config.api_key or NO_KEY,
            base_url=config.base_url,
            max_retries=0,  # the gateway retries, and only before the first token
            http_client=http_client_for_sdk(anthropic.DefaultAsyncHttpxClient, config),
        )
        self._auth = key_template(self._client.auth_headers, config.api_key, {"X-Api-Key": NO_KEY})
        # Streams read raw through the SDK's private header, or its public path (docs/adr/0021).
        self._raw_path = usable(ANTHROPIC_RAW_STREAMS)

    def _body(self, request: LLMRequest, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            **extra,
        }
        if request.system:
            body["system"] = request.system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        return body

    def _failure(self, exc: Exception) -> DawaiError:
        if isinstance(exc, anthropic.APIStatusError):
            return status_failure(
                self.name, exc.status_code, exc.api_message, exc.response.headers, self._key
            )
        if isinstance(exc, anthropic.APIConnectionError):
            return connection_failure(self.name, exc, timeout=isinstance(exc, anthropic.APITimeoutError))
        return UpstreamError(f"The {self.name} provider failed ({type(exc).__name__}).", provider=self.name)

    async def _post(self, body: dict[str, Any], *, stream: bool) -> httpx2.Response:
        try:
            if stream and not self._raw_path:  # the raw-response header is not as verified
                return await public_stream(self._client.messages, body, self._options)
            return await post_raw(self._client, "/v1/messages", body, stream=stream, options=self._options)
        except anthropic.AnthropicError as exc:
            raise self._failure(exc) from None

    async def _message(self, body: dict[str, Any]) -> _Message:
        response = await self._post(body, stream=False)
        message = decode_upstream(_decode_message, response.content, self.name, "reply")
        if message.stop_reason is None:
            raise UpstreamTruncated(f"The {self.name} reply has no stop reason.", provider=self.name)
        return message

    async def complete(self, request: LLMRequest) -> LLMReply:
        message = await self._message(self._body(request))
        text = "".join(block.text or "" for block in message.content if block.type == "text")
        usage = message.usage or _Usage()
        return LLMReply(
            text, Usage(usage.input_tokens or 0, usage.output_tokens or 0), message.stop_reason or ""
        )

    def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]:
        return self._stream(self._body(request, stream=True), tool_input=False)

    async def _stream(self, body: dict[str, Any], *, tool_input: bool) -> AsyncIterator[ChatEvent]:
        """The events of a streamed message: its text, or with ``tool_input`` the JSON
        text of the forced tool's input."""
        response = await self._post(body, stream=True)
        input_tokens = output_tokens = 0
        stop_reason: str | None = None
        started = finished = False
        try:
            async for _name, data in sse_events(response_chunks(response), self._max_event_bytes):
                # After message_stop, reading on to the end of the body lets the connection be reused.
                started = True
                if finished:
                    continue
                event = decode_upstream(_decode_event, data, self.name, "stream")
                kind = event.type
                if kind == "content_block_delta":
                    delta = event.delta
                    if delta is not None:
                        piece = delta.partial_json if tool_input else delta.text
                        if piece:
                            yield TextDelta(piece)
                elif kind == "message_start":
                    usage = event.message.usage if event.message else None
                    input_tokens = (usage.input_tokens if usage else 0) or 0
                elif kind == "message_delta":
                    if event.delta is not None and event.delta.stop_reason:
                        stop_reason = event.delta.stop_reason
                    if event.usage is not None and event.usage.output_tokens is not None:
                        output_tokens = event.usage.output_tokens
                elif kind == "message_stop":
                    finished = True
                elif kind == "error":
                    error = event.error or _Error()
                    raise UpstreamError(
                        f"The {self.name} provider reported an error mid-stream ({error.type}).",
                        provider=self.name,
                        retryable=error.type in _RETRYABLE_STREAM_ERRORS,
                    )
        except DawaiError:
            raise
        except Exception as exc:  # transport errors surface raw from the body
            raise broken_stream(self.name, exc, started=started) from None
        finally:
            await response.aclose()
        stop = (stop_reason or "end_turn") if finished else None
        for last in stream_end(self.name, stop, Usage(input_tokens, output_tokens), "message_stop"):
            yield last

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        """Forced tool use: the model must call a tool whose input is the schema."""
        message = await self._message(self._body(request, **_forced_tool(schema)))
        for block in message.content:
            if block.type == "tool_use":
                return block.input
        text = "".join(block.text or "" for block in message.content if block.type == "text")
        return decode_upstream(msgspec.json.decode, text, self.name, "reply")

    def stream_json(self, request: LLMRequest, schema: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        """The forced tool's input as it is generated (``input_json_delta`` pieces)."""
        return self._stream(self._body(request, stream=True, **_forced_tool(schema)), tool_input=True)

    async def aclose(self) -> None:
        if self._owner:  # a view's client belongs to the instance it came from
            await self._client.close()
