"""The cap on one client's open streams against a real ``dawai serve`` process and the
loopback fake upstream: a stream past it is a 503 problem with Retry-After before the
upstream hears of it, and the slot comes back exactly once when a stream ends, fails, or
its client disconnects."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import UNLIMITED_RATES, upstream_env
from tests.e2e.test_server_process import Server

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

SLOW = "openai/fake+chunks=200+length=200+delay=0.25"  # 50 s unless its client leaves


@pytest.fixture(scope="module")
def capped(tmp_path_factory, upstream) -> Iterator[Server]:
    env = upstream_env(upstream, DAWAI_MAX_STREAMS_PER_CLIENT="1", **UNLIMITED_RATES)
    server = Server(env, tmp_path_factory.mktemp("capped"))
    yield server
    server.stop()
    assert "Traceback" not in server.log.read_text()


def post_stream(server: Server, model: str) -> httpx.Response:
    return httpx.post(server.base + "/api/stream/chat", json={"message": "hi", "model": model}, timeout=30)


def assert_busy(response: httpx.Response) -> None:
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "2"
    assert "limits.streams_per_client" in response.json()["detail"]


def open_one_then_refuse_the_next(server: Server, upstream) -> None:
    """With one stream open, the next is refused and never reaches the upstream."""
    with httpx.stream(
        "POST", server.base + "/api/stream/chat", json={"message": "hi", "model": SLOW}, timeout=30
    ) as held:
        assert held.status_code == 200
        lines = held.iter_lines()  # kept: a dropped iterator closes the response
        assert next(lines).startswith("data: ")
        seen = len(upstream.requests)
        assert_busy(post_stream(server, "openai/fake"))
        assert len(upstream.requests) == seen


def eventually_free(server: Server) -> None:
    """The slot is back once the server has seen the stream end (a disconnect takes a moment)."""
    deadline = time.monotonic() + 10
    while True:
        response = post_stream(server, "openai/fake")
        if response.status_code == 200:
            assert response.text.endswith("data: [DONE]\n\n")
            return
        assert_busy(response)
        assert time.monotonic() < deadline, "the slot was never given back"
        time.sleep(0.05)


def test_client_disconnect_gives_the_slot_back_once(capped, upstream):
    upstream.reset()
    for _ in range(3):  # each disconnect frees exactly the one slot: the cap holds every time
        open_one_then_refuse_the_next(capped, upstream)
        assert upstream.wait_for_disconnect(5), "the upstream stream outlived its client"
        eventually_free(capped)


@pytest.mark.parametrize(
    "model",
    ["openai/fake+status=500", "openai/fake+chunks=10+error_after=3", "openai/fake+chunks=3"],
    ids=["upstream-error-before-first-byte", "upstream-error-in-band", "normal-end"],
)
def test_a_stream_that_ends_gives_its_slot_back(capped, upstream, model):
    upstream.reset()
    for _ in range(2):
        post_stream(capped, model)
        eventually_free(capped)
        open_one_then_refuse_the_next(capped, upstream)
        eventually_free(capped)
