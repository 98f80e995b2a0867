"""``POST /api/chat`` and ``POST /api/stream/chat``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody

from dawai.adapters.http.auth import token_name
from dawai.adapters.http.openapi import event_stream, problem_responses
from dawai.adapters.http.route_set import (
    API_PREFIXES,
    SHUTDOWN_OPT,
    SLOT_OPT,
    Audit,
    OnShutdown,
    RateClass,
    RouteSet,
    Slot,
)
from dawai.adapters.http.schemas import ChatBody, ChatResponse, StreamError, UsageOut
from dawai.adapters.http.sse import sse_response
from dawai.core.chat import ChatInput, ChatService
from dawai.core.models import ChatMessage, TextDelta, Usage

__all__ = ["routes", "to_input"]


def to_input(body: ChatBody, request: Request[Any, Any, Any]) -> ChatInput:
    return ChatInput(
        message=body.message,
        model=body.model,
        context=body.context,
        history=tuple(ChatMessage(h.role, h.content) for h in body.history or ()),
        api_keys=body.apiKeys or {},
        api_key=body.apiKey or None,
        owner=token_name(request.scope),
    )


async def _chat(
    data: JSONBody[ChatBody], chat: NamedDependency[ChatService], request: Request[Any, Any, Any]
) -> ChatResponse:
    """Ask the music-production assistant; the whole reply at once, with token usage."""
    reply = await chat.reply(to_input(data, request))
    usage = UsageOut(reply.usage.input_tokens, reply.usage.output_tokens) if reply.usage else None
    return ChatResponse(reply.text, reply.model, reply.provider, usage)


async def _stream_chat(
    data: JSONBody[ChatBody],
    chat: NamedDependency[ChatService],
    request: Request[Any, Any, Any],
) -> Response[Any]:
    """The reply as Server-Sent Events: ``text`` pieces as they arrive, then ``usage``, then
    ``[DONE]``. Failures before the first byte are problem+json; after it, an in-band
    ``error`` event. A comment heartbeat is sent while waiting."""
    chat_input = await chat.with_summary(to_input(data, request))
    return await sse_response(request, chat.stream(chat_input), chat.heartbeat_interval)


# What ChatService can raise before a reply (or a stream's first byte).
CHAT_PROBLEMS = problem_responses(400, 401, 429, 502, 503, 504)


def handlers() -> list[HTTPRouteHandler]:
    stream_responses = {
        200: event_stream(TextDelta | Usage | StreamError, "`text` pieces, then `usage`, then `[DONE]`."),
        **CHAT_PROBLEMS,
    }
    return [
        post("/chat", summary="Chat", tags=["chat"], status_code=200, responses=CHAT_PROBLEMS)(_chat),
        post(
            "/stream/chat",
            summary="Chat, streamed as Server-Sent Events",
            # Let finish when the server stops; one of the client's capped streams while open.
            opt={SHUTDOWN_OPT: OnShutdown.DRAIN, SLOT_OPT: Slot.STREAM},
            tags=["chat"],
            status_code=200,
            responses=stream_responses,
        )(_stream_chat),
    ]


routes = RouteSet(
    API_PREFIXES,
    handlers,
    {"chat": lambda container: container.chat_service()},
    rate=RateClass.CHAT,
    audit=Audit.ON,
)
