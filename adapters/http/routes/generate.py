"""``POST /api/generate``: a part (drums, bass, chords, melody, harmony) as notes, or as MIDI.

The reply is JSON unless the request's ``Accept`` prefers ``audio/midi``: then the same
part as a Standard MIDI File. ``model: "local"`` is the embedded generator (no key);
other models answer through the gateway, their notes repaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from litestar import Request, Response, post
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
from litestar.params import JSONBody

from dawai.adapters.http.openapi import problem_responses
from dawai.adapters.http.route_set import API_PREFIXES, Audit, RateClass, RouteSet
from dawai.adapters.http.schemas import GenerateBody, GeneratedNoteOut, GenerateResponse
from dawai.adapters.midi_file import MIDI_MEDIA_TYPE, midi_file, midi_filename
from dawai.core.generation import Generation, PartType
from dawai.core.generation.service import GenerateInput, GenerateService

__all__ = ["routes", "to_input", "to_wire"]

_JSON = "application/json"


def to_input(body: GenerateBody) -> GenerateInput:
    return GenerateInput(
        prompt=body.prompt,
        model=body.model,
        type=PartType(body.type) if body.type else None,
        key=body.key,
        tempo=body.tempo,
        bars=body.bars,
        seed=body.seed,
        api_keys=body.apiKeys or {},
        api_key=body.apiKey or None,
        time_signature=body.timeSignature,
    )


def to_wire(generation: Generation) -> GenerateResponse:
    return GenerateResponse(
        type=generation.type.value,
        notes=[GeneratedNoteOut(n.pitch, n.start, n.duration, n.velocity) for n in generation.notes],
        description=generation.description,
        suggestions=generation.suggestions,
        key=generation.key,
        tempo=generation.tempo,
        bars=generation.bars,
        seed=generation.seed,
        model=generation.model,
        provider=generation.provider,
        timeSignature=generation.time_signature,
    )


async def _generate(
    data: JSONBody[GenerateBody],
    generator: NamedDependency[GenerateService],
    request: Request[Any, Any, Any],
) -> Response[GenerateResponse]:
    """Write a part. ``model: "local"`` needs no key and gives the same notes for the same
    seed; send ``Accept: audio/midi`` for a Standard MIDI File of the same part."""
    generation = await generator.generate(to_input(data))
    if request.accept.best_match([_JSON, MIDI_MEDIA_TYPE], default=_JSON) == MIDI_MEDIA_TYPE:
        midi: Response[Any] = Response(
            midi_file(generation),
            media_type=MIDI_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{midi_filename(generation)}"'},
        )
        # The annotation documents the JSON reply; the MIDI one is added by _JsonOrMidi.
        return cast("Response[GenerateResponse]", midi)
    return Response(to_wire(generation))


@dataclass
class _JsonOrMidi(Operation):
    """The operation with its 200 in both media types: the JSON reply, or the MIDI file."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.description = "The part as JSON, or with `Accept: audio/midi`, as a Standard MIDI File."
            content = ok.content if ok.content is not None else {}
            content[MIDI_MEDIA_TYPE] = OpenAPIMediaType(
                schema=Schema(
                    type=OpenAPIType.STRING,
                    format=OpenAPIFormat.BINARY,
                    description="A Standard MIDI File (format 1).",
                )
            )
            ok.content = content


def handlers() -> list[HTTPRouteHandler]:
    return [
        post(
            "/generate",
            summary="Generate a part",
            tags=["generate"],
            status_code=200,
            responses=problem_responses(400, 401, 429, 502, 503, 504),
            operation_class=_JsonOrMidi,
        )(_generate),
    ]


routes = RouteSet(
    API_PREFIXES,
    handlers,
    {"generator": lambda container: container.generate_service()},
    audit=Audit.ON,
    rate=RateClass.CHAT,  # it may reach an LLM
)
