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
from dataclasses import dataclass
from typing import Literal

import msgspec

from dawai.core import audit
from dawai.core.catalog import Catalog
from dawai.core.errors import BrokenVoice, NotFound, Overloaded
from dawai.core.inference import build_voice
from dawai.core.models import Audio, SynthesisRequest, VoiceInfo
from dawai.core.settings import Settings
from dawai.core.singing.score import SingingLimits, cache_key, prepare
from dawai.core.telemetry import NO_TELEMETRY
from dawai.ports.singing import ProgressCallback, SingingSynthesizer
from dawai.ports.stores import AudioCache
from dawai.ports.telemetry import Telemetry

__all__ = ["Admitted", "Rendered", "SingingService"]


@dataclass(frozen=True, slots=True)
class Admitted:
    """A request checked and in normal form, its phrase-cache key and the voice to sing it."""

    request: SynthesisRequest
    key: str
    synth: SingingSynthesizer
    voice: str  # the voice's id


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
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        """``report(event, voice, error)`` is told of a voice that failed to build or close
        (the composition root logs it); ``telemetry`` of each render's real-time factor,
        under the voice's registered name."""
        self._catalog, self._settings, self._cache, self._encode = catalog, settings, cache, encode
        self._builder, self._report, self._telemetry = builder, report, telemetry
        singing = settings.singing
        self.limits = SingingLimits(max_seconds=singing.max_render_seconds)
        self._slots = asyncio.Semaphore(singing.concurrent_renders)
        self._queue = singing.queued_renders
        self._waiting = 0
        self._rendering = 0
        self._built: dict[str, SingingSynthesizer] | None = None
        self._by_id: dict[str, tuple[SingingSynthesizer, VoiceInfo]] = {}
        self._registered: dict[int, str] = {}  # id(synthesiser) -> its registered name
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
                self._registered[id(synth)] = name
                for info in infos:
                    self._by_id.setdefault(info.id, (synth, info))
        return self._by_id

    def models(self) -> list[VoiceInfo]:
        """Every voice, as each synthesiser describes it now (where it runs can change: a
        CUDA session that fell back to the CPU)."""
        self._index()
        for name, synth in (self._built or {}).items():
            try:
                for info in synth.voices():
                    if self._by_id.get(info.id, (synth, info))[0] is synth:
                        self._by_id[info.id] = (synth, info)
            except Exception as exc:  # a voice that cannot describe itself is reported
                self._report("voice_failed", name, f"{type(exc).__name__}: {exc}"[:300])
        return [info for _, info in self._by_id.values()]

    def voice(self, voice_id: str) -> tuple[SingingSynthesizer, VoiceInfo]:
        found = self._index().get(voice_id)
        broken = self.failures().get(voice_id)
        if broken is not None and found is None:
            raise BrokenVoice(f"Voice '{voice_id}' cannot sing: {broken}")
        if found is None:
            known = ", ".join(sorted(self._by_id)) or "none"
            raise NotFound(f"No voice '{voice_id}' (known: {known}).")
        return found

    def failures(self) -> dict[str, str]:
        """Voices that cannot sing, with why: known at registration (a broken voicebank),
        a factory that failed, or a render that found the voice's files unusable."""
        known = {name: e.problem for name, e in self._catalog.voices.items() if e.problem}
        return {**known, **self.failed}

    def warnings(self) -> dict[str, str]:
        """Voices that sing with a caveat (CUDA asked for, running on the CPU), from the
        voices built so far that report any (a ``warnings()`` method)."""
        out: dict[str, str] = {}
        for synth in (self._built or {}).values():
            report = getattr(synth, "warnings", None)
            if callable(report):
                out.update(report())
        return out

    def health(self) -> tuple[Literal["ok", "degraded"], list[str], dict[str, str]]:
        """Status, the voice ids (registered names until the voices are built) and the
        voices that failed; builds nothing."""
        failed = self.failures()
        if self._built is None:
            ids = sorted(n for n, e in self._catalog.voices.items() if not e.problem)
        else:
            ids = sorted(v for v in self._by_id if v not in failed)
        degraded = bool(failed) or bool(self.warnings())
        return ("degraded" if degraded else "ok", ids, failed)

    def load(self) -> tuple[int, int]:
        """Renders running now, and renders waiting for a slot."""
        return self._rendering, self._waiting

    # -- rendering --------------------------------------------------------------------

    def admit(self, request: SynthesisRequest) -> Admitted:
        """Check a request (its voice, speaker and limits) and put it in normal form;
        raises ``NotFound``, ``InvalidInput`` or ``TooLarge``. Renders nothing."""
        synth, info = self.voice(request.voice)
        if request.speaker is not None and request.speaker not in info.speakers:
            known = ", ".join(info.speakers) or "none"
            raise NotFound(f"Voice '{info.id}' has no speaker '{request.speaker}' (speakers: {known}).")
        request = prepare(request, self.limits)
        return Admitted(request, cache_key(f"{info.id}:{synth.identity()}", request), synth, info.id)

    async def cached(self, admitted: Admitted) -> bytes | None:
        audit.note_route("singing", admitted.voice)
        wav = await self._cache.get(admitted.key)
        audit.note_cache(wav is not None)
        return wav

    def check_room(self) -> None:
        """Raise ``Overloaded`` when every slot is taken and the queue is full."""
        if self._slots.locked() and self._waiting >= self._queue:
            raise Overloaded(
                f"{self._waiting} renders are already waiting (singing.queued_renders); try again shortly.",
                retry_after=self._settings.limits.busy_retry_after,
            )

    async def render(
        self,
        admitted: Admitted,
        progress: ProgressCallback | None = None,
        started: Callable[[], None] | None = None,
    ) -> Rendered:
        """Render an admitted request in a slot (waiting for one, ``check_room`` first),
        encode it and keep it in the phrase cache. ``started`` is called once the render
        holds its slot. Cancelling the caller while it waits gives the place up; once it
        renders, a voice stops early only when ``progress`` raises ``RenderCancelled``."""
        began = time.perf_counter()
        self.check_room()
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._rendering += 1
        try:
            rendering = time.perf_counter()
            if started is not None:
                started()
            try:
                audio = await admitted.synth.synthesize(admitted.request, progress)
            except BrokenVoice as exc:  # reported as failed; the other voices go on
                self.failed[admitted.voice] = exc.detail[:300]
                self._report("voice_failed", admitted.voice, self.failed[admitted.voice])
                raise
            self.failed.pop(admitted.voice, None)  # its files were mended
            self._rendered(admitted.synth, audio, time.perf_counter() - rendering)
            wav = await asyncio.to_thread(self._encode, audio)
        finally:
            self._rendering -= 1
            self._slots.release()
        await self._cache.put(admitted.key, wav)
        return Rendered(wav, "miss", (time.perf_counter() - began) * 1000)

    async def synthesize(
        self, request: SynthesisRequest, progress: ProgressCallback | None = None
    ) -> Rendered:
        began = time.perf_counter()
        admitted = self.admit(request)
        cached = await self.cached(admitted)
        if cached is not None:
            return Rendered(cached, "hit", (time.perf_counter() - began) * 1000)
        rendered = await self.render(admitted, progress)
        return Rendered(rendered.wav, "miss", (time.perf_counter() - began) * 1000)

    def _rendered(self, synth: SingingSynthesizer, audio: Audio, seconds: float) -> None:
        played = len(audio.samples) / 4 / audio.sample_rate if audio.sample_rate > 0 else 0.0
        if seconds > 0 and played > 0:
            self._telemetry.synthesis(self._registered.get(id(synth), "other"), played / seconds)

    async def clear_cache(self) -> tuple[int, int]:
        return await self._cache.clear()

    async def aclose(self) -> None:
        for name, synth in (self._built or {}).items():
            try:
                await synth.aclose()
            except Exception as exc:  # closing one voice never stops the others closing
                self._report("voice_close_failed", name, f"{type(exc).__name__}: {exc}"[:300])
