"""Singing synthesis: ``/diffsinger/...`` and ``/ai/api/voice/...`` (the contract's
"Singing synthesis").

- ``POST /diffsinger/synthesize`` and ``POST /ai/api/voice/synthesize``: notes and lyrics
  in, ``audio/wav`` out (44.1 kHz, 16-bit PCM, mono) with ``X-Cache: hit|miss`` and
  ``X-Render-Time-Ms``;
- ``GET /diffsinger/models``: the voices; ``POST /diffsinger/cache/clear``: empty the
  phrase cache;
- ``GET /ai/api/voice/health``: open to anyone, like ``/health``; builds no voice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.openapi.spec.header import OpenAPIHeader
from litestar.params import JSONBody

from dawai.adapters.http.openapi import problem_responses
from dawai.adapters.http.route_set import (
    ACCESS_OPT,
    AUDIT_OPT,
    SLOT_OPT,
    Access,
    Audit,
    RateClass,
    RouteSet,
    Slot,
)
from dawai.adapters.http.schemas import CacheCleared, SynthesizeBody, VoiceHealth, VoiceOut
from dawai.core.models import SynthesisNote, SynthesisRequest
from dawai.core.singing.service import SingingService

__all__ = ["health_routes", "routes", "voice_routes"]

DIFFSINGER = ("/diffsinger",)
VOICE = ("/ai/api/voice",)
WAV = "audio/wav"


def to_request(body: SynthesizeBody) -> SynthesisRequest:
    return SynthesisRequest(
        voice=body.voice,
        notes=tuple(SynthesisNote(n.pitch, n.start, n.duration, n.lyric) for n in body.notes),
        language=body.language,
        speaker=body.speaker,
        key_shift=body.keyShift,
        steps=body.steps,
        seed=body.seed,
    )


async def _synthesize(
    data: JSONBody[SynthesizeBody], singing: NamedDependency[SingingService]
) -> Response[bytes]:
    """Sing the notes: a WAV file exactly as long as the last note's end (within one hop of
    512 samples). The same request again is answered from the phrase cache."""
    rendered = await singing.synthesize(to_request(data))
    headers = {"X-Cache": rendered.cache, "X-Render-Time-Ms": f"{rendered.render_ms:.1f}"}
    return Response(content=rendered.wav, media_type=WAV, headers=headers)


async def _models(singing: NamedDependency[SingingService]) -> list[VoiceOut]:
    """Every voice this server can sing with, and those it cannot (``status: failed``, with
    the ``error``: a broken or half-copied voicebank)."""
    voices = singing.models()
    failed = singing.failures()
    out = [
        VoiceOut(
            v.id,
            v.name,
            list(v.languages),
            list(v.speakers),
            v.sample_rate,
            v.backend,
            v.execution_provider,
            "failed" if v.id in failed else "ok",
            failed.get(v.id),
        )
        for v in voices
    ]
    listed = {v.id for v in voices}
    out += [
        VoiceOut(name, name, [], [], 44100, "unknown", "cpu", "failed", error)
        for name, error in sorted(failed.items())
        if name not in listed
    ]
    return out


async def _clear(singing: NamedDependency[SingingService]) -> CacheCleared:
    """Empty the phrase cache (shared by every worker when Redis holds it)."""
    cleared, freed = await singing.clear_cache()
    return CacheCleared(cleared, freed)


def _health_of(container: Any) -> Any:
    service = container.singing_service()
    from dawai.adapters.inference.diffsinger.sessions import planned_provider

    provider = planned_provider(container.settings().inference.execution_provider)

    def report() -> VoiceHealth:
        status, voices, failed = service.health()
        rendering, queued = service.load()
        return VoiceHealth(status, voices, provider, rendering, queued, failed, service.warnings())

    return report


async def _health(voice_health: NamedDependency[Any]) -> VoiceHealth:
    """Singing's status: the voices, the execution provider, and voices that failed to load."""
    report: VoiceHealth = voice_health()
    return report


@dataclass
class _WavReply(Operation):
    """The operation with its 200 as it is sent: ``audio/wav`` bytes and the two headers."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.description = "The phrase, sung: a WAV file, 44.1 kHz, 16-bit PCM, mono."
            wav = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="A RIFF WAV file.")
            ok.content = {WAV: OpenAPIMediaType(schema=wav)}
            ok.headers = {
                **(ok.headers or {}),
                "X-Cache": OpenAPIHeader(
                    schema=Schema(type=OpenAPIType.STRING, enum=["hit", "miss"]),
                    description="`hit`: served from the phrase cache; `miss`: rendered now.",
                    required=True,
                ),
                "X-Render-Time-Ms": OpenAPIHeader(
                    schema=Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]+\.[0-9]$"),
                    description="Milliseconds this request took on the server, render or cache look-up.",
                    required=True,
                ),
            }


def _synthesize_handler() -> HTTPRouteHandler:
    return post(
        "/synthesize",
        summary="Sing notes with lyrics",
        tags=["singing"],
        status_code=200,
        media_type=WAV,
        responses=problem_responses(400, 404, 413, 503),
        operation_class=_WavReply,
        opt={SLOT_OPT: Slot.RENDER, AUDIT_OPT: Audit.ON},
    )(_synthesize)


def diffsinger_handlers() -> list[HTTPRouteHandler]:
    return [
        _synthesize_handler(),
        get("/models", summary="List voices", tags=["singing"])(_models),
        post(
            "/cache/clear",
            summary="Empty the phrase cache",
            tags=["singing"],
            status_code=200,
            opt={ACCESS_OPT: Access.ADMIN},  # an admin's action (docs/adr/0024)
        )(_clear),
    ]


def voice_handlers() -> list[HTTPRouteHandler]:
    return [_synthesize_handler()]


def health_handlers() -> list[HTTPRouteHandler]:
    return [get("/health", summary="Singing health", tags=["singing"])(_health)]


_SERVICE = {"singing": lambda container: container.singing_service()}
routes = RouteSet(DIFFSINGER, diffsinger_handlers, _SERVICE, rate=RateClass.SYNTHESIS)
voice_routes = RouteSet(VOICE, voice_handlers, _SERVICE, rate=RateClass.SYNTHESIS)
health_routes = RouteSet(
    VOICE, health_handlers, {"voice_health": _health_of}, access=Access.OPEN, rate=RateClass.UNLIMITED
)
