"""The singing synthesis port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from dawai.core.models import Audio, SynthesisProgress, SynthesisRequest, VoiceInfo

__all__ = ["ProgressCallback", "SingingSynthesizer", "VoiceConfig", "VoiceFactory"]

ProgressCallback = Callable[[SynthesisProgress], None]


class VoiceConfig(msgspec.Struct, frozen=True):
    """What a voice factory gets: its folder, where and how wide to run, its own options.

    Never a secret, never the whole settings tree: a voice that needs more asks for it
    through ``options`` (``[voices.<name>] options`` in the config file).
    """

    name: str
    # ``[voices.<name>] folder``, else the folder the plugin registered, else
    # ``inference.voices_dir`` joined with the voice's name; None when none is known.
    folder: str | None = None
    execution_provider: Literal["cpu", "cuda"] = "cpu"
    threads: int = 0  # 0: the inference runtime chooses
    options: dict[str, Any] = {}


@runtime_checkable
class SingingSynthesizer(Protocol):
    """A voice (or a voicebank with several speakers) that sings notes with lyrics."""

    def voices(self) -> list[VoiceInfo]: ...

    async def synthesize(
        self, request: SynthesisRequest, progress: ProgressCallback | None = None
    ) -> Audio: ...

    async def aclose(self) -> None: ...


VoiceFactory = Callable[[VoiceConfig], SingingSynthesizer]
