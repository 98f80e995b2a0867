"""The built-in ``default`` voice: sings Japanese and English with no model files.

It is the whole pipeline a voice plugs together, each step a separate unit a voicebank
voice can reuse or replace: G2P (``dawai.adapters.inference.g2p``) -> syllables ->
rule-based timing -> f0 with portamento and vibrato (``dawai.core.singing``) -> frame
parameters -> the formant renderer (``dawai.adapters.inference.formant``), which stands
where a DiffSinger bank has its acoustic model and vocoder.

Renders run in a pool of worker processes of the voice's own (``RenderPool``;
``options.processes``, default 2), so the server's event loop keeps the GIL: numpy
releases it only in the heavy parts, and a render in a thread of the server still held it
long enough to hold ``/health`` up by tens of milliseconds (``bench/synthesis.py``). With
``processes = 0`` they run in a thread pool instead (``VoiceConfig.threads`` workers, 1
when 0), as a voice that must share memory with the server would. Either way progress is
reported after each stage and each chunk of frames, where a cancelled render stops.
``[voices.default] options``: ``processes`` (0-64), ``vibrato_cents`` (default 25; 0
turns vibrato off), ``vibrato_rate`` (Hz, 5.5), ``portamento`` (seconds, 0.08).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from dawai.adapters.inference.formant import HOP, SAMPLE_RATE, FormantRenderer, frame_params
from dawai.adapters.inference.g2p import G2PSet
from dawai.adapters.inference.render_pool import RenderPool
from dawai.core.models import Audio, SynthesisProgress, SynthesisRequest, VoiceInfo
from dawai.core.singing import Vibrato, align, f0_curve, syllables
from dawai.ports.singing import ProgressCallback, VoiceConfig

__all__ = ["BUILTIN_VERSION", "BuiltinVoice", "worker_renderer"]

# The stages ``render`` reports, and what the render workers' forkserver imports first (the
# G2P dictionaries loaded once, then shared by every worker).
STAGES = ("phonemes", "pitch", "audio")
PRELOAD = ("dawai.adapters.inference.builtin_preload",)

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
        processes = int(_number(options, "processes", 2, 0, 64))
        self._name = config.name
        self._g2p = G2PSet()
        self._renderer = FormantRenderer(SAMPLE_RATE)
        self._threads: ThreadPoolExecutor | None = None
        self._processes: RenderPool | None = None
        if processes:
            alone = {**options, "processes": 0}  # each worker renders in its own thread
            self._processes = RenderPool(
                processes, worker_renderer, (config.name, alone), stages=STAGES, preload=PRELOAD
            )
        else:
            self._threads = ThreadPoolExecutor(max(1, config.threads), thread_name_prefix="dawai-voice")

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
        if self._processes is not None:
            return Audio(await self._processes.render(request, progress), SAMPLE_RATE)
        loop = asyncio.get_running_loop()
        samples = await loop.run_in_executor(self._threads, self.render, request, progress)
        return Audio(samples.astype("<f4").tobytes(), SAMPLE_RATE)

    async def aclose(self) -> None:
        if self._processes is not None:
            self._processes.close()
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)


def worker_renderer(name: str, options: dict[str, Any]) -> Callable[[SynthesisRequest, Any], bytes]:
    """In a render worker process: the voice, rendering in the calling thread."""
    voice = BuiltinVoice(VoiceConfig(name, options=options))

    def render(request: SynthesisRequest, progress: ProgressCallback) -> bytes:
        return voice.render(request, progress).astype("<f4").tobytes()

    return render
