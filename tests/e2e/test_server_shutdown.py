"""SIGTERM (or SIGINT) during a stream, against a real ``dawai serve`` process: the stream
ends in-band (an error event, then ``[DONE]``, then a clean end of the chunked body), the
upstream is closed, and the process exits 0 with no traceback."""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest

from tests.conftest import upstream_env
from tests.e2e.test_server_process import Server

pytestmark = pytest.mark.server

# 200 pieces a quarter second apart: 50 s, far past uvicorn's 10 s graceful timeout, so a
# stream that is not told to end would be cut by it and the process would not exit in time.
SLOW = "fake+chunks=200+length=200+delay=0.25"


@pytest.mark.parametrize(
    ("provider", "sig"),
    [("openai", signal.SIGTERM), ("anthropic", signal.SIGINT), ("google", signal.SIGTERM)],
)
def test_stop_signal_mid_stream_ends_it_in_band(tmp_path, upstream, provider, sig):
    upstream.reset()
    server = Server(upstream_env(upstream), tmp_path)
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
    """No response has started yet: the stream request gets a 503 problem at once, not a
    cancellation when uvicorn's graceful timeout runs out (the heartbeat is longer)."""
    upstream.reset()
    server = Server(upstream_env(upstream, DAWAI_HEARTBEAT_INTERVAL="30"), tmp_path)
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
