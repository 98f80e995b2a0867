"""``StreamDrain`` and ``DrainGate``: once the server is stopping, new streams are refused
with a 503 while every other route is served, and streams told to end do so in-band."""

from __future__ import annotations

import asyncio
import json
import threading

from dawai.adapters.http.drain import STREAM_DRAIN_STATE_KEY, DrainRules, StreamDrain
from dawai.adapters.http.route_set import OnShutdown
from dawai.bootstrap.lifecycle import app_for
from tests.conftest import make_container, make_settings, upstream_env


def test_new_streams_are_refused_once_stopping_and_other_routes_are_served(client_for, upstream):
    upstream.reset()
    client = client_for(make_settings(upstream_env(upstream)))
    drain: StreamDrain = client.app.state[STREAM_DRAIN_STATE_KEY]
    drain.refuse_new()
    for path, body in (
        ("/api/stream/chat", {"message": "hi", "model": "openai/fake"}),
        ("/ai/api/stream/chat", {"message": "hi", "model": "openai/fake"}),
        ("/api/stream/agent", {"prompt": "add a bass", "model": "local"}),
    ):
        response = client.post(path, json=body)
        assert response.status_code == 503, path
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["retry-after"] == "1"
        problem = response.json()
        assert problem["title"] == "Server shutting down" and problem["request_id"]
    assert not upstream.requests  # refused before any upstream was asked
    assert client.get("/health").status_code == 200
    reply = client.post("/api/chat", json={"message": "hi", "model": "openai/fake"})
    assert reply.status_code == 200
    assert drain.open_count == 0


def test_a_stream_whose_response_starts_after_the_end_was_asked_ends_in_band(client_for, upstream):
    """A request let in before the stop whose response starts only after open streams were
    told to end (``requested``): it ends at once, in-band."""
    upstream.reset()
    client = client_for(make_settings(upstream_env(upstream)))
    client.app.state[STREAM_DRAIN_STATE_KEY].requested = True
    response = client.post("/api/stream/chat", json={"message": "hi", "model": "openai/fake+chunks=50"})
    assert response.status_code == 200
    events = [block[6:] for block in response.text.split("\n\n") if block.startswith("data: ")]
    assert events[-1] == "[DONE]" and len(events) == 2
    error = json.loads(events[0])
    assert error["type"] == "error" and error["error"]["status"] == 503
    assert error["error"]["title"] == "Server shutting down"


def test_every_event_stream_route_is_drained_and_no_other_is():
    """Read from the app's routes: a streamed route added later must declare OnShutdown.DRAIN."""
    app = app_for(make_container(make_settings()))
    rules = DrainRules.of_routes(app.routes)
    schema = app.openapi_schema.to_schema()
    streamed = {
        path
        for path, item in schema["paths"].items()
        for op in item.values()
        if isinstance(op, dict)
        and "text/event-stream" in op.get("responses", {}).get("200", {}).get("content", {})
    }
    assert {"/api/stream/chat", "/api/stream/agent"} <= streamed
    for path in schema["paths"]:
        expected = OnShutdown.DRAIN if path in streamed else OnShutdown.SERVE
        assert rules.for_documented(path) is expected, path


def test_idle_waits_for_the_requests_let_in():
    async def scenario() -> None:
        drain = StreamDrain()
        assert drain.admit() and drain.admit()
        drain.refuse_new()
        assert not drain.admit() and drain.open_count == 2
        waiter = asyncio.ensure_future(drain.idle())
        drain.leave()
        await asyncio.sleep(0)
        assert not waiter.done()
        drain.leave()
        await asyncio.wait_for(waiter, 5)
        await asyncio.wait_for(drain.idle(), 5)  # nothing open: at once

    asyncio.run(scenario())


def test_request_from_another_thread_runs_the_callbacks_on_the_loop():
    async def scenario() -> list[bool]:
        drain = StreamDrain()
        called = asyncio.Event()
        on_loop: list[bool] = []

        def on_drain() -> None:
            on_loop.append(threading.current_thread() is threading.main_thread())
            called.set()

        unregister = drain.register(on_drain)
        assert drain.open_streams == 1
        threading.Thread(target=drain.request).start()
        await asyncio.wait_for(called.wait(), 5)
        unregister()
        assert drain.open_streams == 0 and drain.requested and drain.refusing
        return on_loop

    assert asyncio.run(scenario()) == [True]
