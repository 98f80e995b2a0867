"""The chat service: routing, keys, prompts and the reliability rules around providers.

Retries (429, 5xx, connection failures; exponential backoff with jitter, honouring
Retry-After) and fallbacks happen only before the first token reaches the client. A
stream that ends without the provider's stop signal is a truncation, never a success.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import msgspec

from dawai.core.errors import (
    DawaiError,
    InvalidInput,
    MissingCredentials,
    NotConfigured,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
    UpstreamTruncated,
)
from dawai.core.models import (
    ChatEvent,
    ChatMessage,
    ChatReply,
    Finish,
    LLMRequest,
    PromptInput,
    Route,
    TextDelta,
)
from dawai.core.provider_pool import ProviderPool
from dawai.core.routing import ModelRouter
from dawai.core.settings import Settings
from dawai.core.streams import EventStream
from dawai.core.upstream_values import check_credentials
from dawai.ports.llm import LLMProvider
from dawai.ports.prompt import PromptStrategy

__all__ = ["ChatInput", "ChatService", "Target"]

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


class ChatInput(msgspec.Struct, frozen=True):
    message: str
    model: str
    context: str | dict[str, Any] | None = None
    history: tuple[ChatMessage, ...] = ()
    api_keys: Mapping[str, str] = {}
    api_key: str | None = None


class Target(msgspec.Struct, frozen=True):
    route: Route
    provider: LLMProvider


class ChatService:
    def __init__(
        self,
        *,
        router: ModelRouter,
        pool: ProviderPool,
        strategy: PromptStrategy,
        settings: Settings,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._router = router
        self._pool = pool
        self._strategy = strategy
        self._settings = settings
        self._rel = settings.reliability
        self._sleep = sleep
        self._jitter = jitter

    @property
    def heartbeat_interval(self) -> float:
        """Seconds of silence after which a stream's consumer should send a heartbeat."""
        return self._rel.heartbeat_interval

    # -- planning ----------------------------------------------------------------------

    def targets(self, chat: ChatInput) -> list[Target]:
        """The primary route and its fallbacks that have a usable key, in order. Every
        client value that goes upstream (keys, model names) is checked here, before any
        connection is opened."""
        check_credentials(chat.api_keys, chat.api_key)
        chain = [self._router.resolve(chat.model)]
        for fallback in self._settings.llm.fallbacks.get(chat.model, ()):
            try:
                chain.append(self._router.resolve(fallback))
            except (InvalidInput, NotConfigured):
                continue  # reported at start-up (ModelRouter.problems); never breaks the primary
        targets: list[Target] = []
        first_missing: MissingCredentials | None = None
        for route in dict.fromkeys(chain):
            try:
                key = self._router.key_for(route.provider, chat.api_keys, chat.api_key)
            except MissingCredentials as exc:
                first_missing = first_missing or exc
                continue
            targets.append(Target(route, self._pool.get(route.provider, key)))
        if not targets:
            assert first_missing is not None
            raise first_missing
        return targets

    def request_for(self, route: Route, chat: ChatInput) -> LLMRequest:
        prompt = self._strategy.render(PromptInput(chat.message, chat.context, chat.history))
        return LLMRequest(
            model=route.model,
            system=prompt.system,
            messages=prompt.messages,
            max_tokens=self._settings.llm.max_tokens,
        )

    # -- retry policy -----------------------------------------------------------------

    def _delay(self, exc: DawaiError, attempt: int) -> float | None:
        """Seconds to wait before retrying ``exc``, or ``None`` when it must not be retried."""
        if attempt >= self._rel.max_retries:
            return None
        if isinstance(exc, RateLimited):
            if exc.retry_after is not None:
                return exc.retry_after if exc.retry_after <= self._rel.max_retry_wait else None
        elif not (isinstance(exc, UpstreamError) and exc.retryable):
            return None
        backoff = min(self._rel.backoff_max, self._rel.backoff_base * 2**attempt)
        return backoff * (0.5 + self._jitter() / 2)

    # -- non-streaming ----------------------------------------------------------------

    async def reply(self, chat: ChatInput) -> ChatReply:
        targets = self.targets(chat)
        try:
            async with asyncio.timeout(self._rel.total_timeout):
                return await self._reply(targets, chat)
        except TimeoutError:
            raise UpstreamTimeout(f"No reply within {self._rel.total_timeout:g} s.") from None

    async def _reply(self, targets: list[Target], chat: ChatInput) -> ChatReply:
        async def once(target: Target, request: LLMRequest) -> ChatReply:
            reply = await target.provider.complete(request)
            return ChatReply(reply.text, target.route.model, target.route.provider, reply.usage)

        return await self._with_retries(targets, chat, once)

    async def _with_retries(
        self, targets: list[Target], chat: ChatInput, attempt: Callable[[Target, LLMRequest], Awaitable[T]]
    ) -> T:
        """``attempt`` each target in turn: retry a target while ``_delay`` allows, then fall
        back to the next; raise the last failure when all are spent."""
        last: DawaiError | None = None
        for target in targets:
            request = self.request_for(target.route, chat)
            tries = 0
            while True:
                try:
                    return await attempt(target, request)
                except (UpstreamError, RateLimited, UpstreamTimeout) as exc:
                    last = exc
                    delay = self._delay(exc, tries)
                    if delay is None:
                        break
                    tries += 1
                    await self._sleep(delay)
        assert last is not None
        raise last

    # -- streaming --------------------------------------------------------------------

    def stream(self, chat: ChatInput) -> EventStream[ChatEvent]:
        """Start streaming; routing and key errors raise here, before any byte is sent."""
        targets = self.targets(chat)
        return EventStream(self._events(targets, chat))

    async def _events(self, targets: list[Target], chat: ChatInput) -> AsyncIterator[ChatEvent]:
        try:
            async with asyncio.timeout(self._rel.total_timeout):
                upstream, buffered = await self._open(targets, chat)
                finished = False
                try:
                    for event in buffered:
                        finished = finished or isinstance(event, Finish)
                        yield event
                    async for event in upstream:
                        finished = finished or isinstance(event, Finish)
                        yield event
                finally:
                    await upstream.aclose()
                if not finished:
                    raise UpstreamTruncated("The provider's stream ended before its stop signal.")
        except TimeoutError:
            raise UpstreamTimeout(f"The reply did not finish within {self._rel.total_timeout:g} s.") from None

    async def _open(self, targets: list[Target], chat: ChatInput) -> tuple[Any, list[ChatEvent]]:
        """Open a stream and read up to its first token, retrying and falling back."""
        return await self._with_retries(targets, chat, self._open_once)

    async def _open_once(self, target: Target, request: LLMRequest) -> tuple[Any, list[ChatEvent]]:
        upstream = aiter(target.provider.stream(request))
        buffered: list[ChatEvent] = []
        try:
            async with asyncio.timeout(self._rel.first_token_timeout):
                while True:
                    try:
                        event = await anext(upstream)
                    except StopAsyncIteration:
                        return upstream, buffered
                    buffered.append(event)
                    if isinstance(event, TextDelta | Finish):
                        return upstream, buffered
        except TimeoutError:
            await upstream.aclose()
            # Not retried (the next try would likely wait as long), but a fallback is tried.
            raise UpstreamTimeout(
                f"No first token from {target.route.provider} within {self._rel.first_token_timeout:g} s.",
                provider=target.route.provider,
            ) from None
        except BaseException:
            await upstream.aclose()
            raise
