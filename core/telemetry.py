"""Telemetry helpers for the core: a telemetry that records nothing, the kind of an
upstream failure, and stores that count their lookups (``dawai.ports.telemetry``)."""

from __future__ import annotations

from typing import Any, Final

from dawai.core.errors import (
    RateLimited,
    UnstructuredReply,
    UpstreamAuthError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamTruncated,
)
from dawai.ports.stores import AudioCache, SummaryStore
from dawai.ports.telemetry import CacheName, Telemetry, UpstreamErrorKind

__all__ = ["NO_TELEMETRY", "CountedAudioCache", "CountedSummaryStore", "NoTelemetry", "error_kind"]


class NoTelemetry:
    """Records nothing: the services' default, and what unit tests use."""

    def upstream_first_token(self, provider: str, seconds: float) -> None:
        pass

    def upstream_error(self, provider: str, kind: UpstreamErrorKind) -> None:
        pass

    def cache_lookup(self, cache: CacheName, hit: bool) -> None:
        pass

    def synthesis(self, voice: str, real_time_factor: float) -> None:
        pass

    def ghost_text(self, engine: str, seconds: float) -> None:
        pass


NO_TELEMETRY: Final[Telemetry] = NoTelemetry()


def error_kind(exc: BaseException) -> UpstreamErrorKind:
    """The fixed kind an upstream failure is counted under."""
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, UpstreamTimeout):
        return "timeout"
    if isinstance(exc, UpstreamAuthError):
        return "auth"
    if isinstance(exc, UpstreamTruncated):
        return "truncated"
    if isinstance(exc, UnstructuredReply):
        return "unstructured"
    if isinstance(exc, UpstreamError) and exc.retryable:
        return "server"
    return "refused"


class CountedSummaryStore:
    """A ``SummaryStore`` whose reads count as hits (a summary was stored) or misses."""

    def __init__(self, store: SummaryStore, telemetry: Telemetry) -> None:
        self._store, self._telemetry = store, telemetry

    async def get(self, project_id: str) -> dict[str, Any] | None:
        found = await self._store.get(project_id)
        self._telemetry.cache_lookup("summary", found is not None)
        return found

    async def put(self, project_id: str, summary: dict[str, Any]) -> None:
        await self._store.put(project_id, summary)


class CountedAudioCache:
    """An ``AudioCache`` (the phrase cache) whose reads count as hits or misses."""

    def __init__(self, cache: AudioCache, telemetry: Telemetry) -> None:
        self._cache, self._telemetry = cache, telemetry

    async def get(self, key: str) -> bytes | None:
        found = await self._cache.get(key)
        self._telemetry.cache_lookup("phrase", found is not None)
        return found

    async def put(self, key: str, data: bytes) -> None:
        await self._cache.put(key, data)

    async def clear(self) -> tuple[int, int]:
        return await self._cache.clear()
