"""An in-memory ``LLMProvider`` whose behaviour each test scripts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from dawai.core.errors import UpstreamTruncated
from dawai.core.models import ChatEvent, Finish, LLMReply, LLMRequest, TextDelta, Usage
from dawai.ports.llm import ProviderConfig

Step = ChatEvent | BaseException | float  # an event, an error to raise, or seconds to wait


class ScriptedProvider:
    """Plays one script per call, in order; the last script repeats.

    A script is a sequence of steps: events are yielded, exceptions raised, floats slept.
    A script that does not end in ``Finish`` ends the way a cut stream does.
    """

    def __init__(self, scripts: Sequence[Sequence[Step]], name: str = "fake") -> None:
        self.name = name
        self.scripts = [list(s) for s in scripts]
        self.calls: list[LLMRequest] = []
        self.closed_streams = 0
        self.cancelled_streams = 0
        self.closed = False

    def _script(self) -> list[Step]:
        index = min(len(self.calls), len(self.scripts) - 1)
        return self.scripts[index]

    async def complete(self, request: LLMRequest) -> LLMReply:
        script = self._script()
        self.calls.append(request)
        text, usage, finished = [], None, None
        for step in script:
            if isinstance(step, BaseException):
                raise step
            if isinstance(step, float):
                await asyncio.sleep(step)
            elif isinstance(step, TextDelta):
                text.append(step.content)
            elif isinstance(step, Usage):
                usage = step
            elif isinstance(step, Finish):
                finished = step.reason
        if finished is None:
            raise UpstreamTruncated("cut", provider=self.name)
        return LLMReply("".join(text), usage, finished)

    async def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]:
        script = self._script()
        self.calls.append(request)
        finished = False
        try:
            for step in script:
                if isinstance(step, BaseException):
                    raise step
                if isinstance(step, float):
                    await asyncio.sleep(step)
                    continue
                finished = finished or isinstance(step, Finish)
                yield step
        except asyncio.CancelledError:
            self.cancelled_streams += 1
            raise
        finally:
            self.closed_streams += 1
        if not finished:
            raise UpstreamTruncated("cut", provider=self.name)

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        reply = await self.complete(request)
        return {"text": reply.text}

    async def aclose(self) -> None:
        self.closed = True


def ok_script(*pieces: str, usage: Usage | None = None) -> list[Step]:
    return [*(TextDelta(p) for p in pieces), usage or Usage(3, len(pieces)), Finish("stop")]


def recording_factory() -> tuple[list[ScriptedProvider], Callable[[ProviderConfig], ScriptedProvider]]:
    """A provider factory that builds a new scripted provider each call, and the list of
    every one it built (to count them, and to see which were closed)."""
    made: list[ScriptedProvider] = []

    def make(config: ProviderConfig) -> ScriptedProvider:
        made.append(ScriptedProvider([ok_script("x")]))
        return made[-1]

    return made, make


def factory_for(provider: ScriptedProvider) -> Callable[[ProviderConfig], ScriptedProvider]:
    """A provider factory that always hands out this one instance (and records configs)."""
    configs: list[ProviderConfig] = []

    def make(config: ProviderConfig) -> ScriptedProvider:
        configs.append(config)
        return provider

    make.configs = configs  # type: ignore[attr-defined]
    return make
