"""The render-job port: long renders as resources a client creates, follows and fetches.

``RenderJobs`` is what the job routes (``/diffsinger/jobs``, ``/ai/api/voice/jobs``) talk
to, and all they know: the in-process runner (``dawai.adapters.render_jobs``) renders in
the server's own worker; a later adapter can hand the same calls to worker machines over
a real queue without a route changing. Every job belongs to the client that created it
(its token's name, else its address): any other client is told there is no such job.

Errors are the domain's (``dawai.core.errors``): ``NotFound`` for an unknown, expired or
someone else's job; ``Conflict`` for audio asked of a job that has none; ``RateLimited``
when the client already has its most unfinished jobs; ``Overloaded`` when no more jobs
can be held; ``ServerShuttingDown`` once the server has begun to stop; a request's own
faults (``InvalidInput``, ``NotFound``, ``TooLarge``) when it is submitted.

An adapter that holds running work is also a ``dawai.ports.draining.Drainable``, so the
server lets its jobs finish when it stops, and then fails the rest with
``ServerShuttingDown``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Literal, Protocol, runtime_checkable

import msgspec

from dawai.core.errors import DawaiError
from dawai.core.models import SynthesisRequest

__all__ = ["FINAL_STATES", "JobState", "RenderJob", "RenderJobs"]

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
FINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})


class RenderJob(msgspec.Struct, frozen=True, kw_only=True):
    """One job as its owner sees it at one moment."""

    id: str
    voice: str
    state: JobState
    # What the render is doing: "queued", then the voice's own stages ("phonemes",
    # "pitch", "audio", ...), "encoding", and the final state's name.
    stage: str
    progress: float  # 0..1; 1 only when done
    seconds: float  # the audio's length, in seconds (the last note's end)
    created_at: float  # Unix time
    finished_at: float | None = None
    cache: Literal["hit", "miss"] | None = None  # done: from the phrase cache, or rendered
    audio_bytes: int = 0  # done: the WAV's size
    render_ms: float | None = None  # done: time from submission to the audio
    error: DawaiError | None = None  # failed: why (its problem document's source)

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES


@runtime_checkable
class RenderJobs(Protocol):
    async def submit(self, request: SynthesisRequest, owner: str) -> RenderJob:
        """Check the request and queue its render; the job as created (``queued``, or
        already ``done`` when the phrase cache holds the audio)."""
        ...

    async def status(self, job_id: str, owner: str) -> RenderJob: ...

    async def follow(self, job_id: str, owner: str) -> AsyncIterator[RenderJob]:
        """The job now, then after each change, ending after a final state. A follower
        that reads slowly skips to the latest state. ``NotFound`` is raised here, before
        the iterator is handed over; a failed job's iterator raises its error last."""
        ...

    async def audio(self, job_id: str, owner: str) -> bytes:
        """A finished job's WAV; ``Conflict`` while it runs, or if it failed or was cancelled."""
        ...

    async def cancel(self, job_id: str, owner: str) -> RenderJob:
        """Stop the job: a queued one gives its place up, a running one stops at the
        voice's next stage or chunk and frees its slot. A finished job stays as it is."""
        ...

    def load(self) -> tuple[int, int]:
        """Jobs held now, and how many of them are unfinished."""
        ...

    async def aclose(self) -> None: ...
