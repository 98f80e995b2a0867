"""``SingingService``: the one way a route reaches a voice.

It finds the voice a request names among every registered synthesiser's ``voices()``
(each built once, on first use; one whose factory fails is reported, never fatal), checks
and normalises the request (``dawai.core.singing.score``), answers from the phrase cache
when it can, and otherwise renders with at most ``singing.concurrent_renders`` renders at
once and ``singing.queued_renders`` waiting (more: ``Overloaded``, a 503). The voices run
their heavy work off the event loop; the WAV encoding runs in a worker thread too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Literal

import msgspec

from dawai.core.catalog import Catalog
from dawai.core.errors import NotFound, Overloaded
from dawai.core.inference import build_voice
from dawai.core.models import Audio, SynthesisRequest, VoiceInfo
from dawai.core.settings import Settings
from dawai.core.singing.score import SingingLimits, cache_key, prepare
from dawai.ports.singing import ProgressCallback, SingingSynthesizer
from dawai.ports.stores import AudioCache

__all__ = ["Rendered", "SingingService"]


class Rendered(msgspec.Struct, frozen=True):
    wav: bytes
    cache: Literal["hit", "miss"]
    render_ms: float


class SingingService:
    def __init__(
        self,
        catalog: Catalog,
        settings: Settings,
        cache: AudioCache,
        encode: Callable[[Audio], bytes],
        builder: Callable[[Catalog, Settings, str], SingingSynthesizer] = build_voice,
        report: Callable[[str, str, str], None] = lambda event, voice, error: None,
    ) -> None:
        """``report(event, voice, error)`` is told of a voice that failed to build or close
        (the composition root logs it)."""
        self._catalog, self._settings, self._cache, self._encode = catalog, settings, cache, encode
        self._builder, self._report = builder, report
        singing = settings.singing
        self.limits = SingingLimits(max_seconds=singing.max_render_seconds)
        self._slots = asyncio.Semaphore(singing.concurrent_renders)
        self._queue = singing.queued_renders
        self._waiting = 0
        self._rendering = 0
        self._built: dict[str, SingingSynthesizer] | None = None
        self._by_id: dict[str, tuple[SingingSynthesizer, VoiceInfo]] = {}
        self.failed: dict[str, str] = {}  # registered voice -> why its factory failed

    # -- voices -----------------------------------------------------------------------

    def _index(self) -> dict[str, tuple[SingingSynthesizer, VoiceInfo]]:
        if self._built is None:
            self._built = {}
            for name in sorted(self._catalog.voices):
                try:
                    synth = self._builder(self._catalog, self._settings, name)
                    infos = synth.voices()
                except Exception as exc:  # a broken voice is reported, never fatal
                    self.failed[name] = f"{type(exc).__name__}: {exc}"[:300]
                    self._report("voice_failed", name, self.failed[name])
                    continue
                self._built[name] = synth
                for info in infos:
                    self._by_id.setdefault(info.id, (synth, info))
        return self._by_id

    def models(self) -> list[VoiceInfo]:
        return [info for _, info in self._index().values()]

    def voice(self, voice_id: str) -> tuple[SingingSynthesizer, VoiceInfo]:
        found = self._index().get(voice_id)
        if found is None:
            known = ", ".join(sorted(self._by_id)) or "none"
            raise NotFound(f"No voice '{voice_id}' (known: {known}).")
        return found

    def health(self) -> tuple[Literal["ok", "degraded"], list[str], dict[str, str]]:
        """Status, the voice ids (registered names until the voices are built) and the
        voices whose factory failed; builds nothing."""
        ids = sorted(self._catalog.voices) if self._built is None else sorted(self._by_id)
        return ("degraded" if self.failed else "ok", ids, dict(self.failed))

    def load(self) -> tuple[int, int]:
        """Renders running now, and renders waiting for a slot."""
        return self._rendering, self._waiting

    # -- rendering --------------------------------------------------------------------

    async def synthesize(
        self, request: SynthesisRequest, progress: ProgressCallback | None = None
    ) -> Rendered:
        began = time.perf_counter()
        synth, info = self.voice(request.voice)
        if request.speaker is not None and request.speaker not in info.speakers:
            known = ", ".join(info.speakers) or "none"
            raise NotFound(f"Voice '{info.id}' has no speaker '{request.speaker}' (speakers: {known}).")
        request = prepare(request, self.limits)
        key = cache_key(f"{info.id}:{synth.identity()}", request)
        cached = await self._cache.get(key)
        if cached is not None:
            return Rendered(cached, "hit", (time.perf_counter() - began) * 1000)
        if self._slots.locked() and self._waiting >= self._queue:
            raise Overloaded(
                f"{self._waiting} renders are already waiting (singing.queued_renders); try again shortly."
            )
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._rendering += 1
        try:
            audio = await synth.synthesize(request, progress)
            wav = await asyncio.to_thread(self._encode, audio)
        finally:
            self._rendering -= 1
            self._slots.release()
        await self._cache.put(key, wav)
        return Rendered(wav, "miss", (time.perf_counter() - began) * 1000)

    async def clear_cache(self) -> tuple[int, int]:
        return await self._cache.clear()

    async def aclose(self) -> None:
        for name, synth in (self._built or {}).items():
            try:
                await synth.aclose()
            except Exception as exc:  # closing one voice never stops the others closing
                self._report("voice_close_failed", name, f"{type(exc).__name__}: {exc}"[:300])
