"""The LLM gateway: the one way a feature reaches a model.

A feature (chat; agent, generation, summaries and ghost text later) names a model id,
passes the request's credentials and says how to build the provider request for a route;
the gateway does the rest, the same way for every feature:

- routing to the primary target and the ``[llm.fallbacks]`` that have a usable key, every
  client value that goes upstream checked before a connection opens;
- retries (429, 5xx, connection failures; exponential backoff with jitter, honouring
  Retry-After up to ``max_retry_wait``), then the next fallback, only before the first
  token: once a token is out, a failure is the caller's to report;
- the first-token timeout per attempt and the total timeout per reply;
- each provider's cap on requests in flight (``UpstreamSlots``): an attempt holds one of
  its provider's slots for as long as it runs, a stream's until the stream is closed;
  a provider that stays busy past ``reliability.pool_timeout`` is ``Overloaded`` (503)
  and the next fallback is tried;
- truncation: a stream that ends without the provider's stop signal is an error, never a
  success.

Four calls: ``complete`` and ``stream`` (text), ``complete_json`` and ``stream_json``
(structured output matching a JSON schema). A stream is a ``GatewayStream``: nothing is
put in its buffer until the gateway has judged the first token (or given up), so a
consumer that waits for the stream to open (``EventStream.opened``) waits for exactly that.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from functools import partial
from typing import Any, TypeVar

import msgspec

from dawai.core import audit
from dawai.core.errors import (
    DawaiError,
    InvalidInput,
    MissingCredentials,
    NotConfigured,
    Overloaded,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamTruncated,
)
from dawai.core.models import ChatEvent, Finish, LLMRequest, Route, TextDelta, Usage
from dawai.core.provider_pool import ProviderPool
from dawai.core.routing import ModelRouter
from dawai.core.settings import Settings
from dawai.core.streams import EventStream
from dawai.core.telemetry import NO_TELEMETRY, error_kind
from dawai.core.upstream_slots import Release, UpstreamSlots
from dawai.core.upstream_values import check_credentials
from dawai.ports.llm import LLMProvider
from dawai.ports.telemetry import Telemetry

__all__ = [
    "BuildRequest",
    "Credentials",
    "GatewayReply",
    "GatewayStream",
    "LLMGateway",
    "StructuredReply",
    "Target",
]

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")

BuildRequest = Callable[[Route], LLMRequest]
"""How a feature builds the provider request for a route (its ``model`` is the route's);
called once per target tried, lazily, so a fallback may get a request of its own."""

# A stream for one attempt, and how long its first token may take (None: no limit but
# the total timeout).
_Opener = Callable[[LLMProvider, LLMRequest], tuple[AsyncIterator[ChatEvent], float | None]]

_encode_json = msgspec.json.Encoder().encode


class Credentials(msgspec.Struct, frozen=True):
    """The keys a request brought: per provider (``apiKeys``), and one for any (``apiKey``)."""

    api_keys: Mapping[str, str] = {}
    api_key: str | None = None


class Target(msgspec.Struct, frozen=True):
    route: Route
    provider: LLMProvider


class GatewayReply(msgspec.Struct, frozen=True):
    """A whole text reply and the route that gave it."""

    text: str
    route: Route
    usage: Usage | None = None
    finish_reason: str = "stop"


class StructuredReply(msgspec.Struct, frozen=True):
    """A JSON value the model gave for a schema, and the route that gave it."""

    value: Any
    route: Route


class GatewayStream(EventStream[ChatEvent]):
    """A stream of ``TextDelta``, ``Usage`` and ``Finish`` events from one route.

    It opens (its first item is buffered) once the gateway has the first token of an
    attempt it keeps; ``route`` then names that attempt's target. Failing before that, it
    holds the last failure instead, as its first item."""

    def __init__(self, events: Callable[[GatewayStream], AsyncIterator[ChatEvent]]) -> None:
        self.route: Route | None = None
        super().__init__(events(self))


async def _whole_json(
    provider: LLMProvider, request: LLMRequest, schema: dict[str, Any]
) -> AsyncIterator[ChatEvent]:
    """A structured stream for a provider without ``stream_json`` (one written against the
    older port): its ``complete_json`` value, encoded, as one piece."""
    value = await provider.complete_json(request, schema)
    yield TextDelta(_encode_json(value).decode())
    yield Finish("stop")


async def _close(events: AsyncIterator[Any]) -> None:
    """Close an attempt's stream (a provider's async generator; any async iterator will do)."""
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()


class LLMGateway:
    def __init__(
        self,
        *,
        router: ModelRouter,
        pool: ProviderPool,
        settings: Settings,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        telemetry: Telemetry = NO_TELEMETRY,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """``telemetry`` is told each stream attempt's time to first token and every failed
        attempt, per provider."""
        # Requests in flight per provider ([providers.<name>] max_concurrency).
        self.upstream_slots = UpstreamSlots.of(settings)
        self._router = router
        self._pool = pool
        self._fallbacks = settings.llm.fallbacks
        self._rel = settings.reliability
        self._sleep = sleep
        self._jitter = jitter
        self._telemetry = telemetry
        self._clock = clock

    # -- planning ----------------------------------------------------------------------

    def targets(self, model: str, credentials: Credentials) -> list[Target]:
        """The primary route and its fallbacks that have a usable key, in order. Every
        client value that goes upstream (keys, model names) is checked here, before any
        connection is opened; routing and key errors raise here."""
        check_credentials(credentials.api_keys, credentials.api_key)
        chain = [self._router.resolve(model)]
        for fallback in self._fallbacks.get(model, ()):
            try:
                chain.append(self._router.resolve(fallback))
            except (InvalidInput, NotConfigured):
                continue  # reported at start-up (ModelRouter.problems); never breaks the primary
        targets: list[Target] = []
        first_missing: MissingCredentials | None = None
        for route in dict.fromkeys(chain):
            try:
                key = self._router.key_for(route.provider, credentials.api_keys, credentials.api_key)
            except MissingCredentials as exc:
                first_missing = first_missing or exc
                continue
            targets.append(Target(route, self._pool.get(route.provider, key)))
        if not targets:
            assert first_missing is not None
            raise first_missing
        return targets

    # -- retry policy -----------------------------------------------------------------

    def retry_delay(self, exc: DawaiError, attempt: int) -> float | None:
        """Seconds to wait before retrying ``exc`` after ``attempt`` retries, or ``None``
        when it must not be retried (the next fallback is tried instead)."""
        if attempt >= self._rel.max_retries or isinstance(exc, Overloaded):
            return None  # a busy provider was waited for already: the next fallback instead
        if isinstance(exc, RateLimited):
            if exc.retry_after is not None:
                return exc.retry_after if exc.retry_after <= self._rel.max_retry_wait else None
        elif not (isinstance(exc, UpstreamError) and exc.retryable):
            return None
        backoff = min(self._rel.backoff_max, self._rel.backoff_base * 2.0**attempt)
        return backoff * (0.5 + self._jitter() / 2)

    async def _with_retries(
        self,
        targets: list[Target],
        build: BuildRequest,
        attempt: Callable[[Target, LLMRequest], Awaitable[T]],
        tried: list[str] | None = None,
    ) -> T:
        """``attempt`` each target in turn: retry a target while ``retry_delay`` allows,
        then fall back to the next; raise the last failure when all are spent. Each
        upstream failure is counted for its provider (a provider's own concurrency cap
        being full is not one); ``tried`` gets each provider as it is tried."""
        last: DawaiError | None = None
        for target in targets:
            request = build(target.route)
            if tried is not None:
                tried.append(target.route.provider)
            audit.note_route(target.route.provider, target.route.model)
            tries = 0
            while True:
                try:
                    return await attempt(target, request)
                except (UpstreamError, RateLimited, UpstreamTimeout, Overloaded) as exc:
                    if not isinstance(exc, Overloaded):
                        self._telemetry.upstream_error(target.route.provider, error_kind(exc))
                    last = exc
                    delay = self.retry_delay(exc, tries)
                    if delay is None:
                        break
                    tries += 1
                    await self._sleep(delay)
        assert last is not None
        raise last

    # -- replies ----------------------------------------------------------------------

    async def complete(self, model: str, credentials: Credentials, build: BuildRequest) -> GatewayReply:
        """The whole text reply. Routing, key and upstream errors raise."""
        targets = self.targets(model, credentials)

        async def once(target: Target, request: LLMRequest) -> GatewayReply:
            async with self.upstream_slots.held(target.route.provider):
                reply = await target.provider.complete(request)
            if reply.usage is not None:
                audit.note_usage(reply.usage.input_tokens, reply.usage.output_tokens)
            return GatewayReply(reply.text, target.route, reply.usage, reply.finish_reason)

        tried: list[str] = []
        return await self._within_total(self._with_retries(targets, build, once, tried), tried)

    async def complete_json(
        self, model: str, credentials: Credentials, build: BuildRequest, schema: dict[str, Any]
    ) -> StructuredReply:
        """A JSON value matching ``schema``, by each provider's own structured-output
        mechanism (as well as the upstream allows: check what matters)."""
        targets = self.targets(model, credentials)

        async def once(target: Target, request: LLMRequest) -> StructuredReply:
            async with self.upstream_slots.held(target.route.provider):
                value = await target.provider.complete_json(request, schema)
            return StructuredReply(value, target.route)

        tried: list[str] = []
        return await self._within_total(self._with_retries(targets, build, once, tried), tried)

    async def _within_total(self, reply: Awaitable[T], tried: list[str]) -> T:
        try:
            async with asyncio.timeout(self._rel.total_timeout):
                return await reply
        except TimeoutError:
            if tried:
                self._telemetry.upstream_error(tried[-1], "timeout")
            raise UpstreamTimeout(f"No reply within {self._rel.total_timeout:g} s.") from None

    # -- streams ----------------------------------------------------------------------

    def stream(self, model: str, credentials: Credentials, build: BuildRequest) -> GatewayStream:
        """The text reply as it arrives. Routing and key errors raise here, before any
        byte is sent; upstream failures before the first token are retried and fall back,
        and the last one is the stream's first item if all fail."""
        return self._stream(self.targets(model, credentials), build, self._text)

    def stream_json(
        self, model: str, credentials: Credentials, build: BuildRequest, schema: dict[str, Any]
    ) -> GatewayStream:
        """The JSON text of a value matching ``schema``, in ``TextDelta`` pieces as they
        arrive (then ``Usage``, ``Finish``), by the provider's ``stream_json``. A provider
        without one (written against the older port) gives its ``complete_json`` value
        as one piece, timed by the total timeout alone: its first token is the whole reply."""
        opener = partial(self._json, schema)
        return self._stream(self.targets(model, credentials), build, opener)

    def _text(
        self, provider: LLMProvider, request: LLMRequest
    ) -> tuple[AsyncIterator[ChatEvent], float | None]:
        return provider.stream(request), self._rel.first_token_timeout

    def _json(
        self, schema: dict[str, Any], provider: LLMProvider, request: LLMRequest
    ) -> tuple[AsyncIterator[ChatEvent], float | None]:
        stream_json = getattr(provider, "stream_json", None)
        if stream_json is None:
            return _whole_json(provider, request, schema), None
        return stream_json(request, schema), self._rel.first_token_timeout

    def _stream(self, targets: list[Target], build: BuildRequest, opener: _Opener) -> GatewayStream:
        return GatewayStream(lambda stream: self._events(stream, targets, build, opener))

    async def _events(
        self, stream: GatewayStream, targets: list[Target], build: BuildRequest, opener: _Opener
    ) -> AsyncIterator[ChatEvent]:
        tried: list[str] = []
        try:
            async with asyncio.timeout(self._rel.total_timeout):
                target, upstream, buffered, release = await self._with_retries(
                    targets, build, partial(self._open_once, opener), tried
                )
                stream.route = target.route
                finished = False
                try:
                    try:
                        for event in buffered:
                            finished = finished or isinstance(event, Finish)
                            if isinstance(event, Usage):
                                audit.note_usage(event.input_tokens, event.output_tokens)
                            yield event
                        async for event in upstream:
                            if isinstance(event, TextDelta):
                                yield event
                                continue
                            finished = finished or isinstance(event, Finish)
                            if isinstance(event, Usage):
                                audit.note_usage(event.input_tokens, event.output_tokens)
                            yield event
                    finally:
                        try:
                            await _close(upstream)
                        finally:
                            release()
                    if not finished:
                        raise UpstreamTruncated("The provider's stream ended before its stop signal.")
                except (UpstreamError, RateLimited, UpstreamTimeout) as exc:  # after the first token
                    self._telemetry.upstream_error(target.route.provider, error_kind(exc))
                    raise
        except TimeoutError:
            if tried:
                self._telemetry.upstream_error(tried[-1], "timeout")
            raise UpstreamTimeout(f"The reply did not finish within {self._rel.total_timeout:g} s.") from None

    async def _open_once(
        self, opener: _Opener, target: Target, request: LLMRequest
    ) -> tuple[Target, AsyncIterator[ChatEvent], list[ChatEvent], Release]:
        """One attempt: take a slot of the provider's, open the stream and read up to its
        first ``TextDelta`` or ``Finish`` (``Usage`` before it is kept too). A stream that
        ends before either is cut, like one that breaks: the next fallback is tried. The
        slot is given back here on failure, else by whoever closes the stream."""
        release = await self.upstream_slots.acquire(target.route.provider)
        try:
            return await self._first_token(opener, target, request, release)
        except BaseException:
            release()
            raise

    async def _first_token(
        self, opener: _Opener, target: Target, request: LLMRequest, release: Release
    ) -> tuple[Target, AsyncIterator[ChatEvent], list[ChatEvent], Release]:
        started = self._clock()
        events, first_token_timeout = opener(target.provider, request)
        upstream = aiter(events)
        buffered: list[ChatEvent] = []
        try:
            async with asyncio.timeout(first_token_timeout):
                while True:
                    try:
                        event = await anext(upstream)
                    except StopAsyncIteration:
                        raise UpstreamTruncated(
                            f"The {target.route.provider} stream ended before its first token.",
                            provider=target.route.provider,
                        ) from None
                    buffered.append(event)
                    if isinstance(event, TextDelta | Finish):
                        self._telemetry.upstream_first_token(target.route.provider, self._clock() - started)
                        return target, upstream, buffered, release
        except TimeoutError:
            await _close(upstream)
            # Not retried (the next try would likely wait as long), but a fallback is tried.
            raise UpstreamTimeout(
                f"No first token from {target.route.provider} within {first_token_timeout:g} s.",
                provider=target.route.provider,
            ) from None
        except BaseException:
            await _close(upstream)
            raise
