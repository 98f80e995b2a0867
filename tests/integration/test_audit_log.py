"""The audit log (adapters/http/audit.py): one JSON event per AI request, on every audited
route, with the fields the operator reads, and nothing of the request's text unless asked."""

from __future__ import annotations

import asyncio
import io
import json
import re
from pathlib import Path

import pytest

from dawai.adapters.http.audit import AuditLog, AuditRules, AuditSink, client_hasher
from dawai.adapters.http.route_set import Audit
from dawai.bootstrap.lifecycle import app_for
from dawai.core import audit
from dawai.core.settings import AuditSettings
from tests.conftest import make_container, make_settings, upstream_env

MESSAGE = "please make the kick punchier, secret-plan-7781"
LYRIC = "kirakira"
NOTE = {"notes": [{"pitch": 69, "start": 0, "duration": 0.2, "lyric": LYRIC}]}
HEX32 = re.compile(r"^[0-9a-f]{32}$")


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def audited(client_for, upstream, tmp_path):
    """A client whose audit events go to a file; returns (client, read_events)."""

    def make(**env: str):
        upstream.reset()
        path = tmp_path / "audit.jsonl"
        settings = make_settings(upstream_env(upstream, DAWAI_AUDIT_PATH=str(path), **env))
        return client_for(settings), lambda: events(path)

    return make


def one_event(read, response) -> dict:
    found = [e for e in read() if e["request_id"] == response.headers["x-request-id"]]
    assert len(found) == 1, read()
    event = found[0]
    assert event["event"] == "audit" and event["logger"] == "dawai.audit"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$", event["time"])
    assert HEX32.match(event["client"])
    assert event["latency_ms"] >= 0 and "text" not in event
    return event


def test_chat_and_its_stream(audited):
    client, read = audited()
    reply = client.post("/api/chat", json={"message": MESSAGE, "model": "openai/fake"})
    assert reply.status_code == 200
    event = one_event(read, reply)
    assert event["route"] == "/api/chat" and event["method"] == "POST"
    assert (event["provider"], event["model"]) == ("openai", "fake")
    assert (event["status"], event["outcome"], event["stream"]) == (200, "done", False)
    usage = reply.json()["usage"]
    assert (event["input_tokens"], event["output_tokens"]) == (usage["input_tokens"], usage["output_tokens"])
    assert event["cache_hit"] is None

    streamed = client.post(
        "/ai/api/stream/chat", json={"message": MESSAGE, "model": "anthropic/fake+chunks=4"}
    )
    assert streamed.status_code == 200
    event = one_event(read, streamed)
    assert event["route"] == "/ai/api/stream/chat" and event["stream"] is True
    assert (event["provider"], event["model"], event["outcome"]) == ("anthropic", "fake+chunks=4", "done")
    assert event["output_tokens"] and event["first_byte_ms"] <= event["latency_ms"]
    assert MESSAGE not in json.dumps(read())


def test_a_stream_that_ends_with_an_in_band_error_says_so(audited):
    client, read = audited()
    streamed = client.post("/api/stream/chat", json={"message": "hi", "model": "openai/fake+error_after=2"})
    assert streamed.status_code == 200 and '"type":"error"' in streamed.text
    event = one_event(read, streamed)
    assert (event["status"], event["outcome"], event["stream"]) == (200, "error", True)
    assert event["error"]


def test_agent_generate_and_summary(audited):
    client, read = audited()
    for path, body in (
        ("/api/agent", {"prompt": "set the tempo to 100", "model": "local"}),
        ("/api/stream/agent", {"prompt": "set the tempo to 100", "model": "local"}),
        ("/api/generate", {"prompt": "a bass line in A minor", "model": "local"}),
    ):
        response = client.post(path, json=body)
        assert response.status_code == 200, response.text
        event = one_event(read, response)
        assert (event["route"], event["provider"], event["model"]) == (path, "local", "local")
        assert event["outcome"] == "done" and event["stream"] is path.startswith("/api/stream")
    agent = client.post("/api/agent", json={"prompt": "add keys", "model": "openai/fake"})
    event = one_event(read, agent)
    assert (event["provider"], event["model"]) == ("openai", "fake")
    summary = client.post("/api/update-summary", json={"projectId": "p1", "tracks": []})
    assert summary.status_code == 200
    event = one_event(read, summary)
    assert event["route"] == "/api/update-summary" and event["model"] is None and event["outcome"] == "done"


