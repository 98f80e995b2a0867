"""``HybridCompleter``: the embedded engine's answer at once, a language model's when it
is in time (``ghost_text.engine = "hybrid"``), or the model's alone (``"lm"``).

In ``hybrid`` mode a completion starts the model, answers the embedded engine, then waits
for the model only until ``deadline`` seconds after the call began; what the model has by
then is merged with the embedded candidates (the service's ranker keeps the best
``maxCandidates``). Work still running at the deadline is not awaited: it finishes into a
small cache of late answers (``late_entries``, least recently used out), which answers the
same question at once next time, unless the same user asks something newer first, which
cancels it (the engine stops at its next decode step). A model that fails or is busy
(``Overloaded``) leaves the embedded answer alone.

In ``lm`` mode the model's answer is awaited; the embedded engine answers only when the
model fails or has nothing. Analysis is always the embedded engine's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import asdict, dataclass
from typing import Literal

from dawai.core.errors import Overloaded
from dawai.core.models import CompletionCandidate, CompletionQuery, TextAnalysis
from dawai.ports.completion import TextCompleter

__all__ = ["HybridCompleter", "HybridStats"]

log = logging.getLogger(__name__)
_MAX_USERS = 4096  # users whose latest model task is remembered (to cancel on their next keystroke)


@dataclass(slots=True)
class HybridStats:
    """Counters since start: answers with the model's candidates merged, model work that
    missed the deadline, late answers used, model failures, refusals of a busy model
    (``Overloaded``, not logged: a bound doing its work), cancelled late work."""

    merged: int = 0
    late: int = 0
    late_hits: int = 0
    failed: int = 0
    busy: int = 0
    cancelled: int = 0

    def counts(self) -> dict[str, int]:
        return asdict(self)


class HybridCompleter:
    """A ``TextCompleter`` over ``embedded`` and ``lm`` (see the module)."""

    def __init__(
        self,
        embedded: TextCompleter,
        lm: TextCompleter,
        *,
        deadline: float,
        mode: Literal["hybrid", "lm"] = "hybrid",
        late_entries: int = 256,
    ) -> None:
        if deadline <= 0:
            raise ValueError(f"deadline must be positive, not {deadline}")
        if late_entries < 1:
            raise ValueError(f"late_entries must be at least 1, not {late_entries}")
        self.name = mode
        self.embedded = embedded
        self.lm = lm
        self.deadline = deadline
        self.mode = mode
        self.stats = HybridStats()
        self._late_entries = late_entries
        self._late: OrderedDict[Hashable, list[CompletionCandidate]] = OrderedDict()
        self._latest: OrderedDict[str, asyncio.Future[list[CompletionCandidate]]] = OrderedDict()

    async def analyze(self, text: str) -> TextAnalysis:
        return await self.embedded.analyze(text)

    async def complete(self, query: CompletionQuery) -> list[CompletionCandidate]:
        if self.mode == "lm":
            return await self._lm_only(query)
        loop = asyncio.get_running_loop()
        until = loop.time() + self.deadline
        key = _question(query)
        late = self._late.pop(key, None)
        task = None if late is not None else self._start(query)
        embedded = await self.embedded.complete(query)
        if late is not None:
            self.stats.late_hits += 1
            self.stats.merged += 1
            return embedded + late
        assert task is not None
        if not task.done():
            await asyncio.wait({task}, timeout=max(until - loop.time(), 0.0))
        if not task.done():
            self.stats.late += 1
            task.add_done_callback(lambda done: self._keep_late(key, done))
            return embedded
        found = self._result(task)
        if found:
            self.stats.merged += 1
        return embedded + found

    async def _lm_only(self, query: CompletionQuery) -> list[CompletionCandidate]:
        try:
            found = await self.lm.complete(query)
        except Overloaded:
            self.stats.busy += 1
            found = []
        except Exception as exc:
            self.stats.failed += 1
            log.warning("ghost_lm_failed error=%s", type(exc).__name__)
            found = []
        return found or await self.embedded.complete(query)

    def _start(self, query: CompletionQuery) -> asyncio.Future[list[CompletionCandidate]]:
        """The model's completion as a task; the same user's older one, unfinished, is cancelled."""
        task = asyncio.ensure_future(self.lm.complete(query))
        user = query.user_id
        if user is not None:
            older = self._latest.pop(user, None)
            if older is not None and not older.done():
                older.cancel()
                self.stats.cancelled += 1
            self._latest[user] = task
            while len(self._latest) > _MAX_USERS:
                self._latest.popitem(last=False)
            task.add_done_callback(lambda done: self._forget_task(user, done))
        return task

    def _forget_task(self, user: str, task: asyncio.Future[list[CompletionCandidate]]) -> None:
        if self._latest.get(user) is task:
            del self._latest[user]

    def _result(self, task: asyncio.Future[list[CompletionCandidate]]) -> list[CompletionCandidate]:
        if task.cancelled():
            return []
        exc = task.exception()
        if isinstance(exc, Overloaded):
            self.stats.busy += 1
            return []
        if exc is not None:
            self.stats.failed += 1
            log.warning("ghost_lm_failed error=%s", type(exc).__name__)
            return []
        return task.result()

    def _keep_late(self, key: Hashable, task: asyncio.Future[list[CompletionCandidate]]) -> None:
        found = self._result(task)
        if not found:
            return
        self._late[key] = found
        self._late.move_to_end(key)
        while len(self._late) > self._late_entries:
            self._late.popitem(last=False)

    def forget(self, user_id: str) -> None:
        """Drop the late answers kept for ``user_id`` and cancel its model work."""
        for key in [k for k in self._late if isinstance(k, tuple) and k[:1] == (user_id,)]:
            del self._late[key]
        task = self._latest.pop(user_id, None)
        if task is not None and not task.done():
            task.cancel()


def _question(query: CompletionQuery) -> Hashable:
    """What identifies a question for the late cache: user, text before and after the cursor
    (on its line), language, context, limit."""
    after = query.text[query.cursor :].split("\n", 1)[0]
    return (
        query.user_id,
        query.text[: query.cursor],
        after,
        query.language,
        tuple(sorted(query.context.items())),
        query.max_candidates,
    )
