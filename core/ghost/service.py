"""``GhostTextService``: checks a request, asks the engines, ranks, caches, learns.

The wire layer checks shapes and ranges (text length, ``maxCandidates``); this service
checks what needs the text: the cursor, counted in UTF-16 code units as the browser counts
it, must fall inside the text and not inside a surrogate pair. The language is the request's
when it says ``en`` or ``ja``, else detected. An engine that fails is logged and left out;
the others still answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dawai.core.errors import FieldError, InvalidInput
from dawai.core.ghost.ranker import rank
from dawai.core.ghost.text import code_point_index, detect_language
from dawai.core.ghost.typeahead import TypeaheadCache
from dawai.core.models import CompletionCandidate, CompletionQuery, TextAnalysis
from dawai.ports.completion import TextCompleter
from dawai.ports.stores import FeedbackStore

__all__ = ["GhostReply", "GhostTextHandle", "GhostTextService"]

log = logging.getLogger(__name__)
MAX_CANDIDATES = 5
_CONTEXT_WINDOW = 2_000  # characters before the cursor the engines see


@dataclass(frozen=True, slots=True)
class GhostReply:
    candidates: list[CompletionCandidate]
    latency_ms: float
    cached: bool = False


class GhostTextService:
    def __init__(
        self,
        engines: Sequence[TextCompleter],
        feedback: FeedbackStore,
        *,
        cache_entries: int = 1024,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if not engines:
            raise ValueError("GhostTextService needs at least one engine")
        self._engines = tuple(engines)
        self._feedback = feedback
        self._cache = TypeaheadCache(cache_entries)
        self._clock = clock

    @property
    def engines(self) -> tuple[TextCompleter, ...]:
        return self._engines

    @property
    def cache(self) -> TypeaheadCache:
        return self._cache

    async def complete(self, query: CompletionQuery) -> GhostReply:
        """Candidates to insert at ``query.cursor`` (UTF-16 code units; None: the end)."""
        started = self._clock()
        try:
            cursor = code_point_index(query.text, query.cursor)
        except ValueError as exc:
            raise InvalidInput(f"cursor {exc}", [FieldError("cursor", str(exc))]) from None
        limit = min(max(query.max_candidates, 1), MAX_CANDIDATES)
        window_start = max(cursor - _CONTEXT_WINDOW, 0)
        before, after = query.text[window_start:cursor], query.text[cursor:].split("\n", 1)[0]
        language = detect_language(before, query.language)
        scope = (query.user_id, language, tuple(sorted(query.context.items())), limit)
        cached = self._cache.get(scope, before, after)
        if cached is not None:
            return GhostReply(cached[:limit], self._elapsed(started), cached=True)
        local = CompletionQuery(
            text=before + query.text[cursor:],
            cursor=len(before),
            language=language,
            context=query.context,
            max_candidates=limit,
            user_id=query.user_id,
        )
        groups = await asyncio.gather(
            *(engine.complete(local) for engine in self._engines), return_exceptions=True
        )
        found: list[list[CompletionCandidate]] = []
        for engine, group in zip(self._engines, groups, strict=True):
            if isinstance(group, BaseException):
                if not isinstance(group, Exception):
                    raise group
                log.warning("ghost_engine_failed engine=%s error=%s", engine.name, type(group).__name__)
                continue
            found.append(group)
        weights = await self._feedback.weights(query.user_id) if query.user_id else {}
        boost = (lambda candidate: 0.5 + weights.get(candidate.text, 0.5)) if weights else None
        ranked = rank(found, limit, boost)
        self._cache.put(scope, before, after, ranked)
        return GhostReply(ranked, self._elapsed(started))

    async def analyze(self, text: str) -> TextAnalysis:
        return await self._engines[0].analyze(text)

    async def feedback(self, user_id: str, candidate: str, accepted: bool) -> None:
        await self._feedback.record(user_id, candidate, accepted)

    async def forget(self, user_id: str) -> bool:
        """Remove everything kept about ``user_id``; whether there was anything."""
        self._cache.forget(user_id)
        return await self._feedback.forget(user_id)

    def _elapsed(self, started: float) -> float:
        return round((self._clock() - started) * 1000, 3)


class GhostTextHandle:
    """The service, built on first use off the event loop (loading the pronouncing
    dictionaries and the corpus takes a second or two), once."""

    def __init__(self, build: Callable[[], GhostTextService]) -> None:
        self._build = build
        self._service: GhostTextService | None = None
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return self._service is not None

    async def service(self) -> GhostTextService:
        if self._service is None:
            async with self._lock:
                if self._service is None:
                    self._service = await asyncio.to_thread(self._build)
        return self._service