def test_synthesis_and_ghost_text_say_whether_the_cache_answered(audited):
    client, read = audited()
    # The phrase cache answers the same phrase again; the ghost-text cache answers a text
    # typed on by the start of a candidate it gave.
    for path, body, again in (
        ("/diffsinger/synthesize", NOTE, NOTE),
        ("/ghost_text/complete", {"text": "I walk alone through the ci"}, None),
    ):
        first = client.post(path, json=body)
        if again is None:
            again = {"text": body["text"] + first.json()["candidates"][0]["text"][0]}
        second = client.post(path, json=again)
        assert first.status_code == second.status_code == 200
        miss, hit = one_event(read, first), one_event(read, second)
        assert (miss["cache_hit"], hit["cache_hit"]) == (False, True)
        assert miss["route"] == path and miss["model"]
    job = client.post("/diffsinger/jobs", json=NOTE)  # the phrase sung above: done at once
    assert job.status_code == 202
    event = one_event(read, job)
    assert (event["route"], event["status"], event["cache_hit"]) == ("/diffsinger/jobs", 202, True)
    assert LYRIC not in json.dumps(read())


def test_refused_requests_are_audited_with_their_status(audited):
    client, read = audited(DAWAI_API_TOKENS="tok-audit-0123456789abcdef")
    refused = client.post("/api/chat", json={"message": MESSAGE})
    assert refused.status_code == 401
    event = one_event(read, refused)
    assert (event["status"], event["outcome"], event["model"]) == (401, "error", None)
    bad = client.post(
        "/api/chat",
        json={"message": 5},
        headers={"Authorization": "Bearer tok-audit-0123456789abcdef"},
    )
    assert bad.status_code == 400
    assert one_event(read, bad)["status"] == 400
    # A token's client is its name, hashed: another token's name gives another value.
    assert one_event(read, bad)["client"] != one_event(read, refused)["client"]


def test_routes_that_are_not_ai_requests_write_nothing(audited):
    client, read = audited()
    for path in ("/health", "/api/models", "/schema/openapi.json"):
        assert client.get(path).status_code == 200
    assert client.post("/ghost_text/analyze", json={"text": "la la"}).status_code == 200
    assert read() == []


def test_text_only_when_the_operator_asks_and_redacted(audited):
    key_in_prompt = "sk-proj-" + "Q" * 30
    client, read = audited(DAWAI_AUDIT_TEXT="true")
    reply = client.post("/api/chat", json={"message": f"{MESSAGE} {key_in_prompt}", "model": "openai/fake"})
    found = [e for e in read() if e["request_id"] == reply.headers["x-request-id"]]
    assert found[0]["text"]["message"].startswith(MESSAGE) and key_in_prompt not in json.dumps(found)
    sung = client.post("/diffsinger/synthesize", json=NOTE)
    found = [e for e in read() if e["request_id"] == sung.headers["x-request-id"]]
    assert found[0]["text"] == {"lyrics": LYRIC}


def test_the_audited_routes_are_the_ai_routes():
    app = app_for(make_container(make_settings()))
    rules = AuditRules.of_routes(app.routes)
    audited = {p for p in app.openapi_schema.to_schema()["paths"] if rules.for_documented(p) is Audit.ON}
    expected = {
        f"{prefix}/{name}"
        for prefix in ("/api", "/ai/api")
        for name in ("chat", "stream/chat", "agent", "stream/agent", "generate", "update-summary")
    } | {
        "/diffsinger/synthesize",
        "/ai/api/voice/synthesize",
        "/diffsinger/jobs",
        "/ai/api/voice/jobs",
        "/ghost_text/complete",
        "/ai/api/ghost_text/complete",
    }
    assert audited == expected


def test_audit_off_writes_nothing(audited):
    client, read = audited(DAWAI_AUDIT="false")
    assert client.post("/api/chat", json={"message": "hi", "model": "openai/fake"}).status_code == 200
    assert read() == []


def test_a_client_that_leaves_mid_stream_is_a_disconnect():
    """The middleware over a tiny ASGI app that stops writing (as the SSE writer does when
    its client has gone): no final body, so ``disconnect``; the record the app filled is used."""

    async def app(scope, receive, send):
        audit.note_route("openai", "gpt-x")
        audit.note_usage(3, 1)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        await send({"type": "http.response.body", "body": b"data: {}\n\n", "more_body": True})

    out = io.StringIO()
    middleware = AuditLog(
        app, AuditSettings(client_key="k" * 16), AuditRules({"/s": Audit.ON}), AuditSink(stream=out), 1024
    )
    sent: list[dict] = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "path": "/s",
        "method": "POST",
        "headers": [],
        "state": {"dawai.client_ip": "203.0.113.9"},
    }
    asyncio.run(middleware(scope, receive, send))
    event = json.loads(out.getvalue())
    assert (event["outcome"], event["status"], event["stream"]) == ("disconnect", 200, True)
    assert (event["model"], event["input_tokens"], event["output_tokens"]) == ("gpt-x", 3, 1)
    assert event["client"] == client_hasher("k" * 16)("ip:203.0.113.9")
    assert "203.0.113.9" not in out.getvalue()
    assert audit.current() is None  # the record does not outlive the request


def test_client_values_are_keyed():
    assert client_hasher("a" * 16)("ip:10.0.0.1") != client_hasher("b" * 16)("ip:10.0.0.1")
    assert client_hasher("a" * 16)("ip:10.0.0.1") == client_hasher("a" * 16)("ip:10.0.0.1")
