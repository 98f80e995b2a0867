"""OpenAI (Chat Completions) and any OpenAI-compatible server, through the ``openai`` SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import openai

from dawai.adapters.providers.failures import broken_stream, connection_failure, status_failure
from dawai.core.errors import DawaiError, UpstreamError, UpstreamTruncated
from dawai.core.models import ChatEvent, Finish, LLMReply, LLMRequest, TextDelta, Usage
from dawai.ports.llm import ProviderConfig

__all__ = ["OpenAICompatibleProvider", "OpenAIProvider"]


class OpenAIProvider:
    # OpenAI's own API wants max_completion_tokens; self-hosted servers know max_tokens.
    _max_tokens_field = "max_completion_tokens"

    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self._key = config.api_key
        self._client = openai.AsyncOpenAI(
            api_key=config.api_key or "not-needed",
            base_url=config.base_url,
            max_retries=0,
            timeout=openai.Timeout(config.read_timeout, connect=config.connect_timeout),
        )

    def _params(self, request: LLMRequest) -> dict[str, Any]:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        params: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            self._max_tokens_field: request.max_tokens,
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    def _failure(self, exc: Exception) -> DawaiError:
        if isinstance(exc, openai.APIStatusError):
            message = exc.message if isinstance(exc.body, dict) else None
            if isinstance(exc.body, dict) and isinstance(exc.body.get("message"), str):
                message = exc.body["message"]
            return status_failure(self.name, exc.status_code, message, exc.response.headers, self._key)
        if isinstance(exc, openai.APIConnectionError):
            return connection_failure(self.name, exc, timeout=isinstance(exc, openai.APITimeoutError))
        if isinstance(exc, openai.APIError):  # an error object inside the stream
            return UpstreamError(
                f"The {self.name} provider reported an error mid-stream.", provider=self.name
            )
        return UpstreamError(f"The {self.name} provider failed ({type(exc).__name__}).", provider=self.name)

    async def complete(self, request: LLMRequest) -> LLMReply:
        try:
            completion = await self._client.chat.completions.create(**self._params(request))
        except openai.OpenAIError as exc:
            raise self._failure(exc) from None
        if not completion.choices or completion.choices[0].finish_reason is None:
            raise UpstreamTruncated(f"The {self.name} reply has no finish_reason.", provider=self.name)
        choice = completion.choices[0]
        usage = completion.usage
        return LLMReply(
            choice.message.content or "",
            Usage(usage.prompt_tokens, usage.completion_tokens) if usage else None,
            choice.finish_reason,
        )

    async def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]:
        try:
            stream = await self._client.chat.completions.create(
                **self._params(request), stream=True, stream_options={"include_usage": True}
            )
        except openai.OpenAIError as exc:
            raise self._failure(exc) from None
        finish_reason: str | None = None
        usage: Usage | None = None
        started = False
        try:
            async for chunk in stream:
                started = True
                if chunk.choices:
                    choice = chunk.choices[0]
                    content = choice.delta.content if choice.delta else None
                    if content:
                        yield TextDelta(content)
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                if chunk.usage is not None:
                    usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        except openai.APIStatusError as exc:
            raise self._failure(exc) from None
        except openai.APIError as exc:
            if isinstance(exc, openai.APIConnectionError):
                raise broken_stream(self.name, exc, started=started) from None
            raise self._failure(exc) from None
        except Exception as exc:
            raise broken_stream(self.name, exc, started=started) from None
        finally:
            await stream.close()
        if finish_reason is None:
            raise UpstreamTruncated(
                f"The {self.name} stream ended without a finish_reason.", provider=self.name
            )
        if usage is not None:
            yield usage
        yield Finish(finish_reason)

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        params = self._params(request)
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "answer", "schema": schema},
        }
        try:
            completion = await self._client.chat.completions.create(**params)
        except openai.OpenAIError as exc:
            raise self._failure(exc) from None
        text = completion.choices[0].message.content if completion.choices else None
        try:
            return msgspec.json.decode(text or "")
        except msgspec.DecodeError:
            raise UpstreamError(f"The {self.name} reply was not JSON.", provider=self.name) from None

    async def aclose(self) -> None:
        await self._client.close()


class OpenAICompatibleProvider(OpenAIProvider):
    """vLLM, llama.cpp, Ollama, LM Studio and friends: same wire, older field names."""

    _max_tokens_field = "max_tokens"
