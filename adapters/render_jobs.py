"""``InProcessRenderJobs``: render jobs (``dawai.ports.render_jobs``) run in this worker.

Each job is one asyncio task around ``SingingService.render``: it waits for a render slot
like any other render (``singing.concurrent_renders``, ``singing.queued_renders``), and the
voice's ``ProgressCallback`` moves its stage and progress. Everything is bounded per
worker (``[singing] jobs_*``):

- at most ``jobs_max`` jobs held; a new one makes room by dropping the oldest finished
  job, and is refused (``Overloaded``) when every held job is unfinished;
- at most ``jobs_per_client`` unfinished jobs per owner (``RateLimited``);
- finished jobs are kept ``jobs_ttl`` seconds, and their WAVs together at most
  ``jobs_audio_bytes`` (the oldest finished go first).

Cancelling a queued job gives its place in the queue up; a running one is flagged, and
the progress callback raises ``RenderCancelled`` at the voice's next stage or chunk, so
the work stops and the slot is freed. It is a ``Drainable`` (``dawai.ports.draining``):
when the server begins to stop, new jobs are refused (503) and unfinished ones run on for
``http.drain_timeout``; those still unfinished then are stopped the same way and fail with
``ServerShuttingDown``, which a follower receives in-band (a job's event stream is not
cut by the drain of streams: it ends with its job). Jobs live in this process: behind
several workers, a client reaches its job only on the worker that took it (a queue-backed
adapter would lift that).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Literal

import structlog

from dawai.core.errors import (
    Conflict,
    DawaiError,
    NotFound,
    Overloaded,
    RateLimited,
    RenderCancelled,
    ServerShuttingDown,
    TooLarge,
)
from dawai.core.models import SynthesisProgress, SynthesisRequest
from dawai.core.settings import SingingSettings
from dawai.core.singing.service import Admitted, Rendered, SingingService
from dawai.ports.render_jobs import JobState, RenderJob

__all__ = ["InProcessRenderJobs"]

log = structlog.get_logger("dawai.singing")

# The share of progress the voice's own stages take; the WAV encoding and the cache the rest.
_VOICE_SHARE = 0.95
# How long ``cancel`` waits for a running render to notice before it answers.
_CANCEL_WAIT = 2.0


class RenderFailed(DawaiError):
    """A render failed on our side (a bug in a voice): reported without its details."""

    title = "Render failed"


class _Job:
    __slots__ = (
        "audio",
        "began",
        "cache",
        "cancel_requested",
        "created_at",
        "ended",
        "error",
        "finished_at",
        "id",
        "owner",
        "progress",
        "render_ms",
        "seconds",
        "shutdown",
        "stage",
        "state",
        "task",
        "version",
        "voice",
        "waiters",
    )

    def __init__(self, job_id: str, owner: str, voice: str, seconds: float, now: float) -> None:
        self.id, self.owner, self.voice, self.seconds = job_id, owner, voice, seconds
        self.created_at = time.time()
        self.began = now
        self.state: JobState = "queued"
        self.stage = "queued"
        self.progress = 0.0
        self.finished_at: float | None = None
        self.ended = 0.0  # the clock's time it finished (for the TTL)
        self.cache: Literal["hit", "miss"] | None = None
        self.audio: bytes | None = None
        self.render_ms: float | None = None
        self.error: DawaiError | None = None
        self.cancel_requested = False
        self.shutdown = False  # stopped by the drain: failed, not cancelled
        self.task: asyncio.Task[None] | None = None
        self.version = 0
        self.waiters: list[asyncio.Future[None]] = []

    @property
    def final(self) -> bool:
        return self.state in ("done", "failed", "cancelled")

    def changed(self) -> None:
        self.version += 1
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)

    def snapshot(self) -> RenderJob:
        return RenderJob(
            id=self.id,
            voice=self.voice,
            state=self.state,
            stage=self.stage,
            progress=self.progress,
            seconds=self.seconds,
            created_at=self.created_at,
            finished_at=self.finished_at,
            cache=self.cache,
            audio_bytes=len(self.audio) if self.audio is not None else 0,
            render_ms=self.render_ms,
            error=self.error,
        )


class InProcessRenderJobs:
    def __init__(
        self,
        singing: SingingService,
        settings: SingingSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._singing, self._clock = singing, clock
        self._max_jobs = settings.jobs_max
        self._per_client = settings.jobs_per_client
        self._max_audio = settings.jobs_audio_bytes
        self._ttl = settings.jobs_ttl
        self._jobs: dict[str, _Job] = {}
        self._finished: OrderedDict[str, _Job] = OrderedDict()  # in the order they finished
        self._audio_bytes = 0
        self._active: Counter[str] = Counter()  # owner -> unfinished jobs
        self._draining = False
        self._idle: asyncio.Event | None = None  # set when the last unfinished job ends

    # -- the port ---------------------------------------------------------------------

    async def submit(self, request: SynthesisRequest, owner: str) -> RenderJob:
        self._admissible(owner)
        admitted = self._singing.admit(request)
        cached = await self._singing.cached(admitted)
        self._admissible(owner)  # again: other jobs came while the cache answered
        if cached is None:
            self._singing.check_room()
        self._expire()
        self._make_room()
        seconds = max((n.start + n.duration for n in admitted.request.notes), default=0.0)
        job = _Job(secrets.token_urlsafe(16), owner, admitted.request.voice, seconds, self._clock())
        self._jobs[job.id] = job
        if cached is not None:
            self._finish(job, "done", Rendered(cached, "hit", 0.0))
        else:
            self._active[owner] += 1
            job.task = asyncio.get_running_loop().create_task(self._run(job, admitted))
        return job.snapshot()

    async def status(self, job_id: str, owner: str) -> RenderJob:
        return self._job(job_id, owner).snapshot()

    async def follow(self, job_id: str, owner: str) -> AsyncIterator[RenderJob]:
        return self._follow(self._job(job_id, owner))

    async def audio(self, job_id: str, owner: str) -> bytes:
        job = self._job(job_id, owner)
        if job.audio is not None:
            return job.audio
        if job.state == "failed":
            detail = job.error.detail if job.error is not None else "unknown"
            raise Conflict(f"Render job {job.id} failed and has no audio: {detail}")
        if job.state == "cancelled":
            raise Conflict(f"Render job {job.id} was cancelled and has no audio.")
        raise Conflict(
            f"Render job {job.id} is {job.state} ({job.progress:.0%}); fetch its audio once it is done."
        )

    async def cancel(self, job_id: str, owner: str) -> RenderJob:
        job = self._job(job_id, owner)
        if job.final or job.task is None:
            return job.snapshot()
        job.cancel_requested = True
        if job.state == "queued":
            job.task.cancel()  # it holds no slot yet: it leaves the queue at once
        else:
            job.stage = "cancelling"
            job.changed()
        await asyncio.wait((job.task,), timeout=_CANCEL_WAIT)
        return job.snapshot()

    def load(self) -> tuple[int, int]:
        return len(self._jobs), sum(self._active.values())

    # -- Drainable (dawai.ports.draining): the server stopping --------------------------

    def refuse_new(self) -> None:
        self._draining = True

    @property
    def open_count(self) -> int:
        return sum(self._active.values())

    async def idle(self) -> None:
        while self._active:
            if self._idle is None or self._idle.is_set():
                self._idle = asyncio.Event()
            await self._idle.wait()

    async def end_open(self) -> None:
        """Stop every unfinished job as a cancel does, failing it with ``ServerShuttingDown``;
        their followers receive it in-band."""
        self._draining = True
        left = [j for j in self._jobs.values() if not j.final and j.task is not None]
        for job in left:
            job.shutdown = job.cancel_requested = True
            if job.state == "queued" and job.task is not None:
                job.task.cancel()
        tasks = [j.task for j in left if j.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=_CANCEL_WAIT)
        for job in left:  # a voice that never reports: its followers are told all the same
            if not job.final:
                self._stopped(job)

    async def aclose(self) -> None:
        self._draining = True
        tasks = [job.task for job in self._jobs.values() if job.task is not None and not job.task.done()]
        for job in self._jobs.values():
            if not job.final:
                job.shutdown = job.cancel_requested = True
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_CANCEL_WAIT)

    # -- the jobs ---------------------------------------------------------------------

    def _admissible(self, owner: str) -> None:
        if self._draining:
            raise ServerShuttingDown("The server is shutting down; it takes no new render jobs.")
        if self._active[owner] >= self._per_client:
            raise RateLimited(
                f"This client already has {self._active[owner]} unfinished render jobs "
                "(singing.jobs_per_client); wait for one to finish, or cancel one."
            )

    def _job(self, job_id: str, owner: str) -> _Job:
        self._expire()
        job = self._jobs.get(job_id)
        if job is None or job.owner != owner:  # someone else's job is no job of this client's
            raise NotFound(f"No render job '{job_id[:64]}' (it may have expired).")
        return job

    def _expire(self) -> None:
        if not self._finished:
            return
        limit = self._clock() - self._ttl
        while self._finished:
            job = next(iter(self._finished.values()))
            if job.ended > limit:
                break
            self._drop(job)

    def _drop(self, job: _Job) -> None:
        self._finished.pop(job.id, None)
        self._jobs.pop(job.id, None)
        if job.audio is not None:
            self._audio_bytes -= len(job.audio)

    def _make_room(self) -> None:
        while len(self._jobs) >= self._max_jobs:
            if not self._finished:
                raise Overloaded(
                    f"{len(self._jobs)} unfinished render jobs are held (singing.jobs_max); try again soon."
                )
            self._drop(next(iter(self._finished.values())))

    def _finish(
        self, job: _Job, state: JobState, rendered: Rendered | None = None, error: DawaiError | None = None
    ) -> None:
        if job.final:
            return
        if job.task is not None:
            self._active[job.owner] -= 1
            if self._active[job.owner] <= 0:
                del self._active[job.owner]
            if not self._active and self._idle is not None:
                self._idle.set()
        if rendered is not None and len(rendered.wav) > self._max_audio:
            state, rendered = "failed", None
            error = TooLarge(
                "The render's audio is larger than singing.jobs_audio_bytes allows a job to keep."
            )
        job.state, job.stage, job.error = state, state, error
        job.ended, job.finished_at = self._clock(), time.time()
        if rendered is not None:
            job.audio, job.cache, job.progress = rendered.wav, rendered.cache, 1.0
            job.render_ms = (job.ended - job.began) * 1000
            self._audio_bytes += len(rendered.wav)
            while self._audio_bytes > self._max_audio and self._finished:
                self._drop(next(iter(self._finished.values())))
        self._finished[job.id] = job
        job.changed()

    def _progress(self, job: _Job, step: SynthesisProgress) -> None:
        if job.final or job.cancel_requested:
            return
        fraction = min(max(step.fraction, 0.0), 1.0) * _VOICE_SHARE
        job.progress = max(job.progress, round(fraction, 4))
        job.stage = step.stage[:32]
        job.changed()

    async def _run(self, job: _Job, admitted: Admitted) -> None:
        loop = asyncio.get_running_loop()

        def progress(step: SynthesisProgress) -> None:  # in the voice's thread, or here
            if job.cancel_requested:
                raise RenderCancelled()
            loop.call_soon_threadsafe(self._progress, job, step)

        def started() -> None:
            job.state, job.stage = "running", "starting"
            job.changed()

        try:
            rendered = await self._singing.render(admitted, progress, started)
        except (asyncio.CancelledError, RenderCancelled):
            self._stopped(job)
        except DawaiError as exc:
            self._finish(job, "failed", error=exc)
        except Exception as exc:  # a bug in a voice: logged, and the job fails without details
            log.error("render_job_failed", voice=job.voice, error_type=type(exc).__name__)
            self._finish(job, "failed", error=RenderFailed("The render failed unexpectedly."))
        else:
            self._finish(job, "done", rendered)

    def _stopped(self, job: _Job) -> None:
        if job.shutdown:
            self._finish(
                job, "failed", error=ServerShuttingDown("The server stopped before the render finished.")
            )
        else:
            self._finish(job, "cancelled")

    async def _follow(self, job: _Job) -> AsyncIterator[RenderJob]:
        loop = asyncio.get_running_loop()
        seen = -1
        while True:
            if job.version != seen:
                seen = job.version
                now = job.snapshot()
                yield now
                if now.final:
                    if now.error is not None:
                        raise now.error
                    return
                continue
            waiter: asyncio.Future[None] = loop.create_future()
            job.waiters.append(waiter)
            try:
                await waiter
            finally:
                job.waiters.remove(waiter)
