"""Wire schemas (the contract's camelCase shapes), separate from the domain models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from dawai.core.settings import DEFAULT_MODEL
from dawai.core.upstream_values import (
    API_KEY_MAX_LENGTH,
    API_KEY_PATTERN,
    MODEL_MAX_LENGTH,
    MODEL_PATTERN,
    PROVIDER_NAME_PATTERN,
)

__all__ = [
    "ChatBody",
    "ChatResponse",
    "HealthResponse",
    "HistoryItem",
    "InternalOut",
    "ModelOut",
    "ModelsResponse",
    "PluginOut",
    "StreamError",
    "StreamErrorInfo",
    "UsageOut",
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


class HealthResponse(msgspec.Struct, frozen=True):
    status: Literal["ok", "degraded"]
    version: str
    providers: dict[str, bool]
    voices: list[str]
    plugins: list[PluginOut]
    store: str
    internals: list[InternalOut] = []


class StreamErrorInfo(msgspec.Struct, frozen=True):
    status: int
    title: str
    detail: str


class StreamError(msgspec.Struct, frozen=True, tag="error"):
    """The in-band event for a failure after a stream has started (then ``[DONE]``)."""

    error: StreamErrorInfo
