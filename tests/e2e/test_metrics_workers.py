"""``dawai serve --workers 2`` with no ``PROMETHEUS_MULTIPROC_DIR`` of the operator's: the
server makes its own, so ``/metrics`` from either worker adds up both workers' requests,
and the folder is gone once the server has stopped."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import UNLIMITED_RATES, upstream_env
from tests.e2e.test_rate_limits_workers import burst, workers_of
from tests.e2e.test_server_process import Server
from tests.integration.test_metrics import samples, value

pytestmark = pytest.mark.server


def test_two_workers_metrics_add_up(tmp_path, upstream):
    env = upstream_env(upstream, DAWAI_WORKERS="2", TMPDIR=str(tmp_path), **UNLIMITED_RATES)
    server = Server(env, tmp_path)
    sent, seen = 0, set()
    try:
        for _ in range(10):  # which worker accepts a connection is the kernel's choice
            responses = asyncio.run(burst([server.base], 20))
            assert all(r.status_code == 200 for r in responses)
            sent += len(responses)
            seen |= workers_of(responses)
            if len(seen) == 2:
                break
        assert len(seen) == 2, "one worker took every request of ten bursts"
        assert len(list(tmp_path.glob("dawai-metrics-*"))) == 1
        for _ in range(4):  # each scrape may land on either worker: each sees both
            found = samples(httpx.get(server.base + "/metrics", timeout=10).text)
            labels = {"route": "/api/models", "method": "GET", "status": "2xx"}
            assert value(found, "dawai_http_requests_total", **labels) == sent
    finally:
        server.stop()
    assert not list(tmp_path.glob("dawai-metrics-*"))
    assert "Traceback" not in server.log.read_text()
