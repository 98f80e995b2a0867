"""Per-provider upstream concurrency through the HTTP routes, the official SDKs and the
loopback fake upstream: with ``providers.openai.max_concurrency = 1`` and a stream
holding the slot, chat, agent and generate requests to that provider wait
``reliability.pool_timeout`` and get a 503 with Retry-After; another provider is not held
up; once the stream ends, the provider serves again."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from dawai.bootstrap.lifecycle import app_for
from tests.conftest import UNLIMITED_RATES, make_container, make_settings, upstream_env

pytestmark = pytest.mark.timeout(60)

SLOW = "openai/fake+chunks=50+delay=0.1"  # 5 s: it holds the one slot throughout


def test_a_provider_at_its_cap_answers_503_with_retry_after(tmp_path, upstream):
    config = tmp_path / "dawai.toml"
    config.write_text("[providers.openai]\nmax_concurrency = 1\n")
    env = upstream_env(upstream, DAWAI_CONFIG=str(config), DAWAI_POOL_TIMEOUT="0.2", **UNLIMITED_RATES)
    app = app_for(make_container(make_settings(env)))
    upstream.reset()

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=app, client=("192.0.2.1", 40000))
        async with (
            app.lifespan(),
            httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http,
        ):
            held = asyncio.ensure_future(http.post("/api/stream/chat", json={"message": "hi", "model": SLOW}))
            while not upstream.requests:
                await asyncio.sleep(0.01)
            busy = [
                ("/api/chat", {"message": "hi", "model": "openai/fake"}),
                ("/api/stream/chat", {"message": "hi", "model": "openai/fake"}),
                ("/ai/api/agent", {"prompt": "add a bass", "model": "openai/fake"}),
                ("/api/generate", {"prompt": "a bassline", "model": "openai/fake"}),
            ]
            for path, body in busy:
                response = await http.post(path, json=body)
                assert response.status_code == 503, (path, response.text)
                assert response.headers["content-type"] == "application/problem+json"
                assert response.headers["retry-after"] == "2"
                assert "providers.openai.max_concurrency" in response.json()["detail"]
            assert len(upstream.requests) == 1  # none of them reached the upstream
            other = await http.post("/api/chat", json={"message": "hi", "model": "anthropic/fake"})
            assert other.status_code == 200
            assert (await held).status_code == 200
            again = await http.post("/api/chat", json={"message": "hi", "model": "openai/fake"})
            assert again.status_code == 200

    asyncio.run(scenario())
