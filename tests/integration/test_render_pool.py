"""The render pool with real worker processes: a render runs in another process, its
progress crosses over, a cancel stops the worker at its next report (it provably did not
run on), a worker that dies fails its render and the next render gets a fresh pool, and the
built-in voice renders the same samples in its processes as in a thread."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import numpy as np
import pytest

from dawai.adapters.inference.builtin_voice import BuiltinVoice
from dawai.adapters.inference.render_pool import RenderFailed, RenderPool, _context
from dawai.core.errors import RenderCancelled
from dawai.core.models import SynthesisNote, SynthesisProgress, SynthesisRequest
from dawai.core.singing.score import SingingLimits, prepare
from dawai.ports.singing import VoiceConfig

STEPS = 5
REQUEST = SynthesisRequest("default", (SynthesisNote(60, 0.0, 2.0, "la"),), language="en")


def gated_renderer(gate: Any, steps_done: Any) -> Any:
    """In the worker: STEPS steps, each a report; from the second on, each waits for the
    test's gate first. Returns the worker's pid as the samples."""

    def render(request: SynthesisRequest, progress: Any) -> bytes:
        for step in range(STEPS):
            if step and not gate.wait(30):
                raise TimeoutError("the gate never opened")
            progress(SynthesisProgress("render", step / STEPS))
            steps_done.value += 1
        return np.array([os.getpid()], dtype="<f4").tobytes()

    return render


def dying_renderer() -> Any:
    def render(request: SynthesisRequest, progress: Any) -> bytes:
        if request.seed == 1:
            os._exit(3)  # the worker process dies mid-render
        return b"\0\0\0\0"

    return render


def test_a_render_runs_in_a_worker_process_and_reports_its_progress():
    context = _context(())
    gate, steps_done = context.Event(), context.Value("i", 0)
    pool = RenderPool(1, gated_renderer, (gate, steps_done), stages=("render",))
    reports: list[SynthesisProgress] = []

    async def scenario() -> bytes:
        gate.set()
        return await pool.render(REQUEST, reports.append)

    try:
        samples = asyncio.run(scenario())
    finally:
        pool.close()
    assert int(np.frombuffer(samples, dtype="<f4")[0]) != os.getpid()  # rendered elsewhere
    assert steps_done.value == STEPS
    fractions = [r.fraction for r in reports]
    assert fractions and fractions == sorted(fractions) and {r.stage for r in reports} == {"render"}


def test_a_cancel_stops_the_worker_at_its_next_report():
    context = _context(())
    gate, steps_done = context.Event(), context.Value("i", 0)
    pool = RenderPool(1, gated_renderer, (gate, steps_done), stages=("render",))

    def cancel_at_once(step: SynthesisProgress) -> None:
        # The worker may go on once the pool has set its flag (just after this raises); its
        # next report is where it must stop.
        asyncio.get_running_loop().call_soon(gate.set)
        raise RenderCancelled()

    async def scenario() -> None:
        with pytest.raises(RenderCancelled):
            await pool.render(REQUEST, cancel_at_once)
        # The slot is free again: the next render gets it, and runs to its end.
        assert await pool.render(REQUEST)

    try:
        asyncio.run(scenario())
    finally:
        pool.close()
    assert steps_done.value == 1 + STEPS  # one step of the cancelled render, then the whole next one


def test_a_worker_that_dies_fails_its_render_and_the_next_gets_a_fresh_pool():
    pool = RenderPool(1, dying_renderer)

    async def scenario() -> None:
        with pytest.raises(RenderFailed, match="stopped unexpectedly"):
            await pool.render(SynthesisRequest("default", REQUEST.notes, seed=1))
        assert await pool.render(REQUEST) == b"\0\0\0\0"

    try:
        asyncio.run(scenario())
    finally:
        pool.close()


def test_the_built_in_voice_sings_the_same_in_its_processes_as_in_a_thread():
    request = prepare(
        SynthesisRequest(
            "default", tuple(SynthesisNote(60 + i, i * 0.5, 0.5, "la") for i in range(8)), language="en"
        ),
        SingingLimits(max_seconds=300),
    )
    in_processes = BuiltinVoice(VoiceConfig("default", options={"processes": 1}))
    in_a_thread = BuiltinVoice(VoiceConfig("default", options={"processes": 0}))
    reports: list[SynthesisProgress] = []

    async def scenario() -> tuple[bytes, bytes]:
        try:
            a = await in_processes.synthesize(request, reports.append)
            b = await in_a_thread.synthesize(request)
            return a.samples, b.samples
        finally:
            await in_processes.aclose()
            await in_a_thread.aclose()

    a, b = asyncio.run(scenario())
    assert a == b and len(a) > 0
    assert reports[-1] == SynthesisProgress("audio", 1.0)
    assert [r.fraction for r in reports] == sorted(r.fraction for r in reports)
