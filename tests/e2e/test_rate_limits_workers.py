"""Rate limits across worker processes: ``dawai serve --workers 2`` counting in the real
Redis lets exactly the limit in when twice as many requests arrive at once, whichever
worker takes each; one server's limits hold for another sharing the Redis."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from tests.conftest import upstream_env
from tests.e2e.test_server_process import Server

pytestmark = [pytest.mark.server, pytest.mark.redis]

LIMIT = 20


async def burst(bases: list[str], count: int, token: str | None = None) -> list[httpx.Response]:
    """``count`` requests at once, each on its own connection, spread over ``bases``."""
    headers = {"authorization": f"Bearer {token}"} if token else {}

    async def one(base: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=base, timeout=20, headers=headers) as http:
            return await http.get("/api/models")

    return list(await asyncio.gather(*(one(bases[i % len(bases)]) for i in range(count))))


def workers_of(responses: list[httpx.Response]) -> set[str]:
    """Each process prefixes its request ids with its own 20 hex digits (context.py)."""
    return {r.headers["x-request-id"][:20] for r in responses}


def test_two_workers_share_one_exact_window(tmp_path, upstream, redis_url):
    # Limits count per client, and each token is a client of its own: every burst uses a
    # fresh token, so one server can be tried until both workers took part in one burst
    # (which worker accepts a connection is the kernel's choice).
    tokens = [f"burst-{uuid.uuid4().hex}" for _ in range(10)]
    env = upstream_env(
        upstream,
        DAWAI_WORKERS="2",
        DAWAI_REDIS_URL=redis_url,
        DAWAI_API_TOKENS=",".join(tokens),
        DAWAI_RATE_LIMIT_PREFIX=f"test:{uuid.uuid4().hex}",
        DAWAI_RATE_LIMIT_OTHER=f"{LIMIT}/minute",
    )
    server = Server(env, tmp_path)
    try:
        for token in tokens:
            responses = asyncio.run(burst([server.base], 2 * LIMIT, token))
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200] * LIMIT + [429] * LIMIT
            if len(workers_of(responses)) == 2:
                break
        assert len(workers_of(responses)) == 2, "one worker took every request of ten bursts"
    finally:
        server.stop()
    assert "Traceback" not in server.log.read_text()


def test_two_servers_on_one_redis_count_together(tmp_path, upstream, redis_url):
    env = upstream_env(
        upstream,
        DAWAI_REDIS_URL=redis_url,
        DAWAI_RATE_LIMIT_PREFIX=f"test:{uuid.uuid4().hex}",
        DAWAI_RATE_LIMIT_OTHER=f"{LIMIT}/minute",
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one, two = Server(env, tmp_path / "a"), Server(env, tmp_path / "b")
    try:
        responses = asyncio.run(burst([one.base, two.base], 2 * LIMIT + 4))
    finally:
        one.stop()
        two.stop()
    assert sorted(r.status_code for r in responses) == [200] * LIMIT + [429] * (LIMIT + 4)
    assert len(workers_of(responses)) == 2
