"""The chat service: the prompt strategy's rendering of a chat, sent through the gateway.

Routing, keys, retries, fallbacks, timeouts and the truncation check are the gateway's
(``core/gateway.py``), the same for every feature; chat only says what to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from dawai.core.gateway import BuildRequest, Credentials, GatewayStream, LLMGateway
from dawai.core.models import ChatMessage, ChatReply, LLMRequest, Prompt, PromptInput, Route
from dawai.core.settings import Settings
from dawai.ports.prompt import PromptStrategy

__all__ = ["ChatInput", "ChatService"]


class ChatInput(msgspec.Struct, frozen=True):
    message: str
    model: str
    context: str | dict[str, Any] | None = None
    history: tuple[ChatMessage, ...] = ()
    api_keys: Mapping[str, str] = {}
    api_key: str | None = None


class ChatService:
    def __init__(self, *, gateway: LLMGateway, strategy: PromptStrategy, settings: Settings) -> None:
        self._gateway = gateway
        self._strategy = strategy
        self._max_tokens = settings.llm.max_tokens
        self._heartbeat = settings.reliability.heartbeat_interval

    @property
    def heartbeat_interval(self) -> float:
        """Seconds of silence after which a stream's consumer should send a heartbeat."""
        return self._heartbeat

    def request_for(self, chat: ChatInput) -> BuildRequest:
        """The provider request for each route tried; the prompt is rendered once, when
        the first is built (after routing and keys were checked)."""
        rendered: list[Prompt] = []

        def build(route: Route) -> LLMRequest:
            if not rendered:
                rendered.append(self._strategy.render(PromptInput(chat.message, chat.context, chat.history)))
            prompt = rendered[0]
            return LLMRequest(
                model=route.model, system=prompt.system, messages=prompt.messages, max_tokens=self._max_tokens
            )

        return build

    async def reply(self, chat: ChatInput) -> ChatReply:
        reply = await self._gateway.complete(chat.model, _credentials(chat), self.request_for(chat))
        return ChatReply(reply.text, reply.route.model, reply.route.provider, reply.usage)

    def stream(self, chat: ChatInput) -> GatewayStream:
        """Start streaming; routing and key errors raise here, before any byte is sent."""
        return self._gateway.stream(chat.model, _credentials(chat), self.request_for(chat))


def _credentials(chat: ChatInput) -> Credentials:
    return Credentials(chat.api_keys, chat.api_key)
