"""An example DAWAI plugin: the ``echo`` provider.

It implements the ``LLMProvider`` port without any SDK: the reply is the user's last
message, streamed a word at a time with a stop signal, like a real provider. Structured
output (``complete_json``, ``stream_json``) is ``{"echo": <the message>}``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from dawai.core.models import ChatEvent, Finish, LLMReply, LLMRequest, Route, TextDelta, Usage
from dawai.plugins import hookimpl
from dawai.ports import ProviderConfig

__all__ = ["EchoProvider", "register_llm_providers", "resolve_model"]


class EchoProvider:
    def __init__(self, config: ProviderConfig) -> None:
        self.name = config.name
        self._delay = float(config.options.get("delay", 0.0))

    @staticmethod
    def _words(request: LLMRequest) -> list[str]:
        last = request.messages[-1].content if request.messages else ""
        words = last.split(" ")
        return [w if i == len(words) - 1 else w + " " for i, w in enumerate(words)]

    @staticmethod
    def _usage(request: LLMRequest, words: list[str]) -> Usage:
        prompt = sum(len(m.content.split()) for m in request.messages)
        return Usage(prompt, len(words))

    async def complete(self, request: LLMRequest) -> LLMReply:
        words = self._words(request)
        return LLMReply("".join(words), self._usage(request, words), "stop")

    async def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]:
        words = self._words(request)
        async for event in self._pieces(request, words):
            yield event

    async def _pieces(self, request: LLMRequest, pieces: list[str]) -> AsyncIterator[ChatEvent]:
        for piece in pieces:
            if self._delay:
                await asyncio.sleep(self._delay)
            yield TextDelta(piece)
        yield self._usage(request, pieces)
        yield Finish("stop")

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        return {"echo": "".join(self._words(request))}

    async def stream_json(self, request: LLMRequest, schema: dict[str, Any]) -> AsyncIterator[ChatEvent]:
        # The JSON text of complete_json's value, a word at a time, as a model would write it.
        text = json.dumps(await self.complete_json(request, schema), ensure_ascii=False)
        words = text.split(" ")
        async for event in self._pieces(request, [w + " " for w in words[:-1]] + words[-1:]):
            yield event

    async def aclose(self) -> None:
        return None


@hookimpl
def register_llm_providers(register: Callable[..., None]) -> None:
    register(
        "echo",
        EchoProvider,
        prefixes=("echo-",),
        models=("parrot",),
        description="Streams your words back (offline example plugin)",
    )


@hookimpl
def resolve_model(model: str) -> Route | None:
    # Musicians sometimes type the plugin's name alone; claim it.
    return Route("echo", "parrot") if model == "echo" else None
