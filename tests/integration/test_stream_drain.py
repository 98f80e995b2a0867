"""``StreamDrain``: once the server is stopping, streams end in-band at once."""

from __future__ import annotations

import asyncio
import json
import threading

from dawai.adapters.http.drain import STREAM_DRAIN_STATE_KEY, StreamDrain
from tests.conftest import make_settings, upstream_env


def test_a_stream_that_starts_while_stopping_ends_in_band(client_for, upstream):
    upstream.reset()
    client = client_for(make_settings(upstream_env(upstream)))
    client.app.state[STREAM_DRAIN_STATE_KEY].request()
    response = client.post("/api/stream/chat", json={"message": "hi", "model": "openai/fake+chunks=50"})
    assert response.status_code == 200
    events = [block[6:] for block in response.text.split("\n\n") if block.startswith("data: ")]
    assert events[-1] == "[DONE]" and len(events) == 2
    error = json.loads(events[0])
    assert error["type"] == "error" and error["error"]["status"] == 503
    assert error["error"]["title"] == "Server shutting down"


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
        assert drain.open_streams == 0 and drain.requested
        return on_loop

    assert asyncio.run(scenario()) == [True]
