"""Domain models: frozen msgspec structs shared by the core, the ports and the adapters.

Wire schemas (camelCase, HTTP-specific) live in ``dawai.adapters.http.schemas``; these are
the shapes the domain thinks in.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

__all__ = [
    "Audio",
    "ChatEvent",
    "ChatMessage",
    "ChatReply",
    "CompletionCandidate",
    "CompletionQuery",
    "FeatureStats",
    "FeedbackEvent",
    "Finish",
    "LLMReply",
    "LLMRequest",
    "LineAnalysis",
    "ModelInfo",
    "Prompt",
    "PromptInput",
    "Route",
    "SynthesisNote",
    "SynthesisProgress",
    "SynthesisRequest",
    "TextAnalysis",
    "TextDelta",
    "Usage",
    "UserFeedback",
    "VoiceInfo",
]

Role = Literal["user", "assistant"]


class ChatMessage(msgspec.Struct, frozen=True):
    role: Role
    content: str


class Usage(msgspec.Struct, frozen=True, tag="usage"):
    """Token usage of one upstream call; also a stream event."""

    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens)


class TextDelta(msgspec.Struct, frozen=True, tag="text"):
    """A piece of the reply, as it arrived upstream."""

    content: str


class Finish(msgspec.Struct, frozen=True, tag="finish"):
    """The provider's stop signal was seen; ``reason`` is the provider's own word."""

    reason: str = "stop"


ChatEvent = TextDelta | Usage | Finish


class Route(msgspec.Struct, frozen=True):
    """Where a frontend model id goes: a provider name and the upstream model name."""

    provider: str
    model: str

    def __str__(self) -> str:
        return f"{self.provider}/{self.model}"


class LLMRequest(msgspec.Struct, frozen=True):
    """One call to a provider, already rendered by a prompt strategy."""

    model: str
    system: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int = 4096
    temperature: float | None = None
    response_schema: dict[str, Any] | None = None


class LLMReply(msgspec.Struct, frozen=True):
    text: str
    usage: Usage | None = None
    finish_reason: str = "stop"


class ChatReply(msgspec.Struct, frozen=True):
    text: str
    model: str
    provider: str
    usage: Usage | None = None


class PromptInput(msgspec.Struct, frozen=True):
    """What a prompt strategy renders: the user's message and what surrounds it."""

    message: str
    context: str | dict[str, Any] | None = None
    history: tuple[ChatMessage, ...] = ()
    task: str = "chat"
    summary: dict[str, Any] | None = None


class Prompt(msgspec.Struct, frozen=True):
    system: str
    messages: tuple[ChatMessage, ...]


class ModelInfo(msgspec.Struct, frozen=True):
    """One usable model id as ``GET /api/models`` lists it."""

    id: str
    provider: str
    upstream: str
    kind: Literal["alias", "model", "plugin", "local"] = "model"
    configured: bool = True


# --- singing synthesis -----------------------------------------------------------------


class SynthesisNote(msgspec.Struct, frozen=True):
    pitch: int
    start: float
    duration: float
    lyric: str


class SynthesisRequest(msgspec.Struct, frozen=True):
    voice: str
    notes: tuple[SynthesisNote, ...]
    language: str | None = None
    speaker: str | None = None
    key_shift: int = 0
    steps: int | None = None
    seed: int | None = None


class SynthesisProgress(msgspec.Struct, frozen=True):
    stage: str
    fraction: float


class Audio(msgspec.Struct, frozen=True):
    """Mono PCM audio: little-endian float32 samples in ``samples``."""

    samples: bytes
    sample_rate: int


class VoiceInfo(msgspec.Struct, frozen=True):
    id: str
    name: str
    languages: tuple[str, ...]
    speakers: tuple[str, ...] = ()
    sample_rate: int = 44100
    backend: str = "builtin"
    execution_provider: str = "cpu"


# --- ghost text ------------------------------------------------------------------------


class CompletionQuery(msgspec.Struct, frozen=True):
    text: str
    cursor: int
    language: str | None = None
    context: dict[str, str] = {}
    max_candidates: int = 3
    user_id: str | None = None


class CompletionCandidate(msgspec.Struct, frozen=True):
    text: str
    score: float
    kind: Literal["lyric", "chord", "term", "phrase"]


class LineAnalysis(msgspec.Struct, frozen=True):
    text: str
    syllables: int
    rhyme: str


class TextAnalysis(msgspec.Struct, frozen=True):
    language: str
    lines: tuple[LineAnalysis, ...]
    rhyme_scheme: str
    chords: tuple[str, ...] = ()


class FeedbackEvent(msgspec.Struct, frozen=True):
    """One user's reaction to one ghost-text candidate, as the features it counts for
    (``dawai.core.ghost.learning``); ``phrase`` is the accepted text, only when the operator
    keeps text."""

    kind: Literal["shown", "accepted", "dismissed"]
    features: tuple[str, ...]
    at: float  # seconds since the epoch
    phrase: str | None = None


class FeatureStats(msgspec.Struct, frozen=True):
    """Time-decayed counts of one feature for one user, as they stood at ``updated``."""

    accepted: float
    dismissed: float
    shown: float
    updated: float


class UserFeedback(msgspec.Struct, frozen=True):
    """What is kept about one user: counts per feature and accepted phrases, oldest first."""

    features: dict[str, FeatureStats]
    phrases: tuple[str, ...] = ()
