"""``GenerateService``: a part from the embedded generator or from a model, one answer shape.

The request's fields win; what it leaves out is read from the prompt's words
(``read_prompt``), then defaults: a melody, C major, 120 BPM, 4 bars of 4/4 (the time
signature only from the request), a seed drawn for the request (and given back, so the
take can be had again). ``model: "local"`` is the embedded
generator; any other model goes through the gateway (routing, keys, retries, timeouts are
its) with the notes schema, and what the model wrote is repaired (``repair_notes``), the
repairs listed in ``suggestions``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Final

import msgspec

from dawai.core import audit
from dawai.core.errors import FieldError, InvalidInput
from dawai.core.gateway import BuildRequest, Credentials, LLMGateway
from dawai.core.generation.local import write_part
from dawai.core.generation.models import (
    DEFAULT_BARS,
    DEFAULT_TEMPO,
    MAX_BARS,
    MAX_TEMPO,
    MIN_TEMPO,
    GeneratedNote,
    Generation,
    PartRequest,
    PartType,
)
from dawai.core.generation.repair import MAX_MODEL_NOTES, NOTES_SCHEMA, repair_notes
from dawai.core.generation.styles import Style, read_prompt
from dawai.core.models import ChatMessage, LLMRequest, Route
from dawai.core.music import GM_DRUMS, Key, MusicParseError, TimeSignature, parse_key, parse_time_signature
from dawai.core.music.meter import DEFAULT_TIME_SIGNATURE

__all__ = ["LOCAL_MODEL", "MAX_SEED", "GenerateInput", "GenerateService"]

LOCAL_MODEL: Final = "local"
MAX_SEED: Final = 2**53 - 1  # the largest integer a JavaScript number holds exactly
_C_MAJOR: Final = parse_key("C major")

_GUIDE: Final = {
    PartType.DRUM_PATTERN: "a drum pattern. Use General MIDI drum notes only: 36 kick, 38 snare, 37 side "
    "stick, 39 clap, 42 closed hi-hat, 44 pedal hi-hat, 46 open hi-hat, 49 crash, 51 ride, 45/47/50 toms.",
    PartType.BASSLINE: "a bassline: one note at a time, pitches 28-55, mostly on the chord roots.",
    PartType.CHORD_PROGRESSION: "a chord progression: block chords of 3-4 notes that start together, "
    "pitches 48-72, moving smoothly from chord to chord.",
    PartType.MELODY: "a melody: one note at a time, pitches 60-84, singable, in phrases.",
    PartType.HARMONY: "a harmony part: two or three voices above middle C (pitches 55-84), voice-led.",
}


class GenerateInput(msgspec.Struct, frozen=True):
    prompt: str
    model: str
    type: PartType | None = None
    key: str | None = None
    tempo: float | None = None
    bars: int | None = None
    seed: int | None = None
    api_keys: Mapping[str, str] = {}
    api_key: str | None = None
    time_signature: str | None = None


def _random_seed() -> int:
    return random.SystemRandom().randrange(MAX_SEED + 1)


class GenerateService:
    def __init__(
        self, *, gateway: LLMGateway, max_tokens: int = 4096, seeds: Callable[[], int] = _random_seed
    ) -> None:
        self._gateway = gateway
        self._max_tokens = max_tokens
        self._seeds = seeds

    def plan(self, given: GenerateInput) -> tuple[PartRequest, Style, bool]:
        """The part to write, every choice made, its style, and whether the prompt named a genre."""
        reading = read_prompt(given.prompt)
        key = _key(given.key) if given.key is not None else reading.key or _C_MAJOR
        tempo = given.tempo
        if tempo is None:
            tempo = (
                reading.tempo if reading.tempo and MIN_TEMPO <= reading.tempo <= MAX_TEMPO else DEFAULT_TEMPO
            )
        bars = given.bars
        if bars is None:
            bars = reading.bars if reading.bars and 1 <= reading.bars <= MAX_BARS else DEFAULT_BARS
        part = given.type or reading.type or PartType.MELODY
        seed = given.seed if given.seed is not None else self._seeds()
        meter = _meter(given.time_signature) if given.time_signature is not None else DEFAULT_TIME_SIGNATURE
        request = PartRequest(part, key, float(tempo), bars, seed, given.prompt, meter)
        return request, reading.style, reading.genre_named

    async def generate(self, given: GenerateInput) -> Generation:
        request, style, genre_named = self.plan(given)
        if given.model == LOCAL_MODEL:
            audit.note_route(LOCAL_MODEL, LOCAL_MODEL)
            part = write_part(request, style)
            return _generation(request, part.notes, part.description, part.suggestions, request.seed, "local")
        build = self.request_for(request, style if genre_named else None)
        credentials = Credentials(given.api_keys, given.api_key)
        reply = await self._gateway.complete_json(given.model, credentials, build, NOTES_SCHEMA)
        repaired = repair_notes(reply.value, request)
        suggestions = repaired.suggestions
        if repaired.changes:
            repairs = "Repaired: " + "; ".join(repaired.changes) + "."
            suggestions = f"{suggestions} {repairs}".strip()
        description = repaired.description or f"{request.bars}-bar {request.type.value} in {request.key.name}"
        return Generation(
            request.type,
            repaired.notes,
            description,
            suggestions,
            request.key.name,
            request.tempo,
            request.bars,
            given.seed,
            reply.route.model,
            reply.route.provider,
            str(request.meter),
        )

    def request_for(self, request: PartRequest, style: Style | None) -> BuildRequest:
        system = _system_prompt(request, style)
        prompt = request.prompt.strip() or f"Write the {request.type.value.replace('_', ' ')}."

        def build(route: Route) -> LLMRequest:
            return LLMRequest(
                model=route.model,
                system=system,
                messages=(ChatMessage("user", prompt),),
                max_tokens=self._max_tokens,
            )

        return build


def _key(text: str) -> Key:
    try:
        return parse_key(text)
    except MusicParseError as exc:
        raise InvalidInput(exc.detail, [FieldError("key", exc.detail)]) from None


def _meter(text: str) -> TimeSignature:
    try:
        return parse_time_signature(text)
    except MusicParseError as exc:
        raise InvalidInput(exc.detail, [FieldError("timeSignature", exc.detail)]) from None


def _generation(
    request: PartRequest,
    notes: tuple[GeneratedNote, ...],
    description: str,
    suggestions: str,
    seed: int,
    source: str,
) -> Generation:
    return Generation(
        request.type,
        notes,
        description,
        suggestions,
        request.key.name,
        request.tempo,
        request.bars,
        seed,
        source,
        source,
        str(request.meter),
    )


def _system_prompt(request: PartRequest, style: Style | None) -> str:
    beats = request.beats
    feel = f" The genre and feel: {style.label}." if style is not None else ""
    key = "" if request.type.is_drums else f" Stay in {request.key.name}."
    drums = "" if not request.type.is_drums else f" Drum pitches must be in {min(GM_DRUMS)}-{max(GM_DRUMS)}."
    return (
        "You write one part of a song for a DAW, as MIDI notes, and answer only with the JSON the "
        "schema describes: `notes` (each with `pitch`, `startBeat`, `durationBeats` and `velocity`), "
        "`description` (one sentence on what you wrote) and `suggestions` (one or two ideas for the "
        "user), both in the language the user writes in. Times are in beats: a beat is a quarter note, "
        f"the part starts at beat 0. The part is {request.bars} bars of {request.meter} "
        f"({request.bar_beats:g} beats a bar), {beats:g} beats: every note starts before beat {beats:g} "
        f"and ends by it; accent each bar's first beat. Tempo {request.tempo:g} BPM.{key}{feel}{drums} "
        f"Write {_GUIDE[request.type]} At most {MAX_MODEL_NOTES} notes."
    )
