"""The built-in ``default`` voice: sings Japanese and English with no model files.

It is the whole pipeline a voice plugs together, each step a separate unit a voicebank
voice can reuse or replace: G2P (``dawai.adapters.inference.g2p``) -> syllables ->
rule-based timing -> f0 with portamento and vibrato (``dawai.core.singing``) -> frame
parameters -> the formant renderer (``dawai.adapters.inference.formant``), which stands
where a DiffSinger bank has its acoustic model and vocoder.

Renders run in a thread pool of the voice's own (``VoiceConfig.threads`` workers, 1 when
0), so the event loop stays free; numpy releases the GIL in the heavy parts.
``[voices.default] options``: ``vibrato_cents`` (default 25; 0 turns vibrato off),
``vibrato_rate`` (Hz, 5.5), ``portamento`` (seconds, 0.08).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from dawai.adapters.inference.formant import HOP, SAMPLE_RATE, FormantRenderer, frame_params
from dawai.adapters.inference.g2p import G2PSet
from dawai.core.models import Audio, SynthesisProgress, SynthesisRequest, VoiceInfo
from dawai.core.singing import Vibrato, align, f0_curve, syllables
from dawai.ports.singing import ProgressCallback, VoiceConfig

__all__ = ["BUILTIN_VERSION", "BuiltinVoice"]

# Part of the phrase cache's key: bump it whenever the same request would sound different.
BUILTIN_VERSION = "formant-1"


def _number(options: dict[str, Any], name: str, default: float, low: float, high: float) -> float:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"[voices.default] options.{name} must be a number from {low:g} to {high:g}")
    return float(value)


class BuiltinVoice:
    """A ``SingingSynthesizer`` over the formant renderer."""

    def __init__(self, config: VoiceConfig) -> None:
        options = dict(config.options)
        cents = _number(options, "vibrato_cents", 25.0, 0.0, 200.0)
        rate = _number(options, "vibrato_rate", 5.5, 0.5, 12.0)
        self._portamento = _number(options, "portamento", 0.08, 0.0, 0.5)
        self._vibrato = Vibrato(cents=cents, rate=rate) if cents > 0 else None
        self._name = config.name
        self._g2p = G2PSet()
        self._renderer = FormantRenderer(SAMPLE_RATE)
        self._pool = ThreadPoolExecutor(max_workers=max(1, config.threads), thread_name_prefix="dawai-voice")

    def voices(self) -> list[VoiceInfo]:
        return [
            VoiceInfo(
                id=self._name,
                name="Built-in formant voice",
                languages=("ja", "en"),
                sample_rate=SAMPLE_RATE,
                backend="builtin",
                execution_provider="cpu",
            )
        ]

    def identity(self) -> str:
        cents, rate = (self._vibrato.cents, self._vibrato.rate) if self._vibrato else (0.0, 0.0)
        return f"{BUILTIN_VERSION}:{cents}:{rate}:{self._portamento}"

    def render(self, request: SynthesisRequest, progress: ProgressCallback | None = None) -> np.ndarray:
        """The samples for a checked request, in the calling thread."""
        notes = request.notes
        sung = syllables([n.lyric for n in notes], request.language, self._g2p)
        if progress:
            progress(SynthesisProgress("phonemes", 0.1))
        alignment = align(notes, sung, sample_rate=SAMPLE_RATE, hop=HOP)
        f0 = f0_curve(
            notes,
            alignment.total_frames,
            alignment.frame_seconds,
            key_shift=request.key_shift,
            portamento=self._portamento,
            vibrato=self._vibrato,
        )
        if progress:
            progress(SynthesisProgress("pitch", 0.2))
        on_chunk = None
        if progress is not None:
            report = progress

            def on_chunk(done: float) -> None:  # between chunks: where a cancelled job stops
                report(SynthesisProgress("audio", 0.2 + 0.8 * done))

        return self._renderer.render(frame_params(alignment, f0), seed=request.seed or 0, on_chunk=on_chunk)

    async def synthesize(self, request: SynthesisRequest, progress: ProgressCallback | None = None) -> Audio:
        loop = asyncio.get_running_loop()
        samples = await loop.run_in_executor(self._pool, self.render, request, progress)
        return Audio(samples.astype("<f4").tobytes(), SAMPLE_RATE)

    async def aclose(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
