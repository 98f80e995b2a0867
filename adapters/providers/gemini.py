"""Gemini through the official ``google-genai`` SDK.

Replies and streams go through the SDK's own API client, which builds, authenticates and
sends the request and maps error statuses. The SDK's public methods would parse every
streamed chunk three times (JSON, back to JSON, then JSON into pydantic models: most of
a stream's cost, measured in docs/adr/0011) and refuse to hand over the raw response, so
we ask the API client for the HTTP response and decode it with msgspec, as the other
adapters do (docs/adr/0007, 0011). What the public methods add is kept:

- an error document sent as bare JSON inside a 200 stream is that error;
- a reply that stops at the per-request limit (``finishReason: CONTINUATION``) or whose
  stream drops after a checkpoint goes on from its ``continuationToken`` through the
  SDK's own ``generate_content(_stream)``, which follows any later tokens itself.

Closing the response closes its connection, so the upstream sees the client leave. One
instance serves every key: ``with_key`` gives a view that sends its key per request over
the shared SDK client. Should the API client's private methods change shape
(``raw_path_problem``), replies and streams go through the public methods instead
(docs/adr/0021).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import AsyncIterator
from typing import Any

import httpx2
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from dawai.adapters.internals import GEMINI_RAW_PATH, usable
from dawai.adapters.providers.failures import (
    broken_stream,
    connection_failure,
    decode_structured,
    decode_upstream,
    status_failure,
    stream_end,
)
from dawai.adapters.providers.gemini_wire import (
    Chunk,
    decode_chunk,
    gemini_sse,
    model_path,
    token_bytes,
    total_usage,
)
from dawai.adapters.providers.raw import NO_KEY
from dawai.adapters.upstream.clients import (
    http_client_for_sdk,
    shared_ssl_context,
    ssl_context_for,
    upstream_timeout,
)
from dawai.adapters.upstream.http1 import response_chunks
from dawai.core.errors import DawaiError, UpstreamError, UpstreamTruncated
from dawai.core.models import ChatEvent, LLMReply, LLMRequest, TextDelta, Usage
from dawai.ports.llm import ProviderConfig

__all__ = ["GeminiProvider", "raw_path_problem"]

_KEY_HEADER = "x-goog-api-key"  # as google-genai writes it: its headers are a plain dict


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


def _json_config(schema: dict[str, Any]) -> dict[str, Any]:
    """Structured output: a JSON reply matching ``schema`` (``GenerateContentConfig`` fields)."""
    return {"response_mime_type": "application/json", "response_json_schema": schema}


class GeminiProvider:
    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self._key = config.api_key
        self._owner = True
        # Its async requests go through our HTTP/1.1 transport (docs/adr/0008) on the shared
        # TLS context (or the provider's own, for ca_bundle/verify); the sync client it also
        # builds gets the same context, which also saves building one.
        self._max_event_bytes = config.limits.max_event_bytes
        self._http = http = http_client_for_sdk(httpx2.AsyncClient, config)
        # google-genai turns its one timeout into every phase's, connecting included; the
        # requests we send carry ours instead.
        self._timeout = upstream_timeout(config)
        options = types.HttpOptions(
            base_url=config.base_url,
            timeout=int(config.read_timeout * 1000),
            client_args={"verify": ssl_context_for(config)},
            httpx_async_client=http,
        )
        # Never None: the SDK would then look for a key in the environment.
        self._client = genai.Client(vertexai=False, api_key=config.api_key or NO_KEY, http_options=options)
        self._raw_path = usable(GEMINI_RAW_PATH)  # else the public methods (docs/adr/0021)

    def with_key(self, api_key: str | None) -> GeminiProvider:
        """A view sending ``api_key`` over this instance's SDK client (``KeyedProvider``)."""
        view = copy.copy(self)
        view._key, view._owner = api_key, False
        return view

    def _args(self, request: LLMRequest, **config: Any) -> dict[str, Any]:
        contents = [
            {"role": "model" if m.role == "assistant" else "user", "parts": [{"text": m.content}]}
            for m in request.messages
        ]
        settings = types.GenerateContentConfig(
            http_options=types.HttpOptions(headers={_KEY_HEADER: self._key or NO_KEY}),
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
        if not self._raw_path:
            return await self._public_reply(request)
        sent = await self._send(request, "generateContent", stream=False)
        body = sent.response_stream[0] if sent.response_stream else b""
        reply = decode_upstream(decode_chunk, body, self.name, "reply")
        text, reason, token = self._read(reply, sent.headers)
        usage = reply.usage()
        if reason == "CONTINUATION" and token:
            # Stopped at the per-request limit: the SDK follows the token, as it would have.
            rest = await self._sdk_reply(self._args(request, continuation_token=token_bytes(token)))
            text, reason, usage = text + _text(rest), _finish(rest), total_usage(usage, _usage(rest))
        if reason is None:
            raise UpstreamTruncated(f"The {self.name} reply has no finishReason.", provider=self.name)
        return LLMReply(text, usage, reason)

    def _body(self, request: LLMRequest, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        """The request ``generate_content(_stream)`` sends for ``_args(request)`` (with
        ``schema``: for ``_args(request, **_json_config(schema))``)."""
        body: dict[str, Any] = {
            "contents": [
                {"parts": [{"text": m.content}], "role": "model" if m.role == "assistant" else "user"}
                for m in request.messages
            ]
        }
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}], "role": "user"}
        config: dict[str, Any] = {"maxOutputTokens": request.max_tokens}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if schema is not None:
            config["responseMimeType"] = "application/json"
            config["responseJsonSchema"] = schema
        body["generationConfig"] = config
        return body

    async def _send(
        self, request: LLMRequest, method: str, *, stream: bool, schema: dict[str, Any] | None = None
    ) -> Any:
        """The SDK's API client builds and sends the request; its answer, unparsed: the
        streamed HTTP response (``response_stream``), or the whole body in a list."""
        api = self._client.aio._api_client
        path = f"{model_path(request.model)}:{method}" + ("?alt=sse" if stream else "")
        http_request = api._build_request("post", path, self._body(request, schema))
        http_request.headers[_KEY_HEADER] = self._key or NO_KEY  # a copy made for this request
        # Typed float, but google-genai hands it to the httpx2 client as it is, which takes
        # a Timeout: each phase's timeout reaches the transport (test_http1_transport checks).
        http_request.timeout = self._timeout  # type: ignore[assignment]
        try:
            return await api._async_request(http_request=http_request, stream=stream)
        except Exception as exc:
            raise self._failure(exc) from None

    def _read(self, chunk: Chunk, headers: Any) -> tuple[str, str | None, str | None]:
        """A reply's (or a streamed chunk's) text, finish reason and continuation token."""
        if chunk.error is not None:  # reported in a 200 body, as google-genai reports it
            code, message = chunk.error.code or 502, chunk.error.message
            raise status_failure(self.name, code, message, headers, self._key)
        if not chunk.candidates:
            feedback = chunk.prompt_feedback
            if feedback is not None and feedback.block_reason:  # no reply will come
                raise UpstreamError(
                    f"The {self.name} provider blocked the prompt ({feedback.block_reason}).",
                    provider=self.name,
                )
            return "", None, None
        candidate = chunk.candidates[0]
        return chunk.text(), candidate.finish_reason, candidate.continuation_token

    def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]:
        return self._stream(request, None)

    def stream_json(self, request: LLMRequest, schema: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        """``complete_json``'s reply streamed (``responseJsonSchema`` on the raw streaming
        path): the JSON text in the chunks' text parts."""
        return self._stream(request, schema)

    async def _stream(self, request: LLMRequest, schema: dict[str, Any] | None) -> AsyncIterator[ChatEvent]:
        if not self._raw_path:
            json_config = _json_config(schema) if schema is not None else {}
            async for event in self._sdk_stream(
                self._public_args(request, **json_config), None, resumed=False
            ):
                yield event
            return
        sent = await self._send(request, "streamGenerateContent", stream=True, schema=schema)
        response = sent.response_stream
        reason: str | None = None
        usage: Usage | None = None
        token: str | None = None  # the latest checkpoint: where generation can resume
        started = False
        broken: DawaiError | None = None
        try:
            async for data in gemini_sse(response_chunks(response), self._max_event_bytes):
                started = True
                chunk = decode_upstream(decode_chunk, data, self.name, "stream")
                text, chunk_reason, chunk_token = self._read(chunk, response.headers)
                if chunk_token or (chunk_reason and chunk_reason != "CONTINUATION"):
                    token = chunk_token  # a final finish reason ends what could resume
                reason = chunk_reason or reason
                if text:
                    yield TextDelta(text)
                usage = chunk.usage() or usage
        except DawaiError:
            raise
        except Exception as exc:
            broken = broken_stream(self.name, exc, started=started)
        finally:
            await response.aclose()
        if token and reason in (None, "CONTINUATION"):
            # Stopped at the per-request limit, or cut after a checkpoint: the SDK resumes
            # from the token, as it would have (and follows any later tokens itself).
            json_config = _json_config(schema) if schema is not None else {}
            config = self._args(request, continuation_token=token_bytes(token), **json_config)
            async for event in self._sdk_stream(config, usage):
                yield event
            return
        if broken is not None:
            raise broken
        for event in stream_end(self.name, reason, usage, "a finishReason"):
            yield event

    async def _sdk_reply(self, args: dict[str, Any]) -> types.GenerateContentResponse:
        try:
            return await self._client.aio.models.generate_content(**args)
        except Exception as exc:
            raise self._failure(exc) from None

    async def _sdk_stream(
        self, args: dict[str, Any], before: Usage | None, *, resumed: bool = True
    ) -> AsyncIterator[ChatEvent]:
        """The rest of a stream (``resumed``), or a whole one, through the SDK's own
        ``generate_content_stream``; its usage counts on from ``before``."""
        reason: str | None = None
        usage: Usage | None = None
        started = resumed
        try:
            async for chunk in await self._client.aio.models.generate_content_stream(**args):
                if not started:
                    self._refuse_blocked(chunk)
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
        except Exception as exc:  # once the reply has begun, a broken stream
            raise (broken_stream(self.name, exc, started=True) if started else self._failure(exc)) from None
        for event in stream_end(self.name, reason, total_usage(before, usage), "a finishReason"):
            yield event

    def _public_args(self, request: LLMRequest, **config: Any) -> dict[str, Any]:
        model_path(request.model)  # a name the raw path would refuse is refused here too
        return self._args(request, **config)

    async def _public_reply(self, request: LLMRequest) -> LLMReply:
        """A reply through the SDK's public ``generate_content`` (which follows
        continuation tokens itself)."""
        reply = await self._sdk_reply(self._public_args(request))
        self._refuse_blocked(reply)
        reason = _finish(reply)
        if reason is None:
            raise UpstreamTruncated(f"The {self.name} reply has no finishReason.", provider=self.name)
        return LLMReply(_text(reply), _usage(reply), reason)

    def _refuse_blocked(self, response: types.GenerateContentResponse) -> None:
        feedback = response.prompt_feedback
        if not response.candidates and feedback is not None and feedback.block_reason:
            reason = getattr(feedback.block_reason, "value", feedback.block_reason)
            raise UpstreamError(
                f"The {self.name} provider blocked the prompt ({reason}).", provider=self.name
            )

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        args = self._args(request, **_json_config(schema))
        response = await self._sdk_reply(args)
        return decode_structured(_text(response), self.name)

    async def aclose(self) -> None:
        if not self._owner:  # a view's client belongs to the instance it came from
            return
        await self._client.aio.aclose()
        await self._http.aclose()  # google-genai leaves a client it was given open


# The API client's private methods ``_send`` calls, with the parameters
# tests/integration/test_gemini_stream.py verified side by side (``self`` left out).
_CALLED = {
    "_build_request": ("http_method", "path", "request_dict", "http_options"),
    "_async_request": ("http_request", "http_options", "stream"),
}


def raw_path_problem() -> str | None:
    """``None`` when google-genai's API client has the shape the raw path uses and the
    side-by-side tests verified, else what differs (``dawai.adapters.internals``)."""
    from google.genai import _api_client

    api_class = getattr(_api_client, "BaseApiClient", None)
    if api_class is None:
        return "google.genai._api_client.BaseApiClient is gone"
    for name, expected in _CALLED.items():
        found = getattr(api_class, name, None)
        if found is None:
            return f"BaseApiClient.{name} is gone"
        got = tuple(p for p in inspect.signature(found).parameters if p != "self")
        if got != expected:
            return f"BaseApiClient.{name} takes ({', '.join(got)}), not ({', '.join(expected)})"
    if not inspect.iscoroutinefunction(api_class._async_request):
        return "BaseApiClient._async_request is no longer a coroutine function"
    answer = tuple(inspect.signature(_api_client.HttpResponse).parameters)
    if answer[:2] != ("headers", "response_stream"):
        return f"HttpResponse takes ({', '.join(answer)}), not (headers, response_stream, ...)"
    http = httpx2.AsyncClient(transport=httpx2.MockTransport(lambda _: httpx2.Response(204)), trust_env=False)
    options = types.HttpOptions(
        base_url="http://127.0.0.1:9", client_args={"verify": shared_ssl_context()}, httpx_async_client=http
    )
    api = getattr(genai.Client(vertexai=False, api_key=NO_KEY, http_options=options).aio, "_api_client", None)
    if not isinstance(api, api_class):
        return "genai.Client().aio._api_client is no longer a BaseApiClient"
    built = api._build_request("post", "models/probe:generateContent", {"contents": []})
    headers = getattr(built, "headers", None)
    if not isinstance(headers, dict) or _KEY_HEADER not in headers or not hasattr(built, "timeout"):
        return f"_build_request no longer gives a request with headers ({_KEY_HEADER}) and a timeout"
    if "models/probe:generateContent" not in str(getattr(built, "url", "")):
        return "_build_request no longer puts the path in the request's url"
    return None
