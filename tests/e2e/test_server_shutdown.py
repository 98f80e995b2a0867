"""SIGTERM (or SIGINT) during a stream, against a real ``dawai serve`` process: an open chat
or agent stream may finish within ``http.drain_timeout`` while new streams get a 503 and
other routes are served; one still open at the timeout ends in-band (an error event, then
``[DONE]``, then a clean end of the chunked body), the upstream is closed, and the process
exits 0 with no traceback."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import upstream_env
from tests.e2e.test_server_process import Server

pytestmark = pytest.mark.server

# 200 pieces a quarter second apart: 50 s, far past the drain's 1 s and uvicorn's 10 s
# graceful timeout, so a stream that is not told to end would be cut and the process would
# not exit in time.
SLOW = "fake+chunks=200+length=200+delay=0.25"
SHORT_DRAIN = "1"


@pytest.mark.parametrize(
    ("provider", "sig"),
    [("openai", signal.SIGTERM), ("anthropic", signal.SIGINT), ("google", signal.SIGTERM)],
)
def test_stop_signal_mid_stream_ends_it_in_band(tmp_path, upstream, provider, sig):
    upstream.reset()
    server = Server(upstream_env(upstream, DAWAI_DRAIN_TIMEOUT=SHORT_DRAIN), tmp_path)
    events: list[str] = []
    try:
        with httpx.stream(
            "POST",
            server.base + "/api/stream/chat",
            json={"message": "hi", "model": f"{provider}/{SLOW}"},
            timeout=30,
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():  # a cut chunked body raises here
                if not line.startswith("data: "):
                    continue
                events.append(line[6:])
                if len(events) == 2:
                    server.proc.send_signal(sig)
        assert server.proc.wait(8) == 0
    finally:
        server.stop()
    *texts, error, done = events
    assert done == "[DONE]"
    assert texts and all(json.loads(t)["type"] == "text" for t in texts)
    assert len(texts) < 100  # it ended early, not after the whole reply
    body = json.loads(error)
    assert body["type"] == "error" and body["error"]["status"] == 503
    assert "shutting down" in body["error"]["detail"]
    assert upstream.wait_for_disconnect(5), "the upstream connection was left open"
    log = server.log.read_text()
    assert "Traceback" not in log and "Cancel" not in log
    assert all(json.loads(line)["level"] for line in log.splitlines())


def test_stop_signal_with_no_stream_open_exits_0(tmp_path, upstream):
    server = Server(upstream_env(upstream), tmp_path)
    try:
        assert httpx.get(server.base + "/health").status_code == 200
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(8) == 0
    finally:
        server.stop()
    assert "Application shutdown complete." in server.log.read_text()


def test_stop_signal_while_waiting_for_the_first_token_is_a_503_problem(tmp_path, upstream):
    """No response has started yet: when the drain timeout passes the stream request gets a
    503 problem, not a cancellation when uvicorn's graceful timeout runs out (the heartbeat
    is longer)."""
    upstream.reset()
    env = upstream_env(upstream, DAWAI_HEARTBEAT_INTERVAL="30", DAWAI_DRAIN_TIMEOUT=SHORT_DRAIN)
    server = Server(env, tmp_path)
    try:
        with httpx.Client(base_url=server.base, timeout=30) as client:

            def stop_once_upstream_has_it() -> None:
                while not upstream.requests:
                    time.sleep(0.02)
                server.proc.send_signal(signal.SIGTERM)

            threading.Thread(target=stop_once_upstream_has_it, daemon=True).start()
            response = client.post(
                "/api/stream/chat", json={"message": "hi", "model": "openai/fake+first_delay=60"}
            )
        assert server.proc.wait(8) == 0
    finally:
        server.stop()
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "shutting down" in response.json()["detail"]
    assert upstream.wait_for_disconnect(5), "the upstream request outlived the server"
    assert "Traceback" not in server.log.read_text()


NOTE = {"id": None, "pitch": 60, "time": 0, "duration": 0.5, "velocity": 0.8}
PLAN = json.dumps(
    {
        "actions": [
            {
                "type": "addTrack",
                "params": {"name": "Keys", "trackType": "midi", "id": "keys"},
                "description": "",
            },
            {"type": "addNotes", "params": {"trackId": "keys", "notes": [NOTE] * 2}, "description": ""},
        ],
        "summary": "Added keys",
        "nextSteps": "Play it",
    }
)
STREAMS = {
    "chat": ("/api/stream/chat", {"message": "hi"}, "text"),
    "agent": ("/api/stream/agent", {"prompt": "add keys"}, "result"),
}


def _logged(log: Path, event: str, timeout: float = 10, times: int = 1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.read_text().count(f'"event": "{event}"') >= times:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize(("kind", "workers"), [("chat", 1), ("agent", 1), ("chat", 2)])
def test_an_open_stream_finishes_within_the_drain_while_new_ones_are_refused(
    tmp_path, upstream, kind, workers
):
    """The fake holds the stream open after a few pieces; SIGTERM; while the server drains,
    a new stream is refused with a 503 problem and health is served; released, the open
    stream ends as it would have (no error event), and the process exits 0. With two
    workers, uvicorn's supervisor passes the signal on and each worker drains."""
    upstream.reset()
    upstream.replies["held"] = PLAN if kind == "agent" else "one two three four five six seven eight"
    path, body, last_type = STREAMS[kind]
    server = Server(upstream_env(upstream, DAWAI_DRAIN_TIMEOUT="30", DAWAI_WORKERS=str(workers)), tmp_path)
    events: list[dict] = []
    refused = health = None
    try:
        with httpx.stream(
            "POST",
            server.base + path,
            json={**body, "model": "openai/held+chunks=8+hold_after=2"},
            timeout=30,
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                if line == "data: [DONE]":
                    events.append({"type": "[DONE]"})
                    continue
                events.append(json.loads(line[6:]))
                if len(events) == 1:
                    server.proc.send_signal(signal.SIGTERM)
                    assert _logged(server.log, "drain_started", times=workers), server.log.read_text()
                    refused = httpx.post(
                        server.base + path, json={**body, "model": "openai/fake"}, timeout=10
                    )
                    health = httpx.get(server.base + "/health", timeout=10)
                    upstream.release()
        assert server.proc.wait(20) == 0
    finally:
        server.stop()
    assert refused is not None and health is not None
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["title"] == "Server shutting down"
    assert health.status_code == 200
    assert upstream.holds_released == 1 and upstream.holds_timed_out == 0
    assert len(upstream.requests) == 1  # the refused stream never reached the upstream
    types = [e["type"] for e in events]
    assert "error" not in types and types[-1] == "[DONE]"
    assert last_type in types
    if kind == "chat":
        text = "".join(e["content"] for e in events if e["type"] == "text")
        assert text == upstream.replies["held"]
    else:
        assert events[-2]["type"] == "result" and events[-2]["success"]
    log = server.log.read_text()
    assert "drain_timeout" not in log and "Traceback" not in log and "streams_not_drained" not in log
    assert log.count('"event": "drain_finished"') == workers
