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
    execution_provider: Literal["auto", "cpu", "cuda"] = "cpu"
    threads: int = 0  # 0: the inference runtime chooses
    options: dict[str, Any] = {}


@runtime_checkable
class SingingSynthesizer(Protocol):
    """A voice (or a voicebank with several speakers) that sings notes with lyrics.

    ``synthesize`` gets a request already checked and in normal form (notes sorted by
    start, lyrics NFC; ``dawai.core.singing.score``) and must keep the event loop free:
    heavy work goes to a thread or process of the voice's own, bounded. It returns mono
    float32 audio as long as the last note's end, within one hop (512 samples at 44.1 kHz).

    ``progress``, when given, is told of each stage and, in a long stage, of its chunks;
    it may be called from any thread. It may raise ``RenderCancelled`` (a cancelled render
    job): the voice stops its work there and lets the error through.
    """

    def voices(self) -> list[VoiceInfo]: ...

    def identity(self) -> str:
        """A short string that changes whenever the same request would sound different
        (a model file's hash, the synthesiser's version): the phrase cache keys on it."""
        ...

    async def synthesize(
        self, request: SynthesisRequest, progress: ProgressCallback | None = None
    ) -> Audio: ...

    async def aclose(self) -> None: ...


VoiceFactory = Callable[[VoiceConfig], SingingSynthesizer]
