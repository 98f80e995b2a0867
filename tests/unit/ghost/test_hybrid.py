"""The hybrid engine over fakes: the embedded answer never waits past the deadline for the
model, late model work finishes into the late cache (or is cancelled when the same user
asks again), failures and a busy model leave the embedded answer, ``lm`` mode awaits the
model. The slow model waits on an event, so no test depends on how long anything takes."""

from __future__ import annotations

import asyncio

import pytest

from dawai.core.errors import Overloaded
from dawai.core.ghost.hybrid import HybridCompleter
from dawai.core.models import CompletionCandidate, CompletionQuery, TextAnalysis

EMBEDDED = [CompletionCandidate("ty lights", 0.5, "phrase")]
MODEL = [CompletionCandidate(" night", 0.4, "lyric")]


class Embedded:
    name = "embedded"

    async def complete(self, query: CompletionQuery) -> list[CompletionCandidate]:
        return list(EMBEDDED)

    async def analyze(self, text: str) -> TextAnalysis:
        return TextAnalysis("en", (), "", ())


class Model:
    """Answers ``MODEL`` once ``gate`` is set (at once when None), or raises ``error``."""

    name = "lm"

    def __init__(self, gate: asyncio.Event | None = None, error: Exception | None = None) -> None:
        self.gate, self.error = gate, error
        self.started = 0
        self.cancelled = 0

    async def complete(self, query: CompletionQuery) -> list[CompletionCandidate]:
        self.started += 1
        try:
            if self.gate is not None:
                await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.error is not None:
            raise self.error
        return list(MODEL)

    async def analyze(self, text: str) -> TextAnalysis:
        raise AssertionError("the model is never asked to analyse")


def query(text: str = "I walk alone through the ci", user: str | None = None) -> CompletionQuery:
    return CompletionQuery(text, len(text), "en", {}, 3, user)


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_a_model_in_time_is_merged_with_the_embedded_answer():
    async def scenario() -> None:
        hybrid = HybridCompleter(Embedded(), Model(), deadline=60.0)
        assert await hybrid.complete(query()) == EMBEDDED + MODEL
        assert hybrid.stats.merged == 1 and hybrid.stats.late == 0

    asyncio.run(scenario())


def test_a_slow_model_leaves_the_embedded_answer_and_finishes_into_the_late_cache():
    async def scenario() -> None:
        gate = asyncio.Event()
        model = Model(gate)
        hybrid = HybridCompleter(Embedded(), model, deadline=0.01)
        assert await hybrid.complete(query()) == EMBEDDED  # the gate is shut: never in time
        assert hybrid.stats.late == 1 and model.started == 1
        gate.set()
        await settle()
        assert await hybrid.complete(query()) == EMBEDDED + MODEL  # the late answer, at once
        assert hybrid.stats.late_hits == 1 and model.started == 1
        gate.clear()
        assert await hybrid.complete(query()) == EMBEDDED  # used once; asked again, late again
        assert model.started == 2
        gate.set()
        await settle()

    asyncio.run(scenario())


def test_the_same_users_next_keystroke_cancels_its_late_model_work():
    async def scenario() -> None:
        gate = asyncio.Event()
        model = Model(gate)
        hybrid = HybridCompleter(Embedded(), model, deadline=0.01)
        await hybrid.complete(query("I walk", user="u1"))
        await hybrid.complete(query("anon"))  # no user: not cancelled by anyone
        await hybrid.complete(query("I walk a", user="u1"))
        await settle()
        assert model.cancelled == 1 and hybrid.stats.cancelled == 1
        await hybrid.complete(query("other", user="u2"))  # another user's work is its own
        await settle()
        assert model.cancelled == 1
        gate.set()
        await settle()
        assert await hybrid.complete(query("anon")) == EMBEDDED + MODEL

    asyncio.run(scenario())


def test_the_late_cache_is_bounded():
    async def scenario() -> None:
        gate = asyncio.Event()
        hybrid = HybridCompleter(Embedded(), Model(gate), deadline=0.001, late_entries=2)
        for text in ("one", "two", "three"):
            await hybrid.complete(query(text))
        gate.set()
        await settle()
        assert len(hybrid._late) == 2
        await hybrid.complete(query("one"))  # the oldest went first: asked the model again
        assert hybrid.stats.late_hits == 0
        await hybrid.complete(query("three"))
        assert hybrid.stats.late_hits == 1

    asyncio.run(scenario())


@pytest.mark.parametrize("error", [RuntimeError("boom"), Overloaded("busy")])
def test_a_failing_or_busy_model_leaves_the_embedded_answer(error):
    async def scenario() -> None:
        hybrid = HybridCompleter(Embedded(), Model(error=error), deadline=60.0)
        assert await hybrid.complete(query()) == EMBEDDED
        busy = isinstance(error, Overloaded)
        assert (hybrid.stats.failed, hybrid.stats.busy) == ((0, 1) if busy else (1, 0))

    asyncio.run(scenario())


def test_lm_mode_awaits_the_model_and_falls_back_when_it_fails_or_has_nothing():
    async def scenario() -> None:
        gate = asyncio.Event()
        hybrid = HybridCompleter(Embedded(), Model(gate), deadline=0.001, mode="lm")
        answer = asyncio.ensure_future(hybrid.complete(query()))
        await settle()
        assert not answer.done()  # no deadline in lm mode
        gate.set()
        assert await answer == MODEL
        failing = HybridCompleter(Embedded(), Model(error=RuntimeError()), deadline=1.0, mode="lm")
        assert await failing.complete(query()) == EMBEDDED

    asyncio.run(scenario())


def test_forgetting_a_user_drops_its_late_answers_and_cancels_its_work():
    async def scenario() -> None:
        gate = asyncio.Event()
        model = Model(gate)
        hybrid = HybridCompleter(Embedded(), model, deadline=0.001)
        await hybrid.complete(query("mine", user="u1"))
        hybrid.forget("u1")
        await settle()
        assert model.cancelled == 1
        gate.set()
        await settle()
        assert not hybrid._late

    asyncio.run(scenario())


def test_analysis_is_the_embedded_engines():
    hybrid = HybridCompleter(Embedded(), Model(), deadline=1.0)
    assert asyncio.run(hybrid.analyze("x")).language == "en"


def test_a_deadline_must_be_positive():
    with pytest.raises(ValueError, match="deadline"):
        HybridCompleter(Embedded(), Model(), deadline=0)
