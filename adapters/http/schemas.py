"""Wire schemas (the contract's camelCase shapes), separate from the domain models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from dawai.core.settings import DEFAULT_MODEL
from dawai.core.summaries import PROJECT_ID_MAX_LENGTH, PROJECT_ID_PATTERN
from dawai.core.upstream_values import (
    API_KEY_MAX_LENGTH,
    API_KEY_PATTERN,
    MODEL_MAX_LENGTH,
    MODEL_PATTERN,
    PROVIDER_NAME_PATTERN,
)

__all__ = [
    "BarChordOut",
    "CacheCleared",
    "ChatBody",
    "ChatResponse",
    "GenerateBody",
    "GenerateResponse",
    "GeneratedNoteOut",
    "HealthResponse",
    "HistoryItem",
    "InternalOut",
    "JobEvent",
    "JobOut",
    "ModelOut",
    "ModelsResponse",
    "NoteIn",
    "PluginOut",
    "StreamError",
    "StreamErrorInfo",
    "SummaryNoteIn",
    "SummaryResponse",
    "SummaryTrackIn",
    "SynthesizeBody",
    "TrackSummaryOut",
    "UpdateSummaryBody",
    "UsageOut",
    "VoiceHealth",
    "VoiceOut",
]

# The core checks keys and model names (dawai.core.upstream_values, with messages that
# name the field); the schema documents the same patterns, whole-string anchored.
Key = Annotated[
    str,
    msgspec.Meta(max_length=API_KEY_MAX_LENGTH, extra_json_schema={"pattern": f"^(?:{API_KEY_PATTERN})?$"}),
]
ModelName = Annotated[
    str,
    msgspec.Meta(
        min_length=1, max_length=MODEL_MAX_LENGTH, extra_json_schema={"pattern": f"^(?:{MODEL_PATTERN})$"}
    ),
]
KeysByProvider = Annotated[
    dict[str, Key],
    msgspec.Meta(
        max_length=16, extra_json_schema={"propertyNames": {"pattern": f"^(?:{PROVIDER_NAME_PATTERN})$"}}
    ),
]


class HistoryItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    role: Literal["user", "assistant"]
    content: Annotated[str, msgspec.Meta(max_length=32_000)]


class ChatBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=8000)]
    context: str | dict[str, Any] | None = None
    model: ModelName = DEFAULT_MODEL
    apiKeys: KeysByProvider | None = None
    apiKey: Key | None = None
    history: Annotated[list[HistoryItem], msgspec.Meta(max_length=200)] | None = None


class UsageOut(msgspec.Struct, frozen=True):
    input_tokens: int
    output_tokens: int


class ChatResponse(msgspec.Struct, frozen=True):
    response: str
    model: str
    provider: str
    usage: UsageOut | None


class ModelOut(msgspec.Struct, frozen=True):
    id: str
    provider: str
    upstream: str
    kind: str
    configured: bool


class ModelsResponse(msgspec.Struct, frozen=True):
    models: list[ModelOut]
    default: str


class PluginOut(msgspec.Struct, frozen=True):
    name: str
    version: str
    distribution: str
    status: str
    builtin: bool
    error: str | None = None
    warnings: list[str] = []


class InternalOut(msgspec.Struct, frozen=True):
    """A private part of a dependency the adapters rely on (docs/adr/0021): ``ok`` (as
    verified), ``degraded`` (changed: ``reason``; the adapters take ``fallback``), or
    ``unchecked`` (its library has not loaded yet)."""

    name: str
    status: Literal["ok", "degraded", "unchecked"]
    relies_on: str
    fallback: str
    reason: str | None = None


class RateLimitsOut(msgspec.Struct, frozen=True):
    """Where rate limits are counted: ``redis`` (shared by every worker and instance) or
    ``memory`` (this process); ``fallback`` while Redis is away and this process counts alone."""

    storage: Literal["memory", "redis"]
    fallback: bool


class GhostTextHealthOut(msgspec.Struct, frozen=True):
    """``ghost_text.engine`` and the language model's state: off, loading, ready, or
    degraded (with the reason; the embedded engine answers alone); what it did so far."""

    engine: str
    lm: Literal["off", "loading", "ready", "degraded"]
    reason: str | None = None
    # Since start, once the model is ready: answers it was merged into, work that missed the
    # deadline, late answers used, failures, refusals while busy, late work cancelled.
    counts: dict[str, int] | None = None


class HealthResponse(msgspec.Struct, frozen=True):
    status: Literal["ok", "degraded"]
    version: str
    providers: dict[str, bool]
    voices: list[str]
    plugins: list[PluginOut]
    store: str
    internals: list[InternalOut] = []
    rate_limits: RateLimitsOut = RateLimitsOut("memory", False)
    # Voices that cannot sing (a broken voicebank), and voices singing with a caveat.
    voices_failed: dict[str, str] = {}
    voice_warnings: dict[str, str] = {}
    ghost_text: GhostTextHealthOut = GhostTextHealthOut("embedded", "off")


class StreamErrorInfo(msgspec.Struct, frozen=True):
    status: int
    title: str
    detail: str


class StreamError(msgspec.Struct, frozen=True, tag="error"):
    """The in-band event for a failure after a stream has started (then ``[DONE]``)."""

    error: StreamErrorInfo


# --- MIDI summary (/api/update-summary) ------------------------------------------------------

# Limits of one update-summary request (README, "Limits"); past one: a 400 naming the field.
SUMMARY_MAX_TRACKS = 64
SUMMARY_MAX_NOTES = 20_000  # in all tracks together
SUMMARY_MAX_START = 36_000.0  # a note's start, in seconds (as the agent's notes)
SUMMARY_MAX_DURATION = 3600.0  # a note's length
# 1-32 beats over a whole to a 32nd note, as written: 4/4, 6/8, 12/8.
TIME_SIGNATURE_PATTERN = r"(?:[1-9]|[12][0-9]|3[0-2])/(?:1|2|4|8|16|32)"

ProjectId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=PROJECT_ID_MAX_LENGTH,
        extra_json_schema={"pattern": f"^(?:{PROJECT_ID_PATTERN})$"},
        description="Letters, digits and `. _ : -`, starting with a letter or digit.",
    ),
]


class SummaryNoteIn(msgspec.Struct, frozen=True):
    """A note as the agent's `Note`; other fields a DAW sends along are ignored."""

    pitch: Annotated[int, msgspec.Meta(ge=0, le=127)]
    time: Annotated[float, msgspec.Meta(ge=0, le=SUMMARY_MAX_START, description="Start, in seconds.")]
    duration: Annotated[float, msgspec.Meta(ge=0.001, le=SUMMARY_MAX_DURATION, description="Seconds.")]
    id: Annotated[str, msgspec.Meta(max_length=128)] | None = None
    velocity: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None


