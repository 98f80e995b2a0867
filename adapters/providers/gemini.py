"""Gemini through the official ``google-genai`` SDK.

google-genai sends a streaming request on the first iteration, not when the call is
awaited, so ChatService's retry loop (which pulls up to the first token) sees its 429s.
Closing its stream does not cancel the upstream request; cancelling the reading task does,
which is what ``EventStream.aclose`` does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import msgspec
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from dawai.adapters.providers.failures import broken_stream, connection_failure, status_failure, stream_end
from dawai.adapters.providers.transport import sdk_http_client, shared_ssl_context
from dawai.core.errors import DawaiError, UpstreamError, UpstreamTruncated
from dawai.core.models import ChatEvent, LLMReply, LLMRequest, TextDelta, Usage
from dawai.ports.llm import ProviderConfig

__all__ = ["GeminiProvider"]


def _headers(exc: genai_errors.APIError) -> Any:
    response = getattr(exc, "response", None)
    return getattr(response, "headers", None)


def _finish(response: types.GenerateContentResponse) -> str | None:
    for candidate in response.candidates or ():
        if candidate.finish_reason is not None:
            reason = candidate.finish_reason
            return str(getattr(reason, "value", reason))
    return None


def _usage(response: types.GenerateContentResponse) -> Usage | None:
    meta = response.usage_metadata
    if meta is None:
        return None
    return Usage(meta.prompt_token_count or 0, meta.candidates_token_count or 0)


def _text(response: types.GenerateContentResponse) -> str:
    parts: list[str] = []
    for candidate in response.candidates[:1] if response.candidates else ():
        if candidate.content and candidate.content.parts:
            parts.extend(p.text for p in candidate.content.parts if p.text and not p.thought)
    return "".join(parts)


class GeminiProvider:
    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self._key = config.api_key
        # Its async requests go through our HTTP/1.1 transport (docs/adr/0008) on the shared
        # TLS context; the sync client it also builds gets the context too (~45 ms saved).
        self._http = http = sdk_http_client(httpx2.AsyncClient, config.read_timeout, config.connect_timeout)
        options = types.HttpOptions(
            base_url=config.base_url,
            timeout=int(config.read_timeout * 1000),
            client_args={"verify": shared_ssl_context()},
            httpx_async_client=http,
        )
        self._client = genai.Client(vertexai=False, api_key=config.api_key, http_options=options)

    def _args(self, request: LLMRequest, **config: Any) -> dict[str, Any]:
        contents = [
            {"role": "model" if m.role == "assistant" else "user", "parts": [{"text": m.content}]}
            for m in request.messages
        ]
        settings = types.GenerateContentConfig(
            system_instruction=request.system or None,
            max_output_tokens=request.max_tokens,
            temperature=request.temperature,
            **config,
        )
        return {"model": request.model, "contents": contents, "config": settings}

    def _failure(self, exc: Exception) -> DawaiError:
        if isinstance(exc, genai_errors.APIError):
            return status_failure(self.name, exc.code or 502, exc.message, _headers(exc), self._key)
        if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
            return connection_failure(self.name, exc, timeout=True)
        if isinstance(exc, OSError) or "Connect" in type(exc).__name__ or "Protocol" in type(exc).__name__:
            return connection_failure(self.name, exc)
        return UpstreamError(f"The {self.name} provider failed ({type(exc).__name__}).", provider=self.name)

    async def complete(self, request: LLMRequest) -> LLMReply:
        try:
            response = await self._client.aio.models.generate_content(**self._args(request))
        except Exception as exc:
            raise self._failure(exc) from None
        reason = _finish(response)
        if reason is None:
            raise UpstreamTruncated(f"The {self.name} reply has no finishReason.", provider=self.name)
        return LLMReply(_text(response), _usage(response), reason)

    async def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]:
        reason: str | None = None
        usage: Usage | None = None
        stream: Any = None
        started = False
        try:
            stream = await self._client.aio.models.generate_content_stream(**self._args(request))
            async for chunk in stream:
                started = True
                text = _text(chunk)
                if text:
                    yield TextDelta(text)
                usage = _usage(chunk) or usage
                reason = _finish(chunk) or reason
        except DawaiError:
            raise
        except genai_errors.APIError as exc:
            raise self._failure(exc) from None
        except Exception as exc:
            raise broken_stream(self.name, exc, started=started) from None
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        for event in stream_end(self.name, reason, usage, "a finishReason"):
            yield event

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        args = self._args(request, response_mime_type="application/json", response_json_schema=schema)
        try:
            response = await self._client.aio.models.generate_content(**args)
        except Exception as exc:
            raise self._failure(exc) from None
        try:
            return msgspec.json.decode(_text(response))
        except msgspec.DecodeError:
            raise UpstreamError(f"The {self.name} reply was not JSON.", provider=self.name) from None

    async def aclose(self) -> None:
        await self._client.aio.aclose()
        await self._http.aclose()  # google-genai leaves a client it was given open
