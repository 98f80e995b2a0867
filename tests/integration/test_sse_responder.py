"""``sse_response``, the one SSE responder, serving a stream that is not chat's: a test
route streams job-progress items with its own encoder, and gets heartbeats, problem
documents before the stream opens, in-band errors after, and draining, as chat does.
Chat's own path through it (the gateway deciding when the stream opens) is the last test.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromQuery
from litestar.testing import TestClient

from dawai.adapters.http.drain import STREAM_DRAIN_STATE_KEY
from dawai.adapters.http.route_set import RouteSet
from dawai.adapters.http.routes import ROUTES
from dawai.adapters.http.sse import HEARTBEAT, frame, sse_response
from dawai.bootstrap.lifecycle import app_for
from dawai.core.errors import UpstreamError
from dawai.core.streams import EventStream
from tests.conftest import local_client, make_container, make_settings, upstream_env

HEARTBEAT_SECONDS = 0.05


async def _progress(steps: int, first_delay: float, fail_at: int) -> AsyncIterator[int]:
    await asyncio.sleep(first_delay)
    for step in range(steps):
        if step == fail_at:
            raise UpstreamError("The job failed.")
        yield step


def _encode(step: int) -> bytes:
    return frame({"type": "progress", "step": step})


async def _stream_progress(
    request: Request[Any, Any, Any],
    steps: FromQuery[int] = 3,
    first_delay: FromQuery[float] = 0.0,
    fail_at: FromQuery[int] = -1,
) -> Response[Any]:
    """Test job progress, streamed."""
    stream = EventStream(_progress(steps, first_delay, fail_at))
    return await sse_response(request, stream, HEARTBEAT_SECONDS, encode=_encode)


def _handlers() -> list[HTTPRouteHandler]:
    return [get("/test-progress", summary="Test progress", tags=["test"])(_stream_progress)]


PROGRESS = RouteSet(("/api",), _handlers)


@pytest.fixture
def client() -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(env: dict[str, str] | None = None) -> TestClient:
        container = make_container(make_settings(env))
        made = local_client(app_for(container, (*ROUTES, PROGRESS)), raise_server_exceptions=False)
        clients.append(made.__enter__())
        return made

    yield make
    for made in clients:
        made.__exit__(None, None, None)


def events(body: str) -> list[Any]:
    found = []
    for block in body.split("\n\n"):
        if block.startswith("data: "):
            data = block[6:]
            found.append(data if data == "[DONE]" else json.loads(data))
    return found


def test_items_go_out_through_the_routes_own_encoder(client):
    response = client().get("/api/test-progress?steps=3")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    assert events(response.text) == [*({"type": "progress", "step": s} for s in range(3)), "[DONE]"]


def test_a_slow_first_item_is_preceded_by_heartbeats(client):
    response = client().get("/api/test-progress?steps=1&first_delay=0.3")
    assert response.text.startswith(HEARTBEAT.decode())
    assert events(response.text) == [{"type": "progress", "step": 0}, "[DONE]"]


def test_a_failure_before_the_stream_opens_is_a_problem_document(client):
    response = client().get("/api/test-progress?fail_at=0")
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "The job failed."


def test_a_failure_after_the_first_item_is_in_band_then_done(client):
    response = client().get("/api/test-progress?steps=3&fail_at=1")
    assert response.status_code == 200
    found = events(response.text)
    assert found[0] == {"type": "progress", "step": 0}
    assert found[1]["type"] == "error" and found[1]["error"]["status"] == 502
    assert found[-1] == "[DONE]" and len(found) == 3


def test_stopping_while_waiting_to_open_is_a_503_problem(client):
    made = client()
    made.app.state[STREAM_DRAIN_STATE_KEY].request()
    response = made.get("/api/test-progress?first_delay=5")
    assert response.status_code == 503
    assert response.json()["title"] == "Server shutting down"


def test_chat_opens_only_when_the_gateway_keeps_a_first_token(client, upstream):
    """Each attempt waits longer than a heartbeat and fails: the response has started
    with heartbeats meanwhile, so the gateway's last failure arrives in-band. The
    attempts themselves (retried, each failing before a token) put nothing in the body."""
    upstream.reset()
    env = upstream_env(
        upstream,
        DAWAI_HEARTBEAT_INTERVAL=str(HEARTBEAT_SECONDS),
        DAWAI_MAX_RETRIES="1",
    )
    body = {"message": "hi", "model": "openai/fake+first_delay=0.15+status=500"}
    response = client(env).post("/api/stream/chat", json=body)
    assert response.status_code == 200
    assert response.text.startswith(HEARTBEAT.decode())
    found = events(response.text)
    assert len(found) == 2 and found[-1] == "[DONE]"
    assert found[0]["type"] == "error" and found[0]["error"]["status"] == 502
    assert len(upstream.requests) == 2  # the first try and its retry, one answer
