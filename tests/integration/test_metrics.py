"""``GET /metrics`` through HTTP: per route template (never a client's path; HEAD too), open
streams, refusals, upstream first tokens and errors per provider, cache lookups, synthesis
speed, ghost-text latency, and label sets that stay the same however clients vary what
they send."""

from __future__ import annotations

import random
import string

from prometheus_client.parser import text_string_to_metric_families

from dawai.adapters.http.metrics import MAX_NAMES, HttpMetrics
from tests.conftest import UNLIMITED_RATES, make_settings, upstream_env


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


def metrics_of(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return samples(response.text)


def value(found, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_head_requests_count_under_their_route(client_for):
    client = client_for()
    assert client.head("/api/models").status_code == 200
    assert client.head("/api/models").status_code == 200
    found = metrics_of(client)
    labels = {"route": "/api/models", "method": "HEAD"}
    assert value(found, "dawai_http_requests_total", status="2xx", **labels) == 2
    assert value(found, "dawai_http_request_duration_seconds_count", **labels) == 2
    assert value(found, "dawai_http_requests_total", route="unmatched", method="HEAD", status="2xx") == 0


def test_upstream_first_token_and_errors_per_provider(client_for, upstream):
    client = client_for(make_settings(upstream_env(upstream, **UNLIMITED_RATES)))
    body = {"message": "hi there", "model": "openai/fake+chunks=3"}
    with client.stream("POST", "/api/stream/chat", json=body) as stream:
        assert "[DONE]" in "".join(stream.iter_text())
    rejected = {"message": "x", "model": "anthropic/fake+status=401"}  # the server's key
    assert client.post("/api/chat", json=rejected).status_code == 502
    limited = {"message": "x", "model": "google/fake+status=429+retry_after=30"}
    assert client.post("/api/chat", json=limited).status_code == 429
    cut = {"message": "one two three four", "model": "openai/fake+chunks=4+error_after=2"}
    with client.stream("POST", "/api/stream/chat", json=cut) as stream:
        assert '"type":"error"' in "".join(stream.iter_text())
    found = metrics_of(client)
    assert value(found, "dawai_upstream_first_token_seconds_count", provider="openai") == 2
    assert value(found, "dawai_upstream_errors_total", provider="anthropic", kind="auth") == 1
    assert value(found, "dawai_upstream_errors_total", provider="google", kind="rate_limited") == 1
    mid_stream = sum(v for (name, labels), v in found.items() if name == "dawai_upstream_errors_total"
                     and dict(labels)["provider"] == "openai")  # fmt: skip
    assert mid_stream == 1
    assert not any("fake" in label for _, labels in found for _, label in labels)  # no model names


def test_cache_lookups_synthesis_speed_and_ghost_latency(client_for, upstream):
    client = client_for(make_settings(upstream_env(upstream, **UNLIMITED_RATES)))
    sung = {"notes": [{"pitch": 60, "start": 0, "duration": 0.5, "lyric": "la"}]}
    assert client.post("/diffsinger/synthesize", json=sung).headers["x-cache"] == "miss"
    assert client.post("/diffsinger/synthesize", json=sung).headers["x-cache"] == "hit"
    song = {"projectId": "song-1", "tracks": [{"id": "p", "name": "Piano", "type": "midi", "notes": [
        {"pitch": 60, "time": 0, "duration": 1}, {"pitch": 64, "time": 0, "duration": 1}]}]}  # fmt: skip
    assert client.post("/api/update-summary", json=song).status_code in (200, 201)
    for project in ("song-1", "no-such-song"):
        chat = {"message": "hi", "model": "openai/fake", "context": {"project": {"id": project}}}
        assert client.post("/api/chat", json=chat).status_code == 200
    typed = "I walk alone through the ci"
    first = client.post("/ghost_text/complete", json={"text": typed}).json()["candidates"]
    assert any(c["text"].startswith("t") for c in first)
    assert client.post("/ghost_text/complete", json={"text": typed + "t"}).status_code == 200
    found = metrics_of(client)
    lookups = "dawai_cache_lookups_total"
    assert value(found, lookups, cache="phrase", result="miss") == 1
    assert value(found, lookups, cache="phrase", result="hit") == 1
    assert value(found, lookups, cache="summary", result="hit") == 1
    assert value(found, lookups, cache="summary", result="miss") == 1
    assert value(found, lookups, cache="ghost_typeahead", result="miss") == 1
    assert value(found, lookups, cache="ghost_typeahead", result="hit") == 1
    assert value(found, "dawai_synthesis_real_time_factor_count", voice="default") == 1
    assert value(found, "dawai_synthesis_real_time_factor_sum", voice="default") > 0
    engines = {dict(labels)["engine"]: v for (name, labels), v in found.items()
               if name == "dawai_ghost_text_seconds_count"}  # fmt: skip
    assert sum(engines.values()) == 1 and len(engines) == 1  # the cached answer asked no engine


def series(found) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    return {key for key in found if not key[0].endswith("_created")}


def hammer(client, rng: random.Random) -> list[str]:
    """Requests with values a client chooses (paths, methods, models, voices, users,
    projects): the tokens it made up, which must never become labels."""
    made: list[str] = []

    def token() -> str:
        made.append("z" + "".join(rng.choices(string.ascii_lowercase + string.digits, k=10)))
        return made[-1]

    for _ in range(8):
        client.request(rng.choice(["GET", "POST", "HEAD", "DELETE"]), f"/api/{token()}/{token()}")
        client.request(token().upper(), "/api/models")  # a method of the client's own
        client.get(f"/diffsinger/voices/{token()}")
        client.post("/api/chat", json={"message": "hi", "model": f"openai/{token()}"})
        client.post("/api/chat", json={"message": "hi", "model": f"{token()}/{token()}"})
        client.post("/api/chat", json={"message": "hi", "model": "openai/fake",
                                       "context": {"project": {"id": token()}}})  # fmt: skip
        note = {"pitch": 60, "start": 0, "duration": 0.2, "lyric": "a"}
        client.post("/diffsinger/synthesize", json={"voice": token(), "notes": [note]})
        client.post("/ghost_text/complete", json={"text": token(), "userId": token()})
        client.delete(f"/ghost_text/users/{token()}")
    return made


def test_label_cardinality_stays_bounded_however_clients_vary_their_values(client_for, upstream):
    client = client_for(make_settings(upstream_env(upstream, **UNLIMITED_RATES)))
    rng = random.Random(14)
    metrics_of(client)  # so that /metrics itself has its series before the first count
    made = hammer(client, rng)
    before = series(metrics_of(client))
    made += hammer(client, rng)  # new paths, methods, models, voices, users: no new series
    response = client.get("/metrics")
    assert series(samples(response.text)) == before
    assert not any(word in response.text for word in made)
    methods = {dict(labels).get("method") for _, labels in series(samples(response.text))} - {None}
    assert methods <= {"GET", "HEAD", "POST", "DELETE", "other"}


def test_configured_names_are_capped():
    metrics = HttpMetrics()
    for i in range(3 * MAX_NAMES):
        metrics.upstream_first_token(f"provider-{i}", 0.01)
        metrics.synthesis(f"voice-{i}", 50.0)
        metrics.ghost_text(f"engine-{i}", 0.001)
    found = samples(metrics.exposition().decode())
    for name, label in (
        ("dawai_upstream_first_token_seconds_count", "provider"),
        ("dawai_synthesis_real_time_factor_count", "voice"),
        ("dawai_ghost_text_seconds_count", "engine"),
    ):
        values = {dict(labels)[label] for metric, labels in found if metric == name}
        assert len(values) == MAX_NAMES + 1 and "other" in values
        assert value(found, name, **{label: "other"}) == 2 * MAX_NAMES
