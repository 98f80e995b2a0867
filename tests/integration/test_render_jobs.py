"""Render jobs over the real app: create (202 and Location), poll, follow by SSE, fetch the
audio, cancel (a queued job and a running one, whose voice really stops and frees its
slot), the bounds (jobs per client, jobs held, audio kept), jobs as their owner's alone,
and every refusal as problem+json. A stepped voice renders in steps the test releases,
reporting progress between them from a worker thread, as a real voice does."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from dawai.adapters.render_jobs import InProcessRenderJobs
from dawai.core.errors import NotFound, UpstreamError
from dawai.core.models import Audio, SynthesisNote, SynthesisProgress, SynthesisRequest, VoiceInfo
from dawai.plugins import hookimpl
from tests.conftest import make_container, make_settings
from tests.integration.test_http_foundation import assert_problem
from tests.integration.test_singing import HOP, PREFIXES, SR, phrase, read_wav

STEPS = 4


class SteppedVoice:
    """Renders in ``STEPS`` steps in a thread; each waits for the test to release it, and
    progress is reported between steps (where a cancelled job's callback raises)."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.released = threading.Semaphore(0)
        self.steps_done = 0
        self.started = threading.Event()
        self.fail = fail

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("stepped", "Stepped", ("en",))]

    def identity(self) -> str:
        return "stepped-1"

    def _render(self, progress: Any) -> bytes:
        self.started.set()
        for step in range(STEPS):
            if progress is not None:
                progress(SynthesisProgress("audio", step / STEPS))
            if not self.released.acquire(timeout=30):
                raise TimeoutError("the test never released the step")
            self.steps_done += 1
            if self.fail is not None and step == 1:
                raise self.fail
        return np.zeros(4 * HOP, dtype="<f4").tobytes()

    async def synthesize(self, request: Any, progress: Any = None) -> Audio:
        return Audio(await asyncio.to_thread(self._render, progress), SR)

    def release(self, steps: int = STEPS) -> None:
        for _ in range(steps):
            self.released.release()

    async def aclose(self) -> None:
        self.release(STEPS)


class SteppedPlugin:
    def __init__(self, voice: SteppedVoice) -> None:
        self.voice = voice

    @hookimpl
    def register_voices(self, register: Callable[..., None]) -> None:
        register("stepped", lambda config: self.voice)


def until(check: Callable[[], Any], what: str) -> Any:
    for _ in range(2000):
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"never: {what}")


def stepped_client(
    client_for: Any, env: dict[str, str] | None = None, voice: SteppedVoice | None = None
) -> Any:
    voice = voice or SteppedVoice()
    client = client_for(make_settings(env or {}), ("stepped", SteppedPlugin(voice)))
    return client, voice


