"""In-process stores: bounded, least-recently-used dictionaries.

These serve a single worker process (state is neither shared between ``http.workers`` nor kept
across restarts) and double as the test fakes for the store ports. Every method runs without
awaiting, so each call is atomic on its event loop; the stores are not meant for use from
several threads at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import msgspec

from dawai.core.ghost.learning import DEFAULT_HALF_LIFE, updated
from dawai.core.models import FeatureStats, FeedbackEvent, UserFeedback

__all__ = [
    "DEFAULT_AUDIO_MAX_BYTES",
    "DEFAULT_MAX_FEATURES",
    "DEFAULT_MAX_PHRASES",
    "MemoryAudioCache",
    "MemoryFeedbackStore",
    "MemorySummaryStore",
]

DEFAULT_MAX_FEATURES = 500
DEFAULT_MAX_PHRASES = 200
DEFAULT_AUDIO_MAX_BYTES = 256 * 1024 * 1024


def _positive(name: str, value: int) -> int:
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value


class MemorySummaryStore:
    """Project summaries as encoded JSON, keeping the ``max_entries`` most recently used.

    Summaries are stored encoded, so a caller's later changes to its dict do not leak in, and a
    summary that is not JSON-serialisable fails here just as it would with Redis.
    """

    def __init__(self, *, max_entries: int = 1_000) -> None:
        self._max_entries = _positive("max_entries", max_entries)
        self._entries: OrderedDict[str, bytes] = OrderedDict()

    async def get(self, project_id: str) -> dict[str, Any] | None:
        raw = self._entries.get(project_id)
        if raw is None:
            return None
        self._entries.move_to_end(project_id)
        return msgspec.json.decode(raw, type=dict[str, Any])

    async def put(self, project_id: str, summary: dict[str, Any]) -> None:
        self._entries[project_id] = msgspec.json.encode(summary)
        self._entries.move_to_end(project_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def aclose(self) -> None:
        """Nothing to release."""


class MemoryFeedbackStore:
    """Feedback per user: time-decayed counts per feature and the accepted phrases kept.

    Bounds: each user keeps at most ``max_features`` features (the least recently updated go
    first) and ``max_phrases`` phrases (the oldest go first); at most ``max_users`` users are
    kept (the one whose feedback arrived least recently goes first).
    """

    def __init__(
        self,
        *,
        max_features: int = DEFAULT_MAX_FEATURES,
        max_phrases: int = DEFAULT_MAX_PHRASES,
        max_users: int = 10_000,
        half_life: float = DEFAULT_HALF_LIFE,
    ) -> None:
        self._max_features = _positive("max_features", max_features)
        self._max_phrases = _positive("max_phrases", max_phrases)
        self._max_users = _positive("max_users", max_users)
        self._half_life = half_life
        # user -> (feature -> stats, least recently updated first; phrases, oldest first)
        self._users: OrderedDict[str, tuple[OrderedDict[str, FeatureStats], OrderedDict[str, None]]] = (
            OrderedDict()
        )

    async def add(self, user_id: str, events: Sequence[FeedbackEvent]) -> None:
        if not events:
            return
        entry = self._users.get(user_id)
        if entry is None:
            entry = self._users[user_id] = (OrderedDict(), OrderedDict())
            while len(self._users) > self._max_users:
                self._users.popitem(last=False)
        self._users.move_to_end(user_id)
        features, phrases = entry
        for event in events:
            for feature in event.features:
                features[feature] = updated(features.get(feature), event, self._half_life)
                features.move_to_end(feature)
            if event.phrase:
                phrases[event.phrase] = None
                phrases.move_to_end(event.phrase)
        while len(features) > self._max_features:
            features.popitem(last=False)
        while len(phrases) > self._max_phrases:
            phrases.popitem(last=False)

    async def profile(self, user_id: str) -> UserFeedback | None:
        entry = self._users.get(user_id)
        if entry is None:
            return None
        return UserFeedback(dict(entry[0]), tuple(entry[1]))

    async def forget(self, user_id: str) -> bool:
        return self._users.pop(user_id, None) is not None

    async def aclose(self) -> None:
        """Nothing to release."""


class MemoryAudioCache:
    """Rendered audio, at most ``max_bytes`` of it in all; least recently used goes first.

    A single entry larger than ``max_bytes`` is not kept; putting one drops the key's old entry.
    """

    def __init__(self, *, max_bytes: int = DEFAULT_AUDIO_MAX_BYTES) -> None:
        self._max_bytes = _positive("max_bytes", max_bytes)
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._total = 0

    @property
    def total_bytes(self) -> int:
        """Bytes of audio held now."""
        return self._total

    async def get(self, key: str) -> bytes | None:
        data = self._entries.get(key)
        if data is not None:
            self._entries.move_to_end(key)
        return data

    async def put(self, key: str, data: bytes) -> None:
        data = bytes(data)
        old = self._entries.pop(key, None)
        if old is not None:
            self._total -= len(old)
        if len(data) > self._max_bytes:
            return
        self._entries[key] = data
        self._total += len(data)
        while self._total > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._total -= len(evicted)

    async def clear(self) -> tuple[int, int]:
        cleared = (len(self._entries), self._total)
        self._entries.clear()
        self._total = 0
        return cleared

    async def aclose(self) -> None:
        """Nothing to release."""
