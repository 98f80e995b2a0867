"""In-process stores: bounded, least-recently-used dictionaries.

These serve a single worker process (state is neither shared between ``http.workers`` nor kept
across restarts) and double as the test fakes for the store ports. Every method runs without
awaiting, so each call is atomic on its event loop; the stores are not meant for use from
several threads at once.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import msgspec

__all__ = [
    "DEFAULT_AUDIO_MAX_BYTES",
    "DEFAULT_MAX_CANDIDATES",
    "MemoryAudioCache",
    "MemoryFeedbackStore",
    "MemorySummaryStore",
    "acceptance_weight",
]

DEFAULT_MAX_CANDIDATES = 500
DEFAULT_AUDIO_MAX_BYTES = 256 * 1024 * 1024


def acceptance_weight(accepts: int, rejects: int) -> float:
    """The smoothed acceptance rate ``(accepts + 1) / (accepts + rejects + 2)``.

    Laplace smoothing: an unseen candidate weighs 0.5, the value stays inside (0, 1), and it
    rises with every accept and falls with every reject.
    """
    return (accepts + 1) / (accepts + rejects + 2)


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
    """Accept/reject counts per user and candidate text.

    Bounds: each user keeps at most ``max_candidates`` candidates (recording a new one forgets
    the one recorded least recently), and at most ``max_users`` users are kept (the user whose
    feedback arrived least recently goes first).
    """

    def __init__(self, *, max_candidates: int = DEFAULT_MAX_CANDIDATES, max_users: int = 10_000) -> None:
        self._max_candidates = _positive("max_candidates", max_candidates)
        self._max_users = _positive("max_users", max_users)
        # user -> candidate -> [accepts, rejects], both in least-recently-recorded order.
        self._users: OrderedDict[str, OrderedDict[str, list[int]]] = OrderedDict()

    async def record(self, user_id: str, candidate: str, accepted: bool) -> None:
        counts = self._users.get(user_id)
        if counts is None:
            counts = self._users[user_id] = OrderedDict()
            while len(self._users) > self._max_users:
                self._users.popitem(last=False)
        self._users.move_to_end(user_id)
        pair = counts.setdefault(candidate, [0, 0])
        pair[0 if accepted else 1] += 1
        counts.move_to_end(candidate)
        while len(counts) > self._max_candidates:
            counts.popitem(last=False)

    async def weights(self, user_id: str) -> dict[str, float]:
        counts = self._users.get(user_id)
        if counts is None:
            return {}
        return {candidate: acceptance_weight(a, r) for candidate, (a, r) in counts.items()}

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