def create(client: Any, prefix: str = "/diffsinger", **body: Any) -> Any:
    return client.post(f"{prefix}/jobs", json={**phrase("la"), **body})


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_job_is_created_polled_and_its_audio_fetched(client_for, prefix):
    client = client_for()
    body = {"language": "en", "notes": [{"pitch": 60, "start": 0.0, "duration": 1.5, "lyric": "la"}]}
    response = client.post(f"{prefix}/jobs", json=body)
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"{prefix}/jobs/{job['id']}"
    assert job["state"] in ("queued", "running") and job["voice"] == "default" and job["seconds"] == 1.5
    done = until(
        lambda: (j := client.get(response.headers["location"]).json())["state"] == "done" and j, "done"
    )
    assert done["progress"] == 1.0 and done["cache"] == "miss" and done["renderMs"] >= 0
    audio = client.get(f"{prefix}/jobs/{job['id']}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert len(audio.content) == done["audioBytes"]
    samples, info = read_wav(audio.content)
    assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
    assert abs(len(samples) - 1.5 * SR) <= HOP
    # The same phrase again: the phrase cache holds it, so the job is done as it is made.
    again = client.post(f"{prefix}/jobs", json=body).json()
    assert (again["state"], again["cache"], again["progress"]) == ("done", "hit", 1.0)
    assert client.get(f"{prefix}/jobs/{again['id']}/audio").content == audio.content


def test_progress_moves_with_the_voice_and_audio_is_409_until_done(client_for):
    client, voice = stepped_client(client_for)
    job = create(client, voice="stepped").json()
    url = f"/diffsinger/jobs/{job['id']}"
    until(voice.started.is_set, "the render started")
    seen = []
    for step in range(STEPS):
        now = until(
            lambda s=step: (j := client.get(url).json())["progress"] >= 0.95 * s / STEPS and j, "progress"
        )
        seen.append(now["progress"])
        assert now["state"] == "running" and now["stage"] in ("starting", "audio")
        problem = assert_problem(client.get(url + "/audio"), 409)
        assert "running" in problem["detail"]
        voice.release(1)
    done = until(lambda: (j := client.get(url).json())["state"] == "done" and j, "done")
    assert seen == sorted(seen) and seen[-1] < done["progress"] == 1.0
    assert client.get(url + "/audio").status_code == 200


def _events(response: Any) -> list[Any]:
    events = []
    for line in response.iter_lines():
        if line.startswith("data: "):
            events.append(line[6:] if line == "data: [DONE]" else json.loads(line[6:]))
    return events


def test_the_events_stream_follows_a_job_to_its_end(client_for):
    client, voice = stepped_client(client_for)
    job = create(client, voice="stepped").json()
    # The test client hands the body over whole: the steps go on their own meanwhile (the
    # stream read as it comes, from a real server: tests/e2e/test_render_job_server.py).
    threading.Timer(0.2, voice.release, (STEPS,)).start()
    with client.stream("GET", f"/ai/api/voice/jobs/{job['id']}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
    *updates, last, done = events
    assert done == "[DONE]"
    assert all(e["type"] == "status" and e["id"] == job["id"] for e in (*updates, last))
    assert all(e["state"] in ("queued", "running") for e in updates)
    assert (last["state"], last["progress"], last["audioBytes"] > 0) == ("done", 1.0, True)
    progress = [e["progress"] for e in (*updates, last)]
    assert progress == sorted(progress)
    # A finished job's stream is its final state at once.
    with client.stream("GET", f"/diffsinger/jobs/{job['id']}/events") as response:
        assert [e if e == "[DONE]" else e["state"] for e in _events(response)] == ["done", "[DONE]"]
    head = client.head(f"/diffsinger/jobs/{job['id']}/events")
    assert head.status_code == 200 and head.content == b""


def test_a_failed_render_is_a_failed_job_with_an_in_band_error(client_for):
    voice = SteppedVoice(fail=UpstreamError("the voice's model server went away"))
    client, _ = stepped_client(client_for, voice=voice)
    job = create(client, voice="stepped").json()
    voice.release(STEPS)
    with client.stream("GET", f"/diffsinger/jobs/{job['id']}/events") as response:
        *_, last, error, done = _events(response)
    assert (last["state"], last["error"]["status"], done) == ("failed", 502, "[DONE]")
    assert error["type"] == "error" and "went away" in error["error"]["detail"]
    status = client.get(f"/diffsinger/jobs/{job['id']}").json()
    assert status["state"] == "failed" and status["error"] == last["error"]
    assert "failed" in assert_problem(client.get(f"/diffsinger/jobs/{job['id']}/audio"), 409)["detail"]


def test_cancelling_a_running_job_stops_the_voice_and_frees_its_slot(client_for):
    client, voice = stepped_client(client_for)
    job = create(client, voice="stepped").json()
    url = f"/diffsinger/jobs/{job['id']}"
    until(voice.started.is_set, "the render started")
    voice.release(1)  # one step done; the next progress report is where it stops
    until(lambda: voice.steps_done == 1, "a step rendered")
    canceller = threading.Thread(target=lambda: results.append(client.delete(url)))
    results: list[Any] = []
    canceller.start()
    until(lambda: client.get(url).json()["stage"] == "cancelling", "cancel asked")
    voice.release(1)  # the step in progress ends; its next report raises
    canceller.join(10)
    answer = results[0]
    assert answer.status_code == 200 and answer.json()["state"] == "cancelled"
    assert voice.steps_done == 2 < STEPS  # the render stopped, it did not run on
    health = client.get("/ai/api/voice/health").json()
    assert (health["rendering"], health["queued"]) == (0, 0)
    assert "cancelled" in assert_problem(client.get(url + "/audio"), 409)["detail"]
    assert client.delete(url).json()["state"] == "cancelled"  # again: as it stands


def test_cancelling_a_queued_job_gives_its_place_up(client_for):
    client, voice = stepped_client(client_for, {"DAWAI_SING_RENDERS": "1"})
    first = create(client, voice="stepped").json()
    second = create(client, voice="stepped", keyShift=2).json()
    until(lambda: client.get("/ai/api/voice/health").json()["queued"] == 1, "one queued")
    cancelled = client.delete(f"/diffsinger/jobs/{second['id']}").json()
    assert (cancelled["state"], cancelled["stage"]) == ("cancelled", "cancelled")
    assert client.get("/ai/api/voice/health").json()["queued"] == 0
    voice.release(STEPS)
    until(lambda: client.get(f"/diffsinger/jobs/{first['id']}").json()["state"] == "done", "first done")
    assert voice.steps_done == STEPS  # only the first rendered


def test_unfinished_jobs_per_client_are_capped_with_429(client_for):
    client, voice = stepped_client(client_for, {"DAWAI_SING_JOBS_PER_CLIENT": "1"})
    assert create(client, voice="stepped").status_code == 202
    problem = assert_problem(create(client, voice="stepped", keyShift=1), 429)
    assert "singing.jobs_per_client" in problem["detail"]
    voice.release(STEPS)
    until(lambda: create(client, voice="stepped", keyShift=1).status_code == 202, "room again")
    voice.release(STEPS)


def test_a_full_job_table_makes_room_from_finished_jobs_only(client_for):
    client, voice = stepped_client(client_for, {"DAWAI_SING_JOBS": "2"})
    old = create(client).json()  # the built-in voice: finishes on its own
    until(lambda: client.get(f"/diffsinger/jobs/{old['id']}").json()["state"] == "done", "done")
    running = create(client, voice="stepped").json()
    newer = create(client, voice="stepped", keyShift=3)
    assert newer.status_code == 202  # room made: the finished job went
    assert_problem(client.get(f"/diffsinger/jobs/{old['id']}"), 404)
    problem = assert_problem(create(client, voice="stepped", keyShift=4), 503)
    assert "singing.jobs_max" in problem["detail"]
    voice.release(2 * STEPS)
    until(lambda: client.get(f"/diffsinger/jobs/{running['id']}").json()["state"] == "done", "done")


def test_jobs_are_their_owners_alone(client_for):
    settings = make_settings({"DAWAI_API_TOKENS": "token-of-alice-1234,token-of-bob-56789"})
    client = client_for(settings)
    alice, bob = ({"Authorization": f"Bearer {t}"} for t in ("token-of-alice-1234", "token-of-bob-56789"))
    response = client.post("/diffsinger/jobs", json=phrase("la"), headers=alice)
    assert response.status_code == 202
    url = response.headers["location"]
    until(lambda: client.get(url, headers=alice).json()["state"] == "done", "done")
    for method, path in (("GET", url), ("GET", url + "/audio"), ("GET", url + "/events"), ("DELETE", url)):
        problem = assert_problem(client.request(method, path, headers=bob), 404)
        assert "No render job" in problem["detail"]
    assert client.get(url + "/audio", headers=alice).status_code == 200


def test_bad_requests_are_refused_when_the_job_is_made(client_for):
    client = client_for()
    assert_problem(client.post("/diffsinger/jobs", json={"notes": []}), 400)
    assert "No voice 'nobody'" in assert_problem(create(client, voice="nobody"), 404)["detail"]
    long = {"notes": [{"pitch": 60, "start": 400.0, "duration": 1.0, "lyric": "la"}]}
    assert_problem(client.post("/diffsinger/jobs", json=long), 413)
    for path in (
        "/diffsinger/jobs/nosuchjob",
        "/diffsinger/jobs/nosuchjob/audio",
        "/diffsinger/jobs/x/events",
    ):
        assert_problem(client.get(path), 404)
    assert_problem(client.delete("/ai/api/voice/jobs/nosuchjob"), 404)
    assert_problem(client.get("/diffsinger/jobs/" + "a" * 65), 400)


def _request(pitch: int) -> SynthesisRequest:
    return SynthesisRequest("default", (SynthesisNote(pitch, 0.0, 0.3, "la"),), language="en")


def test_finished_jobs_expire_and_their_audio_is_bounded_in_bytes():
    """The runner on its own, with a clock the test moves: the TTL, then the byte bound."""
    settings = make_settings({"DAWAI_SING_JOB_TTL": "60"})
    container = make_container(settings)
    service = container.singing_service()
    now = [1000.0]

    async def scenario() -> None:
        jobs = InProcessRenderJobs(service, settings.singing, clock=lambda: now[0])
        first = await jobs.submit(_request(60), "me")
        async for state in await jobs.follow(first.id, "me"):
            last = state
        assert last.state == "done" and last.audio_bytes > 0
        now[0] += 59
        assert (await jobs.status(first.id, "me")).state == "done"
        now[0] += 2
        with pytest.raises(NotFound):
            await jobs.status(first.id, "me")
        assert jobs.load() == (0, 0)
        # Room for one WAV of this size: the next finished job pushes the older out.
        small = InProcessRenderJobs(
            service, settings.singing.__class__(jobs_audio_bytes=last.audio_bytes + 100), clock=lambda: now[0]
        )
        a = await small.submit(_request(61), "me")
        async for _ in await small.follow(a.id, "me"):
            pass
        b = await small.submit(_request(62), "me")
        async for _ in await small.follow(b.id, "me"):
            pass
        assert (await small.status(b.id, "me")).state == "done"
        with pytest.raises(NotFound):
            await small.status(a.id, "me")
        await jobs.aclose()
        await small.aclose()
        await service.aclose()

    asyncio.run(scenario())


def test_the_built_in_voice_stops_between_chunks_when_its_callback_raises():
    from dawai.adapters.inference.builtin_voice import BuiltinVoice
    from dawai.core.errors import RenderCancelled
    from dawai.core.singing.score import SingingLimits, prepare
    from dawai.ports.singing import VoiceConfig

    voice = BuiltinVoice(VoiceConfig("default"))
    notes = tuple(SynthesisNote(60 + i % 5, i * 0.5, 0.5, "la") for i in range(40))  # 20 s: 7 chunks
    request = prepare(SynthesisRequest("default", notes, language="en"), SingingLimits(max_seconds=300))
    reports: list[SynthesisProgress] = []

    def everything(step: SynthesisProgress) -> None:
        reports.append(step)

    voice.render(request, everything)
    chunks = [r for r in reports if r.stage == "audio"]
    assert len(chunks) >= 5 and chunks[-1].fraction == pytest.approx(1.0)
    assert [r.fraction for r in reports] == sorted(r.fraction for r in reports)
    calls: list[SynthesisProgress] = []

    def cancel_after_two_chunks(step: SynthesisProgress) -> None:
        calls.append(step)
        if sum(c.stage == "audio" for c in calls) == 2:
            raise RenderCancelled()

    with pytest.raises(RenderCancelled):
        voice.render(request, cancel_after_two_chunks)
    assert sum(c.stage == "audio" for c in calls) == 2 < len(chunks)
