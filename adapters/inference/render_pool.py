"""``RenderPool``: CPU-bound renders in a bounded pool of processes, so the server's event
loop keeps the GIL (``/health``, chat and ghost text answer while a voice renders).

A voice hands it a picklable factory (a module-level function and its arguments) that
builds, once in each worker process, the callable that renders a request to float32
bytes. Progress and cancel cross the process boundary through shared memory, one slot
per worker: the worker writes its stage and fraction and reads its cancel flag at every
progress report (raising ``RenderCancelled`` there); the parent polls the slot while it
waits and passes changes to the caller's ``ProgressCallback``, and sets the flag when that
callback raises ``RenderCancelled``. A slot is free again only when its render has ended.

Workers come from a ``forkserver`` (``spawn`` where there is none) that first imports the
voice's ``preload`` modules, so each worker starts with the dictionaries loaded, shared
copy-on-write. A worker that dies (killed for memory, say) fails its render with
``RenderFailed``, and the next render starts a fresh pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from dawai.core.errors import DawaiError, RenderCancelled
from dawai.core.models import SynthesisProgress, SynthesisRequest
from dawai.ports.singing import ProgressCallback

__all__ = ["RenderFailed", "RenderPool"]

# How often the parent looks at a render's progress while it waits.
POLL_SECONDS = 0.02
# Workers run at a lower priority: where cores are fewer than processes, the server's event
# loop (health, chat, ghost text) gets the CPU first and renders take what is left.
WORKER_NICENESS = 10

Renderer = Callable[[SynthesisRequest, ProgressCallback], bytes]


class RenderFailed(DawaiError):
    title = "Render failed"


# -- in the worker ----------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _start_worker(
    factory: Callable[..., Renderer],
    args: tuple[Any, ...],
    stages: tuple[str, ...],
    shared: tuple[Any, Any, Any],
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle, not ours
    with contextlib.suppress(OSError, AttributeError):  # renders yield the CPU to the server
        os.nice(WORKER_NICENESS)
    _worker.update(render=factory(*args), stages=stages, shared=shared)


def _render_in_worker(slot: int, request: SynthesisRequest) -> bytes:
    fraction, stage, cancel = _worker["shared"]
    stages: tuple[str, ...] = _worker["stages"]

    def report(step: SynthesisProgress) -> None:
        if cancel[slot]:
            raise RenderCancelled()
        stage[slot] = stages.index(step.stage) if step.stage in stages else 0
        fraction[slot] = step.fraction

    render: Renderer = _worker["render"]
    return render(request, report)


# -- in the server ----------------------------------------------------------------------


def _context(preload: Sequence[str]) -> Any:
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(preload))
        return context
    return multiprocessing.get_context("spawn")


class RenderPool:
    def __init__(
        self,
        processes: int,
        factory: Callable[..., Renderer],
        args: tuple[Any, ...] = (),
        *,
        stages: tuple[str, ...] = ("render",),
        preload: Sequence[str] = (),
    ) -> None:
        self.processes = processes
        self._factory, self._args, self._stages = factory, args, stages
        self._context = _context(preload)
        # Per slot: the fraction done (-1: nothing reported), the stage's index, cancel.
        self._fraction = self._context.Array("d", processes, lock=False)
        self._stage = self._context.Array("b", processes, lock=False)
        self._cancel = self._context.Array("b", processes, lock=False)
        self._shared = (self._fraction, self._stage, self._cancel)
        self._free = list(range(processes))
        self._room: asyncio.Semaphore | None = None
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes,
                mp_context=self._context,
                initializer=_start_worker,
                initargs=(self._factory, self._args, self._stages, self._shared),
            )
        return self._pool

    async def render(self, request: SynthesisRequest, progress: ProgressCallback | None = None) -> bytes:
        loop = asyncio.get_running_loop()
        if self._room is None:
            self._room = asyncio.Semaphore(self.processes)
        room = self._room
        await room.acquire()
        slot = self._free.pop()
        self._fraction[slot], self._stage[slot], self._cancel[slot] = -1.0, 0, 0

        def free(_: Future[bytes] | None = None) -> None:
            self._free.append(slot)
            room.release()

        try:
            future = self._executor().submit(_render_in_worker, slot, request)
        except BaseException:
            free()
            raise

        def ended(done: Future[bytes]) -> None:  # in the pool's thread
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody to give it to
                loop.call_soon_threadsafe(free, done)

        # The slot is free when the render has ended, not when this caller stops waiting.
        future.add_done_callback(ended)
        waiting = asyncio.wrap_future(future)
        try:
            return await self._follow(slot, waiting, progress)
        except asyncio.CancelledError:
            self._cancel[slot] = 1  # nobody waits for it: stop it at its next report
            raise
        except BrokenProcessPool:
            self._pool = None  # the next render starts a fresh pool
            raise RenderFailed("The render's worker process stopped unexpectedly.") from None

    async def _follow(
        self, slot: int, waiting: asyncio.Future[bytes], progress: ProgressCallback | None
    ) -> bytes:
        if progress is None:
            return await asyncio.shield(waiting)
        last = (-1, -1.0)
        while True:
            done, _ = await asyncio.wait((waiting,), timeout=POLL_SECONDS)
            now = (int(self._stage[slot]), float(self._fraction[slot]))
            if now != last and now[1] >= 0 and not self._cancel[slot]:
                last = now
                try:
                    progress(SynthesisProgress(self._stages[now[0]], now[1]))
                except RenderCancelled:
                    self._cancel[slot] = 1  # the worker stops at its next report
            if done:
                return waiting.result()

    def close(self) -> None:
        for slot in range(self.processes):
            self._cancel[slot] = 1
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
