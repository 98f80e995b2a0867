"""Claude through the official ``anthropic`` SDK (Messages API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import msgspec

from dawai.adapters.providers.failures import broken_stream, connection_failure, status_failure
from dawai.core.errors import DawaiError, UpstreamError, UpstreamTruncated
from dawai.core.models import ChatEvent, Finish, LLMReply, LLMRequest, TextDelta, Usage
from dawai.ports.llm import ProviderConfig

__all__ = ["AnthropicProvider"]


class AnthropicProvider:
    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self._key = config.api_key
        self._client = anthropic.AsyncAnthropic(
            api_key=config.api_key,
            base_url=config.base_url,
            max_retries=0,  # ChatService retries, and only before the first token
            timeout=anthropic.Timeout(config.read_timeout, connect=config.connect_timeout),
        )

    def _params(self, request: LLMRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if request.system:
            params["system"] = request.system
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    def _failure(self, exc: Exception) -> DawaiError:
        if isinstance(exc, anthropic.APIStatusError):
            if exc.status_code == 200:  # an error event inside a stream
                return UpstreamError(
                    f"The {self.name} provider reported an error mid-stream ({exc.type or 'error'}).",
                    provider=self.name,
                    retryable=exc.type in ("overloaded_error", "api_error"),
                )
            return status_failure(
                self.name, exc.status_code, exc.api_message, exc.response.headers, self._key
            )
        if isinstance(exc, anthropic.APIConnectionError):
            return connection_failure(self.name, exc, timeout=isinstance(exc, anthropic.APITimeoutError))
        return UpstreamError(f"The {self.name} provider failed ({type(exc).__name__}).", provider=self.name)

    async def complete(self, request: LLMRequest) -> LLMReply:
        try:
            message = await self._client.messages.create(**self._params(request))
        except anthropic.AnthropicError as exc:
            raise self._failure(exc) from None
        if message.stop_reason is None:
            raise UpstreamTruncated(f"The {self.name} reply has no stop reason.", provider=self.name)
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = Usage(message.usage.input_tokens, message.usage.output_tokens)
        return LLMReply(text, usage, message.stop_reason)

    async def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]:
        try:
            stream = await self._client.messages.create(**self._params(request), stream=True)
        except anthropic.AnthropicError as exc:
            raise self._failure(exc) from None
        input_tokens = output_tokens = 0
        stop_reason: str | None = None
        started = False
        try:
            async for event in stream:
                started = True
                kind = event.type
                if kind == "content_block_delta":
                    if event.delta.type == "text_delta" and event.delta.text:
                        yield TextDelta(event.delta.text)
                elif kind == "message_start":
                    input_tokens = event.message.usage.input_tokens or 0
                elif kind == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    output_tokens = event.usage.output_tokens or output_tokens
                elif kind == "message_stop":
                    yield Usage(input_tokens, output_tokens)
                    yield Finish(stop_reason or "end_turn")
                    return
        except anthropic.APIStatusError as exc:
            raise self._failure(exc) from None
        except Exception as exc:  # the SDK lets transport errors through mid-stream
            raise broken_stream(self.name, exc, started=started) from None
        finally:
            await stream.close()
        raise UpstreamTruncated(f"The {self.name} stream ended without message_stop.", provider=self.name)

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        """Forced tool use: the model must call a tool whose input is the schema."""
        params = self._params(request)
        params["tools"] = [{"name": "answer", "description": "Give the answer.", "input_schema": schema}]
        params["tool_choice"] = {"type": "tool", "name": "answer"}
        try:
            message = await self._client.messages.create(**params)
        except anthropic.AnthropicError as exc:
            raise self._failure(exc) from None
        for block in message.content:
            if block.type == "tool_use":
                return block.input
        text = "".join(block.text for block in message.content if block.type == "text")
        try:
            return msgspec.json.decode(text)
        except msgspec.DecodeError:
            raise UpstreamError(f"The {self.name} reply was not JSON.", provider=self.name) from None

    async def aclose(self) -> None:
        await self._client.close()
