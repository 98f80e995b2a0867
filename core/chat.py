"""The chat service: the prompt strategy's rendering of a chat, sent through the gateway.

A chat whose context names a project (``context.project.id`` or ``context.projectId``) with
a stored summary gets it in its prompt (``with_summary``; ``dawai.core.summaries``).

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
from dawai.core.summaries import SummaryService
from dawai.ports.prompt import PromptStrategy

__all__ = ["ChatInput", "ChatService"]


class ChatInput(msgspec.Struct, frozen=True):
    message: str
    model: str
    context: str | dict[str, Any] | None = None
    history: tuple[ChatMessage, ...] = ()
    api_keys: Mapping[str, str] = {}
    api_key: str | None = None
    # The stored summary of the project the context names (``ChatService.with_summary``).
    summary: dict[str, Any] | None = None
    # Who names the project: the client's token name, which summaries are kept under
    # (``dawai.core.summaries.owned_key``); None on a server without tokens.
    owner: str | None = None


class ChatService:
    def __init__(
        self,
        *,
        gateway: LLMGateway,
        strategy: PromptStrategy,
        settings: Settings,
        summaries: SummaryService | None = None,
    ) -> None:
        self._gateway = gateway
        self._strategy = strategy
        self._summaries = summaries
        self._max_tokens = settings.llm.max_tokens
        self._heartbeat = settings.reliability.heartbeat_interval

    @property
    def heartbeat_interval(self) -> float:
        """Seconds of silence after which a stream's consumer should send a heartbeat."""
        return self._heartbeat

    async def with_summary(self, chat: ChatInput) -> ChatInput:
        """``chat`` with the stored summary of the project its context names, if there is
        one (a store that fails only leaves it out). ``reply`` calls it; call it before
        ``stream``, which cannot wait for the store."""
        if chat.summary is not None or self._summaries is None:
            return chat
        summary = await self._summaries.for_context(chat.context, owner=chat.owner)
        return chat if summary is None else msgspec.structs.replace(chat, summary=summary)

    def request_for(self, chat: ChatInput) -> BuildRequest:
        """The provider request for each route tried; the prompt is rendered once, when
        the first is built (after routing and keys were checked)."""
        rendered: list[Prompt] = []

        def build(route: Route) -> LLMRequest:
            if not rendered:
                prompt_input = PromptInput(chat.message, chat.context, chat.history, summary=chat.summary)
                rendered.append(self._strategy.render(prompt_input))
            prompt = rendered[0]
            return LLMRequest(
                model=route.model, system=prompt.system, messages=prompt.messages, max_tokens=self._max_tokens
            )

        return build

    async def reply(self, chat: ChatInput) -> ChatReply:
        chat = await self.with_summary(chat)
        reply = await self._gateway.complete(chat.model, _credentials(chat), self.request_for(chat))
        return ChatReply(reply.text, reply.route.model, reply.route.provider, reply.usage)

    def stream(self, chat: ChatInput) -> GatewayStream:
        """Start streaming; routing and key errors raise here, before any byte is sent. The
        project's summary goes in only if ``with_summary`` put it in ``chat``."""
        return self._gateway.stream(chat.model, _credentials(chat), self.request_for(chat))


def _credentials(chat: ChatInput) -> Credentials:
    return Credentials(chat.api_keys, chat.api_key)