class SummaryTrackIn(msgspec.Struct, frozen=True):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    type: Annotated[
        str, msgspec.Meta(max_length=32, description="`drums` tracks get no key and no chords.")
    ] = "midi"
    notes: Annotated[list[SummaryNoteIn], msgspec.Meta(max_length=SUMMARY_MAX_NOTES)] = []


class UpdateSummaryBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    projectId: ProjectId
    tracks: Annotated[list[SummaryTrackIn], msgspec.Meta(max_length=SUMMARY_MAX_TRACKS)]
    tempo: Annotated[float, msgspec.Meta(ge=20, le=300, description="Quarter notes per minute.")] = 120.0
    timeSignature: Annotated[
        str, msgspec.Meta(max_length=5, extra_json_schema={"pattern": f"^(?:{TIME_SIGNATURE_PATTERN})$"})
    ] = "4/4"


class BarChordOut(msgspec.Struct, frozen=True):
    bar: Annotated[int, msgspec.Meta(ge=1, description="From 1.")]
    chord: Annotated[str, msgspec.Meta(description="A canonical chord symbol: `G`, `D/F#`, `Em7`.")]


class TrackSummaryOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    type: str
    noteCount: int
    pitchRange: Annotated[list[int], msgspec.Meta(min_length=2, max_length=2)] | None
    density: Annotated[float, msgspec.Meta(description="Notes per second of the project's length.")]
    key: Annotated[str | None, msgspec.Meta(description="`G major`; null for drums or no notes.")]
    keyConfidence: Annotated[float, msgspec.Meta(ge=0, le=1)]
    chords: list[BarChordOut]


class SummaryResponse(msgspec.Struct, frozen=True):
    projectId: str
    key: str | None
    keyConfidence: Annotated[float, msgspec.Meta(ge=0, le=1)]
    tempo: float
    timeSignature: str
    length: Annotated[float, msgspec.Meta(description="Seconds, to the last note's end.")]
    bars: int
    tracks: list[TrackSummaryOut]


PartTypeName = Literal["drum_pattern", "bassline", "chord_progression", "melody", "harmony"]
GENERATE_MAX_PROMPT = 4000
GENERATE_DEFAULT_MODEL = "gemini-2.5-pro"


class GenerateBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /api/generate``. Left out: the part type, key, tempo and bars are read from the
    prompt's words, else a melody, C major, 120 BPM, 4 bars; the seed is drawn (and given back)."""

    prompt: Annotated[str, msgspec.Meta(max_length=GENERATE_MAX_PROMPT)]
    model: ModelName = GENERATE_DEFAULT_MODEL
    apiKey: Key | None = None
    apiKeys: KeysByProvider | None = None
    type: PartTypeName | None = None
    key: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    tempo: Annotated[float, msgspec.Meta(ge=20, le=300)] | None = None
    bars: Annotated[int, msgspec.Meta(ge=1, le=64)] | None = None
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**53 - 1)] | None = None
    timeSignature: (
        Annotated[
            str, msgspec.Meta(max_length=5, extra_json_schema={"pattern": f"^(?:{TIME_SIGNATURE_PATTERN})$"})
        ]
        | None
    ) = None  # bars and accents follow it; 4/4 when left out


class GeneratedNoteOut(msgspec.Struct, frozen=True):
    pitch: Annotated[int, msgspec.Meta(ge=0, le=127)]
    start: Annotated[float, msgspec.Meta(ge=0)]
    duration: Annotated[float, msgspec.Meta(gt=0)]
    velocity: Annotated[int, msgspec.Meta(ge=1, le=127)]


class GenerateResponse(msgspec.Struct, frozen=True):
    """A generated part; ``start`` and ``duration`` in seconds at ``tempo``. ``seed`` is the
    one the local generator used (null from a provider model, unless the request sent one)."""

    type: PartTypeName
    notes: list[GeneratedNoteOut]
    description: str
    suggestions: str
    key: str
    tempo: float
    bars: int
    seed: int | None
    model: str
    provider: str
    timeSignature: str = "4/4"


# --- singing synthesis (the contract's "Singing synthesis") ----------------------------

VoiceId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class NoteIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pitch: Annotated[int, msgspec.Meta(ge=0, le=127, description="MIDI note number (60 = C4).")]
    start: Annotated[float, msgspec.Meta(ge=0, le=86_400, description="Seconds from the phrase's start.")]
    duration: Annotated[float, msgspec.Meta(gt=0, le=86_400, description="Seconds.")]
    lyric: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=64,
            pattern=r"\S",
            description="A syllable or word (kana, kanji, romaji or English); `+` extends the "
            "previous note's syllable, `-` or `SP` rests, `AP` breathes.",
        ),
    ]


class SynthesizeBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    voice: VoiceId = "default"
    language: Literal["ja", "en"] | None = None
    speaker: Annotated[str, msgspec.Meta(min_length=1, max_length=128)] | None = None
    notes: Annotated[list[NoteIn], msgspec.Meta(min_length=1, max_length=10_000)]
    keyShift: Annotated[int, msgspec.Meta(ge=-48, le=48)] = 0
    steps: Annotated[int, msgspec.Meta(ge=1, le=1000)] | None = None
    seed: Annotated[int, msgspec.Meta(ge=0, le=2**32 - 1)] | None = None


class VoiceOut(msgspec.Struct, frozen=True):
    id: str
    name: str
    languages: list[str]
    speakers: list[str]
    sampleRate: int
    backend: str
    executionProvider: str
    # "failed": a voice (a broken or half-copied voicebank) that cannot sing; ``error`` says why.
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None


class CacheCleared(msgspec.Struct, frozen=True):
    cleared: int
    freedBytes: int


class JobOut(msgspec.Struct, frozen=True, kw_only=True):
    """A render job (``/diffsinger/jobs/{id}``) as its owner sees it now."""

    id: str
    voice: str
    state: Literal["queued", "running", "done", "failed", "cancelled"]
    stage: str  # "queued", the voice's stages ("phonemes", "pitch", "audio"), the final state
    progress: Annotated[float, msgspec.Meta(ge=0, le=1)]
    seconds: float  # the audio's length: the last note's end
    createdAt: float  # Unix time
    finishedAt: float | None = None
    cache: Literal["hit", "miss"] | None = None
    audioBytes: int = 0
    renderMs: float | None = None
    error: StreamErrorInfo | None = None  # failed: the problem, as an error event carries it


class JobEvent(JobOut, frozen=True, kw_only=True, tag="status"):
    """One event of a job's progress stream: the job after a change."""


class VoiceHealth(msgspec.Struct, frozen=True):
    status: Literal["ok", "degraded"]
    voices: list[str]
    executionProvider: str
    rendering: int = 0  # renders running now in this worker
    queued: int = 0  # renders waiting for a slot
    failed: dict[str, str] = {}  # voice -> why it failed to load
    warnings: dict[str, str] = {}  # voice -> a caveat (CUDA asked for, running on the CPU)
