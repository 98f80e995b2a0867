"""Rate limits through the whole app: per client and route class, exact under concurrency,
in memory and in the real Redis, and in memory again when Redis goes away."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from dawai.bootstrap.lifecycle import app_for
from tests.conftest import make_container, make_settings
from tests.fakes.tcp_proxy import TcpProxy
from tests.integration.test_http_foundation import assert_problem

pytestmark = pytest.mark.timeout(120)


def limited_env(**extra: str) -> dict[str, str]:
    return {"DAWAI_RATE_LIMIT_OTHER": "5/minute", "DAWAI_RATE_LIMIT_CHAT": "2/minute", **extra}


class Served:
    """An app started (lifespan and all) in this event loop, spoken to through ASGI with a
    chosen peer address."""

    def __init__(self, env: dict[str, str]) -> None:
        self.container = make_container(make_settings(env))
        self.app = app_for(self.container)

    async def __aenter__(self) -> Served:
        self._lifespan = self.app.lifespan()
        await self._lifespan.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._lifespan.__aexit__(None, None, None)

    async def get(
        self, path: str, peer: str = "192.0.2.1", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.get(path, headers=headers)

    async def many(self, count: int, path: str = "/api/models", **options: Any) -> list[httpx.Response]:
        return list(await asyncio.gather(*(self.get(path, **options) for _ in range(count))))


def statuses(responses: Sequence[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def test_n_concurrent_requests_pass_and_the_next_is_refused():
    async def run() -> None:
        async with Served(limited_env()) as served:
            first = await served.many(5)
            assert statuses(first) == [200] * 5
            assert all(r.headers["ratelimit-policy"] == '"other";q=5;w=60' for r in first)
            refused = await served.get("/api/models")
            assert_problem(refused, 429)
            assert 1 <= int(refused.headers["retry-after"]) <= 60
            assert refused.headers["ratelimit-policy"] == '"other";q=5;w=60'
            assert refused.headers["ratelimit"] == f'"other";r=0;t={refused.headers["retry-after"]}'
            # Another client has its own window; health and the docs count against none.
            assert (await served.get("/api/models", peer="192.0.2.2")).status_code == 200
            assert statuses(await served.many(20, "/health")) == [200] * 20
            assert (await served.get("/schema/openapi.json")).status_code == 200

    asyncio.run(run())


def test_twice_the_limit_at_once_lets_exactly_the_limit_in():
    async def run() -> None:
        async with Served(limited_env()) as served:
            assert statuses(await served.many(12)) == [200] * 5 + [429] * 7

    asyncio.run(run())


def test_a_token_is_its_own_client_wherever_it_comes_from_and_classes_count_apart():
    token = "rate-token"

    async def run() -> None:
        async with Served(limited_env(DAWAI_API_TOKENS=f"{token},other-token")) as served:
            bearer = {"Authorization": f"Bearer {token}"}
            spread = [served.get("/api/models", peer=f"192.0.2.{i}", headers=bearer) for i in range(7)]
            assert statuses(await asyncio.gather(*spread)) == [200] * 5 + [429] * 2
            other = {"Authorization": "Bearer other-token"}
            assert (await served.get("/api/models", headers=other)).status_code == 200
            # The chat class has its own window: a 2/minute chat limit, untouched by the above.
            chat = [served.get("/api/stream/chat", headers=bearer) for _ in range(3)]
            chat_statuses = statuses(await asyncio.gather(*chat))
            assert chat_statuses.count(429) == 1, chat_statuses  # GET on a POST route: 405s, counted

    asyncio.run(run())


def test_limited_routes_document_429_with_its_headers(client_for):
    paths = client_for(make_settings(limited_env())).get("/schema/openapi.json").json()["paths"]
    models = paths["/api/models"]["get"]["responses"]["429"]
    assert {"Retry-After", "RateLimit-Policy", "RateLimit"} <= set(models["headers"])
    assert "429" not in paths["/health"]["get"]["responses"]


def test_unlimited_everywhere_leaves_the_headers_out():
    env = {f"DAWAI_RATE_LIMIT_{c}": "unlimited" for c in ("CHAT", "SYNTHESIS", "GHOST_TEXT", "OTHER")}

    async def run() -> None:
        async with Served(env) as served:
            responses = await served.many(3)
            assert statuses(responses) == [200] * 3 and "ratelimit-policy" not in responses[0].headers

    asyncio.run(run())


@pytest.mark.redis
def test_redis_counts_one_window_for_every_app_sharing_it(redis_url):
    env = limited_env(DAWAI_REDIS_URL=redis_url, DAWAI_RATE_LIMIT_PREFIX=f"test:{uuid.uuid4().hex}")

    async def run() -> None:
        async with Served(env) as one, Served(env) as two:
            batch = [one.get("/api/models") for _ in range(6)] + [two.get("/api/models") for _ in range(6)]
            assert statuses(await asyncio.gather(*batch)) == [200] * 5 + [429] * 7
            health = (await one.get("/health")).json()
            assert health["rate_limits"] == {"storage": "redis", "fallback": False}

    asyncio.run(run())


@pytest.mark.redis
def test_when_redis_goes_away_limits_count_per_process_and_health_says_so(redis_url, caplog, capsys):
    url = httpx.URL(redis_url)
    proxy = TcpProxy((url.host, url.port or 6379))
    env = limited_env(
        DAWAI_REDIS_URL=f"redis://127.0.0.1:{proxy.port}{url.path}",
        DAWAI_RATE_LIMIT_PREFIX=f"test:{uuid.uuid4().hex}",
    )

    async def run() -> None:
        async with Served(env) as served:
            assert statuses(await served.many(3)) == [200] * 3  # counted in Redis
            proxy.stop()
            # Redis is gone: never a 500; this process counts from zero, exactly.
            assert statuses(await served.many(7)) == [200] * 5 + [429] * 2
            health = (await served.get("/health")).json()
            assert health["status"] == "degraded"
            assert health["rate_limits"] == {"storage": "redis", "fallback": True}

    try:
        asyncio.run(run())
    finally:
        proxy.stop()
    assert "rate_limit_storage_unavailable" in capsys.readouterr().out


@pytest.mark.redis
def test_redis_back_after_the_retry_interval_is_used_again(redis_url):
    url = httpx.URL(redis_url)
    proxy = TcpProxy((url.host, url.port or 6379))
    prefix = f"test:{uuid.uuid4().hex}"
    proxies = [proxy]
    env = limited_env(
        DAWAI_REDIS_URL=f"redis://127.0.0.1:{proxy.port}{url.path}", DAWAI_RATE_LIMIT_PREFIX=prefix
    )

    async def run() -> None:
        async with Served(env) as served:
            limits = served.container.rate_limits()
            proxy.stop()
            assert statuses(await served.many(2)) == [200] * 2
            assert limits.fallback
            again = TcpProxy((url.host, url.port or 6379), port=proxy.port)
            proxies.append(again)
            limits._retry_at = 0.0  # the retry interval, passed
            assert (await served.get("/api/models")).status_code == 200
            assert not limits.fallback
            assert (await served.get("/health")).json()["rate_limits"]["fallback"] is False

    try:
        asyncio.run(run())
    finally:
        for each in proxies:
            each.stop()


def test_a_path_spelt_another_way_counts_in_its_routes_class():
    async def run() -> None:
        async with Served(limited_env()) as served:
            # The chat class's 2/minute, however the path is written (GET on a POST route: 405, counted).
            paths = ("/api/stream/chat/", "//api/stream/chat", "/api//stream/chat")
            chat = [served.get(f"http://127.0.0.1{path}") for path in paths]
            assert statuses(await asyncio.gather(*chat)).count(429) == 1
            # The docs stay unlimited under any spelling.
            assert statuses(await served.many(8, "http://127.0.0.1//schema/openapi.json/")) == [200] * 8

    asyncio.run(run())
