"""``GhostTextService``: checks a request, asks the engines, ranks, caches, learns.

The wire layer checks shapes and ranges (text length, ``maxCandidates``); this service
checks what needs the text: the cursor, counted in UTF-16 code units as the browser counts
it, must fall inside the text and not inside a surrogate pair. The language is the request's
when it says ``en`` or ``ja``, else detected. An engine that fails is logged and left out;
the others still answer.

Learning (``dawai.core.ghost.learning``): feedback events go to the ``FeedbackStore`` as
counts per feature; a completion for a user multiplies each candidate's score by that
user's boost, and offers the phrases that user accepted before (kept only when the
operator keeps text) that start with the word being typed. Nothing of one user's is read
for another.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

from dawai.core import audit
from dawai.core.errors import FieldError, InvalidInput
from dawai.core.ghost.learning import (
    DEFAULT_HALF_LIFE,
    accepted_phrase,
    candidate_features,
    context_key,
    infer_kind,
    rescore,
)
from dawai.core.ghost.ranker import rank
from dawai.core.ghost.text import code_point_index, detect_language
from dawai.core.ghost.typeahead import TypeaheadCache
from dawai.core.models import CompletionCandidate, CompletionQuery, FeedbackEvent, TextAnalysis, UserFeedback
from dawai.core.telemetry import NO_TELEMETRY
from dawai.ports.completion import TextCompleter
from dawai.ports.stores import FeedbackStore
from dawai.ports.telemetry import Telemetry

__all__ = ["EngineHealth", "GhostReply", "GhostTextHandle", "GhostTextService", "Learning"]

log = logging.getLogger(__name__)
MAX_CANDIDATES = 5
_CONTEXT_WINDOW = 2_000  # characters before the cursor the engines see
_OVERLAY_SCORE = 0.6
EventKind = Literal["shown", "accepted", "dismissed"]


@dataclass(frozen=True, slots=True)
class Learning:
    """How feedback is kept: ``store_text`` keeps accepted phrases as text (off: only
    hashed features); ``salt`` keys the hashes; counts halve every ``half_life`` seconds."""

    store_text: bool = False
    salt: str = ""
    half_life: float = DEFAULT_HALF_LIFE


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
        learning: Learning | None = None,
        cache_entries: int = 1024,
        clock: Callable[[], float] = time.perf_counter,
        now: Callable[[], float] = time.time,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        """``telemetry`` is told each engine's time per completion and every typed-ahead
        cache lookup."""
        if not engines:
            raise ValueError("GhostTextService needs at least one engine")
        self._engines = tuple(engines)
        self._feedback = feedback
        self._learning = learning or Learning()
        self._cache = TypeaheadCache(cache_entries)
        self._clock = clock
        self._now = now
        self._telemetry = telemetry

    @property
    def engines(self) -> tuple[TextCompleter, ...]:
        return self._engines

    @property
    def cache(self) -> TypeaheadCache:
        return self._cache

    async def complete(self, query: CompletionQuery) -> GhostReply:
        """Candidates to insert at ``query.cursor`` (UTF-16 code units)."""
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
        self._telemetry.cache_lookup("ghost_typeahead", cached is not None)
        audit.note_route("ghost_text", "+".join(engine.name for engine in self._engines))
        audit.note_cache(cached is not None)
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
        asked = [self._timed(engine, local) for engine in self._engines]
        profile_read = self._feedback.profile(query.user_id) if query.user_id else _nothing()
        *groups, read = await asyncio.gather(*asked, profile_read, return_exceptions=True)
        found: list[list[CompletionCandidate]] = []
        for engine, group in zip(self._engines, groups, strict=True):
            if isinstance(group, BaseException):
                if not isinstance(group, Exception):
                    raise group
                log.warning("ghost_engine_failed engine=%s error=%s", engine.name, type(group).__name__)
                continue
            found.append(cast("list[CompletionCandidate]", group))
        profile: UserFeedback | None = None
        if isinstance(read, BaseException):
            if not isinstance(read, Exception):
                raise read
            log.warning("ghost_feedback_unreadable error=%s", type(read).__name__)
        else:
            profile = cast("UserFeedback | None", read)
        ranked = self._rank(found, limit, profile, before)
        self._cache.put(scope, before, after, ranked)
        return GhostReply(ranked, self._elapsed(started))

    async def _timed(self, engine: TextCompleter, query: CompletionQuery) -> list[CompletionCandidate]:
        started = self._clock()
        try:
            return await engine.complete(query)
        finally:
            self._telemetry.ghost_text(engine.name, self._clock() - started)

    def _rank(
        self,
        found: list[list[CompletionCandidate]],
        limit: int,
        profile: UserFeedback | None,
        before: str,
    ) -> list[CompletionCandidate]:
        if profile is None:
            return rank(found, limit)
        if profile.phrases:
            found.append(_overlay(profile.phrases, before))
        now, salt, half_life = self._now(), self._learning.salt, self._learning.half_life
        known = profile.features
        context = context_key(before)

        def lift(candidate: CompletionCandidate) -> float:
            features = candidate_features(candidate.text, candidate.kind, salt, context)
            return rescore(candidate.score, features, known, now, half_life)

        return rank(found, limit, lift)

    async def analyze(self, text: str) -> TextAnalysis:
        return await self._engines[0].analyze(text)

    async def feedback(
        self, user_id: str, text: str, candidate: str, event: EventKind, kind: str | None = None
    ) -> None:
        """Count one event on ``candidate`` (shown, accepted or dismissed) for ``user_id``."""
        kind = kind or infer_kind(candidate)
        phrase = None
        if event == "accepted" and self._learning.store_text:
            phrase = accepted_phrase(text, candidate) or None
        features = candidate_features(candidate, kind, self._learning.salt, context_key(text))
        await self._feedback.add(user_id, [FeedbackEvent(event, features, self._now(), phrase)])

    async def forget(self, user_id: str) -> bool:
        """Remove everything kept about ``user_id``; whether there was anything."""
        self._cache.forget(user_id)
        for engine in self._engines:
            forget = getattr(engine, "forget", None)
            if callable(forget):
                forget(user_id)
        return await self._feedback.forget(user_id)

    def _elapsed(self, started: float) -> float:
        return round((self._clock() - started) * 1000, 3)


async def _nothing() -> None:
    return None


def _overlay(phrases: tuple[str, ...], before: str) -> list[CompletionCandidate]:
    """The user's accepted phrases that start with the word being typed (two characters at
    least), the newest first; what is left of each to type."""
    line = before.rpartition("\n")[2]
    start = len(line)
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] in "'-"):
        start -= 1
    typed = line[start:]
    if len(typed) < 2:
        return []
    folded = typed.casefold()
    found = []
    for phrase in reversed(phrases):
        if phrase.casefold().startswith(folded) and len(phrase) > len(typed):
            found.append(CompletionCandidate(phrase[len(typed) :], _OVERLAY_SCORE, "phrase"))
            if len(found) >= 3:
                break
    return found


@dataclass(slots=True)
class EngineHealth:
    """What ``/health`` says of ghost text: the configured ``engine`` (embedded, lm,
    hybrid) and the language model's state: ``off`` (not configured), ``loading`` (not
    built yet), ``ready``, or ``degraded`` with the ``reason`` (the embedded engine
    answers alone), and once ready, what the model did so far (``counts``)."""

    engine: str = "embedded"
    lm: Literal["off", "loading", "ready", "degraded"] = "off"
    reason: str | None = None
    # The hybrid engine's live counters once it is built (merged, late, busy, ...).
    counts: Callable[[], dict[str, int]] | None = None


class GhostTextHandle:
    """The service, built on first use off the event loop (loading the pronouncing
    dictionaries and the corpus takes a second or two), once. ``preload`` starts building
    it now (at start-up when a language model is configured, so ``/health`` soon tells
    whether it loaded)."""

    def __init__(self, build: Callable[[], GhostTextService], health: EngineHealth | None = None) -> None:
        self._build = build
        self._service: GhostTextService | None = None
        self._lock = asyncio.Lock()
        self.health = health or EngineHealth()
        self._preload: asyncio.Task[GhostTextService] | None = None

    def preload(self) -> None:
        if self._preload is None and self._service is None:
            self._preload = asyncio.ensure_future(self.service())
            self._preload.add_done_callback(_log_preload_failure)

    @property
    def ready(self) -> bool:
        return self._service is not None

    async def service(self) -> GhostTextService:
        if self._service is None:
            async with self._lock:
                if self._service is None:
                    self._service = await asyncio.to_thread(self._build)
        return self._service


def _log_preload_failure(task: asyncio.Task[GhostTextService]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("ghost_text_preload_failed error=%s", type(task.exception()).__name__)
