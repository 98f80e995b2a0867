"""Store ports: the state features keep between requests."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["AudioCache", "FeedbackStore", "SummaryStore"]


@runtime_checkable
class SummaryStore(Protocol):
    """Project summaries from ``/api/update-summary``, keyed by project id."""

    async def get(self, project_id: str) -> dict[str, Any] | None: ...

    async def put(self, project_id: str, summary: dict[str, Any]) -> None: ...


@runtime_checkable
class FeedbackStore(Protocol):
    """Per-user accept/reject counts for ghost-text candidates."""

    async def record(self, user_id: str, candidate: str, accepted: bool) -> None: ...

    async def weights(self, user_id: str) -> dict[str, float]: ...

    async def forget(self, user_id: str) -> bool:
        """Remove everything kept about the user; whether there was anything."""
        ...


@runtime_checkable
class AudioCache(Protocol):
    """Rendered audio keyed by a hash of the synthesis request."""

    async def get(self, key: str) -> bytes | None: ...

    async def put(self, key: str, data: bytes) -> None: ...

    async def clear(self) -> tuple[int, int]:
        """Drop everything; return (entries cleared, bytes freed)."""
        ...
