"""Store ports: the state features keep between requests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from dawai.core.models import FeedbackEvent, UserFeedback

__all__ = ["AudioCache", "FeedbackStore", "SummaryStore"]


@runtime_checkable
class SummaryStore(Protocol):
    """Project summaries from ``/api/update-summary``, keyed by project id."""

    async def get(self, project_id: str) -> dict[str, Any] | None: ...

    async def put(self, project_id: str, summary: dict[str, Any]) -> None: ...


@runtime_checkable
class FeedbackStore(Protocol):
    """Ghost-text feedback per user: time-decayed counts per feature, accepted phrases.
    Every method touches one user's data only."""

    async def add(self, user_id: str, events: Sequence[FeedbackEvent]) -> None:
        """Count ``events`` for the user (decaying what was there to each event's time)."""
        ...

    async def profile(self, user_id: str) -> UserFeedback | None:
        """What is kept about the user, or None for a user never seen (or forgotten)."""
        ...

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
