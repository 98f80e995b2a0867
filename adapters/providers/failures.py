"""Turning SDK failures into domain errors, the same way for every provider."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import msgspec

from dawai.adapters.upstream.http1 import ResponseTooLarge
from dawai.adapters.upstream.slots import PoolExhausted
from dawai.core.errors import (
    DawaiError,
    RateLimited,
    UnstructuredReply,
    UpstreamAuthError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamTruncated,
)
from dawai.core.lenient_json import NoJson, loads_lenient
from dawai.core.models import ChatEvent, Finish, Usage
from dawai.core.redaction import redact

__all__ = [
    "broken_stream",
    "connection_failure",
    "decode_structured",
    "decode_upstream",
    "retry_after_seconds",
    "status_failure",
    "stream_end",
]

T = TypeVar("T")


def decode_upstream(decode: Callable[[Any], T], data: Any, provider: str, what: str) -> T:
    """``decode(data)``; JSON the provider got wrong is an ``UpstreamError`` that names
    ``what`` it was (``"reply"``, ``"stream"``)."""
    try:
        return decode(data)
    except msgspec.DecodeError:
        raise UpstreamError(f"The {provider} {what} was not valid JSON.", provider=provider) from None


def decode_structured(text: str, provider: str) -> Any:
    """A structured reply's JSON: strict first; then, for servers that do not hold to the
    schema (OpenAI-compatible ones), read leniently (code fences, prose around it,
    trailing commas, single quotes); prose with no JSON is ``UnstructuredReply``."""
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        pass
    try:
        return loads_lenient(text)
    except NoJson:
        raise UnstructuredReply(
            f"The {provider} reply was not valid JSON: it held no JSON at all.",
            text=text[:4000],
            provider=provider,
        ) from None


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    for name in ("retry-after-ms", "retry-after"):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(raw)
        except ValueError:
            return None  # an HTTP date: treat as unknown rather than parse clocks
        return max(0.0, value / 1000 if name == "retry-after-ms" else value)
    return None


def status_failure(
    provider: str, status: int, message: str | None, headers: Mapping[str, str] | None, key: str | None
) -> DawaiError:
    said = redact((message or "").strip(), [key])[:300]
    suffix = f": {said}" if said else ""
    if status in (401, 403):
        return UpstreamAuthError(
            f"The {provider} provider rejected the API key (HTTP {status}).", provider=provider
        )
    if status == 429:
        return RateLimited(
            f"The {provider} provider is rate limiting requests{suffix}",
            provider=provider,
            retry_after=retry_after_seconds(headers),
        )
    if status in (408, 504):
        return UpstreamTimeout(f"The {provider} provider timed out (HTTP {status}).", provider=provider)
    return UpstreamError(
        f"The {provider} provider answered HTTP {status}{suffix}",
        provider=provider,
        retryable=status >= 500,
    )


def _ours(exc: BaseException | None) -> ResponseTooLarge | PoolExhausted | None:
    """The transport's own ``ResponseTooLarge`` or ``PoolExhausted`` behind ``exc`` (the
    SDKs wrap transport errors), if any: its message names the setting and no secret."""
    for _ in range(8):
        if exc is None or isinstance(exc, ResponseTooLarge | PoolExhausted):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def connection_failure(provider: str, exc: BaseException, *, timeout: bool = False) -> DawaiError:
    ours = _ours(exc)
    if isinstance(ours, ResponseTooLarge):
        return UpstreamError(f"The {provider} provider's response broke a limit: {ours}", provider=provider)
    if ours is not None:  # not retried: the next try would wait as long; a fallback may serve
        return UpstreamError(f"No connection to the {provider} provider was free: {ours}", provider=provider)
    if timeout:
        return UpstreamTimeout(f"The {provider} provider did not answer in time.", provider=provider)
    return UpstreamError(
        f"Could not reach the {provider} provider ({type(exc).__name__}).", provider=provider, retryable=True
    )


def broken_stream(provider: str, exc: BaseException, *, started: bool) -> DawaiError:
    """A transport failure while reading a stream: before any event it is an ordinary
    (retryable) connection failure; after one, the reply is cut short."""
    if not started or _ours(exc) is not None:
        return connection_failure(provider, exc, timeout="Timeout" in type(exc).__name__)
    return UpstreamTruncated(
        f"The connection to the {provider} provider broke mid-stream ({type(exc).__name__}).",
        provider=provider,
    )


def stream_end(provider: str, stop: str | None, usage: Usage | None, signal: str) -> list[ChatEvent]:
    """The events that close a stream: usage and the stop signal, or a truncation error
    when the provider's stop signal (``signal``, for the message) never came."""
    if stop is None:
        raise UpstreamTruncated(f"The {provider} stream ended without {signal}.", provider=provider)
    return [usage, Finish(stop)] if usage is not None else [Finish(stop)]
