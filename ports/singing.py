"""The singing synthesis port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from dawai.core.models import Audio, SynthesisProgress, SynthesisRequest, VoiceInfo

__all__ = ["ProgressCallback", "SingingSynthesizer"]

ProgressCallback = Callable[[SynthesisProgress], None]


@runtime_checkable
class SingingSynthesizer(Protocol):
    """A voice (or a voicebank with several speakers) that sings notes with lyrics."""

    def voices(self) -> list[VoiceInfo]: ...

    async def synthesize(
        self, request: SynthesisRequest, progress: ProgressCallback | None = None
    ) -> Audio: ...

    async def aclose(self) -> None: ...
