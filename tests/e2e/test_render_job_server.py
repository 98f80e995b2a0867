"""Render jobs against a real ``dawai serve`` process: ``/health`` answers while a render
is provably in progress (the job seen running before and after each answer; counted, not
timed), the progress stream arrives as the render moves, and on SIGTERM a running job is
let finish within ``http.drain_timeout`` or, past it, stopped and failed in-band with a
503, with the process exiting 0 either way."""

from __future__ import annotations

import json
import signal
from typing import Any

import httpx
import pytest

from tests.e2e.test_server_process import Server

pytestmark = pytest.mark.server

RATES = {f"DAWAI_RATE_LIMIT_{n}": "1000000/minute" for n in ("SYNTHESIS", "OTHER")}


def long_phrase(seconds: int, shift: int = 0) -> dict[str, Any]:
    notes = [
        {"pitch": 55 + i % 12, "start": i * 0.5, "duration": 0.5, "lyric": ("la", "ka", "sing")[i % 3]}
        for i in range(seconds * 2)
    ]
    return {"language": "en", "notes": notes, "keyShift": shift}


def events_of(response: httpx.Response) -> Any:
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield line[6:] if line == "data: [DONE]" else json.loads(line[6:])


def test_health_answers_while_a_render_job_runs_and_its_progress_streams(tmp_path):
    server = Server({**RATES, "DAWAI_GHOST_FEEDBACK_PATH": ":memory:"}, tmp_path)
    try:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            job = client.post("/diffsinger/jobs", json=long_phrase(300)).json()
            url = f"/diffsinger/jobs/{job['id']}"
            answered = 0
            while answered < 5:
                before = client.get(url).json()
                assert before["state"] in ("queued", "running"), before  # not done yet
                if before["state"] != "running":
                    continue
                assert client.get("/health").status_code == 200
                after = client.get(url).json()
                if after["state"] == "running" and after["progress"] < 0.95:
                    answered += 1  # health answered between two sightings of the render running
            streamed: list[Any] = []
            with client.stream("GET", url + "/events") as response:
                for event in events_of(response):
                    streamed.append(event)
                    running = [e for e in streamed if e != "[DONE]" and e["state"] == "running"]
                    if len(running) == 3:  # the stream moves with the render: cancel it now
                        assert client.delete(url).json()["state"] in ("cancelled", "running")
            *updates, last, done = streamed
            assert done == "[DONE]" and last["state"] == "cancelled"
            progress = [e["progress"] for e in updates]
            assert progress == sorted(progress) and len(set(progress)) >= 2
            assert client.get("/ai/api/voice/health").json()["rendering"] == 0
    finally:
        server.stop()
    log = server.log.read_text()
    assert "Traceback" not in log


@pytest.mark.parametrize(("drain", "seconds", "ending"), [("8", 120, "done"), ("0", 300, "failed")])
def test_sigterm_lets_a_running_job_finish_or_fails_it_in_band(tmp_path, drain, seconds, ending):
    env = {**RATES, "DAWAI_GHOST_FEEDBACK_PATH": ":memory:", "DAWAI_DRAIN_TIMEOUT": drain}
    server = Server(env, tmp_path)
    streamed: list[Any] = []
    try:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            # The voice's worker processes started and warm first: the job's time is its render.
            assert client.post("/diffsinger/synthesize", json=long_phrase(2)).status_code == 200
            job = client.post("/diffsinger/jobs", json=long_phrase(seconds)).json()
            signalled = False
            with client.stream("GET", f"/diffsinger/jobs/{job['id']}/events") as response:
                for event in events_of(response):
                    streamed.append(event)
                    if not signalled and event != "[DONE]" and event["state"] == "running":
                        server.proc.send_signal(signal.SIGTERM)
                        signalled = True
        assert server.proc.wait(15) == 0
    finally:
        server.stop()
    *updates, done = streamed
    assert done == "[DONE]"
    if ending == "done":
        assert updates[-1]["state"] == "done" and updates[-1]["audioBytes"] > 0
    else:
        last, error = updates[-2:]
        assert last["state"] == "failed" and last["error"]["status"] == 503
        assert error["type"] == "error" and "server stopped" in error["error"]["detail"]
        assert last["progress"] < 0.95  # stopped part-way, not rendered to the end
    log = server.log.read_text()
    assert "Traceback" not in log
