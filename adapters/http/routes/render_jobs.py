"""Render jobs: a long render as a resource, under ``/diffsinger/jobs`` and
``/ai/api/voice/jobs`` (the same routes at both prefixes, as ``synthesize``).

- ``POST /jobs``: the synthesis body; ``202`` with the job and ``Location`` (its URL);
- ``GET /jobs/{id}``: the job now (state, stage, progress 0..1);
- ``GET /jobs/{id}/events``: its progress as Server-Sent Events, a ``status`` event per
  change, the last one final (a failed job's followed by an ``error`` event), then
  ``[DONE]``;
- ``GET /jobs/{id}/audio``: the WAV once done, a 409 problem before (or when it failed
  or was cancelled);
- ``DELETE /jobs/{id}``: cancel it; the job as it stands after.

The routes know only the ``RenderJobs`` port. A job belongs to the client that created it
(its token's name, else its address), as the rate limits count clients.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import HttpMethod, Request, Response, delete, get, post, route
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)
from litestar.openapi.spec.header import OpenAPIHeader
from litestar.params import JSONBody, PathParameter

from dawai.adapters.http.auth import client_key
from dawai.adapters.http.openapi import event_stream, problem_responses
from dawai.adapters.http.problems import HEAD_AS_GET, problem_for
from dawai.adapters.http.route_set import (
    AUDIT_OPT,
    RATE_OPT,
    SHUTDOWN_OPT,
    SLOT_OPT,
    Audit,
    OnShutdown,
    RateClass,
    RouteSet,
    Slot,
)
from dawai.adapters.http.routes.singing import WAV, to_request
from dawai.adapters.http.schemas import JobEvent, JobOut, StreamError, StreamErrorInfo, SynthesizeBody
from dawai.adapters.http.sse import SSE_HEADERS, frame, sse_response
from dawai.core.streams import EventStream
from dawai.ports.render_jobs import RenderJob, RenderJobs

__all__ = ["job_out", "owner_of", "routes"]

PREFIXES = ("/diffsinger", "/ai/api/voice")
_JOB = "/jobs/{job_id:str}"
JobId = Annotated[
    str,
    PathParameter(
        pattern=r"^[A-Za-z0-9_-]+$", min_length=1, max_length=64, description="The id `POST .../jobs` gave."
    ),
]
# Seconds of silence on a progress stream before a keep-alive comment.
_HEARTBEAT = 10.0

_PER_CLIENT = (
    "This client already has `singing.jobs_per_client` unfinished render jobs; `Retry-After` says "
    "when to try again."
)
_JOB_FOUND = "No render job with this id for this client: never made, expired, or another client's."


def owner_of(request: Request[Any, Any, Any]) -> str:
    """The client a job belongs to, as the rate limits and caps know it (``client_key``)."""
    return client_key(request.scope)


def job_out(job: RenderJob, cls: type[JobOut] = JobOut) -> JobOut:
    error = None
    if job.error is not None:
        problem = problem_for(job.error)
        error = StreamErrorInfo(problem.status, problem.title, problem.detail)
    return cls(
        id=job.id,
        voice=job.voice,
        state=job.state,
        stage=job.stage,
        progress=job.progress,
        seconds=job.seconds,
        createdAt=job.created_at,
        finishedAt=job.finished_at,
        cache=job.cache,
        audioBytes=job.audio_bytes,
        renderMs=job.render_ms,
        error=error,
    )


def _job_frames(item: Any) -> bytes:
    assert isinstance(item, RenderJob)
    return frame(job_out(item, JobEvent))


async def _create(
    data: JSONBody[SynthesizeBody], render_jobs: NamedDependency[RenderJobs], request: Request[Any, Any, Any]
) -> Response[JobOut]:
    """Queue a render: the job, with its URL in `Location`. Follow it by `GET .../events`
    (Server-Sent Events) or by polling `GET .../{id}`, then fetch `GET .../audio`. A phrase
    the cache holds is a job already `done`."""
    job = await render_jobs.submit(to_request(data), owner_of(request))
    location = f"{request.url.path.rstrip('/')}/{job.id}"
    return Response(job_out(job), status_code=202, headers={"Location": location})


async def _status(
    job_id: JobId, render_jobs: NamedDependency[RenderJobs], request: Request[Any, Any, Any]
) -> JobOut:
    """The job now: `state`, `stage` and `progress` (0..1)."""
    return job_out(await render_jobs.status(job_id, owner_of(request)))


async def _events(
    job_id: JobId, render_jobs: NamedDependency[RenderJobs], request: Request[Any, Any, Any]
) -> Response[Any]:
    """The job's progress as Server-Sent Events: a `status` event now and after each change
    (a slow reader skips to the latest), the last one in a final state; a failed job's is
    followed by an `error` event. Then `[DONE]`."""
    updates = await render_jobs.follow(job_id, owner_of(request))
    if request.scope.get("state", {}).get(HEAD_AS_GET):  # the head alone: no stream to follow
        await updates.aclose()  # type: ignore[attr-defined]
        return Response(b"", media_type="text/event-stream", headers=SSE_HEADERS)
    # The server stopping does not cut a job's stream: the job ends it (done, or failed
    # once http.drain_timeout has passed), and its follower hears which.
    return await sse_response(request, EventStream(updates), _HEARTBEAT, encode=_job_frames, drains=False)


async def _audio(
    job_id: JobId, render_jobs: NamedDependency[RenderJobs], request: Request[Any, Any, Any]
) -> Response[bytes]:
    """The job's WAV (44.1 kHz, 16-bit PCM, mono), once it is `done`; a 409 problem before."""
    wav = await render_jobs.audio(job_id, owner_of(request))
    return Response(content=wav, media_type=WAV)


