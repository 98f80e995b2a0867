"""``GET /metrics``: per route template (never a client's path), open streams, refusals."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import make_settings, upstream_env


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_requests_latency_streams_and_refusals(client_for, upstream):
    client = client_for(make_settings(upstream_env(upstream, DAWAI_RATE_LIMIT_OTHER="3/minute")))
    for _ in range(4):
        client.get("/api/models")  # the 4th refused
    for i in range(3):
        client.get(f"/api/no-such-thing-{i}")  # 404s: no path of a client's becomes a label
    body = {"message": "hi", "model": "claude-3-sonnet"}
    with client.stream("POST", "/api/stream/chat", json=body) as stream:
        assert "[DONE]" in "".join(stream.iter_text())
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    requests = "dawai_http_requests_total"
    get, post = ("method", "GET"), ("method", "POST")
    assert found[(requests, (get, ("route", "/api/models"), ("status", "2xx")))] == 3
    assert found[(requests, (get, ("route", "unmatched"), ("status", "4xx")))] >= 2
    assert found[("dawai_rate_limit_refusals_total", (("route_class", "other"),))] >= 1
    assert found[("dawai_http_open_streams", ())] == 0
    streamed = (("method", "POST"), ("route", "/api/stream/chat"), ("status", "2xx"))
    assert found[("dawai_http_requests_total", streamed)] == 1
    assert found[("dawai_http_request_duration_seconds_count", (post, ("route", "/api/stream/chat")))] == 1
    assert not any("no-such-thing" in dict(labels).get("route", "") for _, labels in found)


def test_metrics_need_an_admin_token(client_for):
    client = client_for(make_settings({"DAWAI_API_TOKENS": "user-t,admin:admin-t"}))
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer user-t"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer admin-t"}).status_code == 200
