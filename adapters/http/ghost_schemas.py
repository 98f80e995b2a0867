"""Wire schemas of the ghost-text routes (the contract's camelCase shapes)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from dawai.core.errors import FieldError, InvalidInput

__all__ = [
    "USER_ID_PATTERN",
    "GhostAnalyzeBody",
    "GhostAnalyzeResponse",
    "GhostCandidateOut",
    "GhostCompleteBody",
    "GhostCompleteResponse",
    "GhostContext",
    "GhostFeedbackBody",
    "GhostLineOut",
    "strict_bool",
]

MAX_TEXT = 4_000  # characters (code points) a completion request's text may have
MAX_ANALYZE_TEXT = 20_000
USER_ID_PATTERN = r"^[A-Za-z0-9._:@-]{1,128}$"
UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=128, pattern=USER_ID_PATTERN)]
Short = Annotated[str, msgspec.Meta(max_length=64)]


class GhostContext(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    genre: Short | None = None
    key: Short | None = None  # "C", "A minor", "F#m", "イ短調"; unreadable: estimated instead
    section: Short | None = None


class GhostCompleteBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]
    # UTF-16 code units from the start (as JavaScript counts); default: the end of the text.
    cursor: Annotated[int, msgspec.Meta(ge=0, le=2 * MAX_TEXT)] | None = None
    # "en" or "ja"; anything else (or none) is detected from the text.
    language: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    context: GhostContext | None = None
    maxCandidates: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
    userId: UserId | None = None


class GhostCandidateOut(msgspec.Struct, frozen=True):
    text: str
    score: float
    kind: Literal["lyric", "chord", "term", "phrase"]


class GhostCompleteResponse(msgspec.Struct, frozen=True):
    candidates: list[GhostCandidateOut]
    latencyMs: float


class GhostAnalyzeBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(max_length=MAX_ANALYZE_TEXT)]


class GhostLineOut(msgspec.Struct, frozen=True):
    text: str
    syllables: int  # morae for Japanese
    rhyme: str


class GhostAnalyzeResponse(msgspec.Struct, frozen=True):
    language: Literal["en", "ja"]
    lines: list[GhostLineOut]
    rhymeScheme: str
    chords: list[str]


class GhostFeedbackBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    userId: UserId
    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT)]
    candidate: Annotated[str, msgspec.Meta(min_length=1, max_length=1_000)]
    # A JSON boolean. Typed Any so that Litestar's lax conversion cannot turn 0 or "true"
    # into one; the handler refuses anything else (``strict_bool``).
    accepted: Annotated[Any, msgspec.Meta(extra_json_schema={"type": "boolean"})]
    # Beyond the contract: "shown" counts a candidate shown and neither taken nor turned down
    # (``accepted`` false); given with "accepted" or "dismissed" it must agree with ``accepted``.
    event: Literal["shown", "accepted", "dismissed"] | None = None
    kind: Literal["lyric", "chord", "term", "phrase"] | None = None  # else inferred


def strict_bool(value: Any, field: str) -> bool:
    """``value`` when it is a JSON boolean, else InvalidInput naming ``field``."""
    if type(value) is not bool:
        raise InvalidInput(f"{field}: Expected `bool`", [FieldError(field, "Expected `bool`")])
    return value