async def _cancel(
    job_id: JobId, render_jobs: NamedDependency[RenderJobs], request: Request[Any, Any, Any]
) -> JobOut:
    """Cancel the job: a queued one leaves the queue, a running one stops at its voice's next
    stage or chunk and frees its slot (the answer waits a moment for that: `cancelled`, or
    still `running` with stage `cancelling`). A finished job is answered as it is."""
    return job_out(await render_jobs.cancel(job_id, owner_of(request)))


@dataclass
class _Created(Operation):
    """The 202 with its ``Location`` header."""

    def __post_init__(self) -> None:
        accepted = (self.responses or {}).get("202")
        if isinstance(accepted, OpenAPIResponse):
            accepted.description = "The job, queued (or `done` already, from the phrase cache)."
            accepted.headers = {
                **(accepted.headers or {}),
                "Location": OpenAPIHeader(
                    schema=Schema(type=OpenAPIType.STRING),
                    description="The job's URL, under the prefix the request used.",
                    required=True,
                ),
            }


@dataclass
class _WavAudio(Operation):
    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse):
            ok.description = "The job's audio: a WAV file, 44.1 kHz, 16-bit PCM, mono."
            wav = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="A RIFF WAV file.")
            ok.content = {WAV: OpenAPIMediaType(schema=wav)}


async def _options() -> Response[None]:
    return Response(None, status_code=204, headers={"Allow": "DELETE, GET, OPTIONS"})


def handlers() -> list[HTTPRouteHandler]:
    found = problem_responses(404, reasons={404: _JOB_FOUND})
    return [
        # Ours, and first: Litestar's own OPTIONS answer for a path is made with the path's
        # first handler and would leave out the methods of handlers added after it.
        route(_JOB, http_method=[HttpMethod.OPTIONS], include_in_schema=False, status_code=204)(_options),
        post(
            "/jobs",
            summary="Create a render job",
            tags=["singing"],
            status_code=202,
            responses=problem_responses(400, 404, 413, 429, 503, reasons={429: _PER_CLIENT}),
            operation_class=_Created,
            # A render, as POST /synthesize: its rate class, and one audit event (the voice,
            # whether the phrase cache answered, the 202).
            opt={RATE_OPT: RateClass.SYNTHESIS, AUDIT_OPT: Audit.ON},
        )(_create),
        get(_JOB, summary="A render job's status", tags=["singing"], responses=found)(_status),
        get(
            _JOB + "/events",
            summary="A render job's progress, as Server-Sent Events",
            tags=["singing"],
            # A stream: capped as streams are; new followers refused once the server stops,
            # open ones end with their job.
            opt={SHUTDOWN_OPT: OnShutdown.DRAIN, SLOT_OPT: Slot.STREAM},
            responses={
                200: event_stream(
                    JobEvent | StreamError,
                    "A `status` event per change, the last in a final state (`done`, `failed`, `cancelled`); "
                    "a failed job's is followed by an `error` event; then `[DONE]`.",
                ),
                **found,
            },
        )(_events),
        get(
            _JOB + "/audio",
            summary="A render job's audio",
            tags=["singing"],
            media_type=WAV,
            responses=problem_responses(404, 409, reasons={404: _JOB_FOUND}),
            operation_class=_WavAudio,
        )(_audio),
        delete(_JOB, summary="Cancel a render job", tags=["singing"], status_code=200, responses=found)(
            _cancel
        ),
    ]


routes = RouteSet(PREFIXES, handlers, {"render_jobs": lambda container: container.render_jobs()})
