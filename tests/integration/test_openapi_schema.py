"""The served OpenAPI schema says what the server does (schemathesis checks the rest against a
real server in tests/e2e/test_schemathesis.py)."""

from __future__ import annotations

from typing import Any

import pytest

from dawai.adapters.http.route_set import API_PREFIXES
from tests.conftest import make_settings

PROBLEM = "application/problem+json"
STREAMS = tuple(f"{prefix}/stream/chat" for prefix in API_PREFIXES)
AGENT_STREAMS = tuple(f"{prefix}/stream/agent" for prefix in API_PREFIXES)
JOB_STREAMS = tuple(f"{prefix}/jobs/{{job_id}}/events" for prefix in ("/diffsinger", "/ai/api/voice"))
CHATS = (*(f"{prefix}/chat" for prefix in API_PREFIXES), *STREAMS)


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]


@pytest.fixture
def spec(client_for) -> dict[str, Any]:
    return client_for().get("/schema/openapi.json").json()


def test_every_error_response_is_a_problem_document(spec):
    for path, method, op in operations(spec):
        errors = {status: r for status, r in op["responses"].items() if int(status) >= 400}
        assert {"400", "431", "500"} <= set(errors), (path, method)
        if method == "head":
            continue  # its statuses are its GET's, without a body (tested below)
        for status, response in errors.items():
            assert list(response["content"]) == [PROBLEM], (path, method, status)
            assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
            assert response["description"]
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "request_id"}
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldProblem"}
    assert "extra" not in problem["properties"]  # Litestar's own 400 body, never sent, is gone


def test_each_route_lists_the_statuses_it_can_send(spec):
    for path in CHATS:
        statuses = set(spec["paths"][path]["post"]["responses"])
        assert statuses == {"200", "400", "401", "413", "415", "429", "431", "500", "502", "503", "504"}
    for path in ("/", "/health", "/api/health"):  # never rate limited
        assert set(spec["paths"][path]["get"]["responses"]) == {"200", "400", "431", "500"}
    assert set(spec["paths"]["/ai/api/models"]["get"]["responses"]) == {"200", "400", "429", "431", "500"}
    rate_limited = spec["paths"]["/api/chat"]["post"]["responses"]["429"]
    assert rate_limited["headers"]["Retry-After"] == {"$ref": "#/components/headers/Retry-After"}


def test_every_get_has_its_head_without_a_body(client_for, spec):
    client = client_for()
    for path, item in spec["paths"].items():
        assert ("head" in item) == ("get" in item), path
        if "head" in item:
            assert set(item["head"]["responses"]) == set(item["get"]["responses"])
            assert not any("content" in r for r in item["head"]["responses"].values())
            if (
                "{" not in path
            ):  # a path parameter's HEAD is its GET's (tests/integration/test_render_jobs.py)
                assert client.head(path).status_code == 200


def test_streams_declare_event_stream_and_their_events(spec):
    for path, method, op in operations(spec):
        if method == "head" or "204" in op["responses"]:
            continue
        if "202" in op["responses"]:  # a render job, created: the job as JSON, and its URL
            assert list(op["responses"]["202"]["content"]) == ["application/json"]
            assert "Location" in op["responses"]["202"]["headers"]
            continue
        ok = op["responses"]["200"]["content"]
        if path in STREAMS or path in AGENT_STREAMS or path in JOB_STREAMS:
            assert list(ok) == ["text/event-stream"]
            data = ok["text/event-stream"]["schema"]["properties"]["data"]
            assert data["if"] == {"const": "[DONE]"}
            events = data["else"]["contentSchema"]["oneOf"]
            names = {e["$ref"].rsplit("/", 1)[1] for e in events}
            expected = {"TextDelta", "Usage", "StreamError"}
            if path in AGENT_STREAMS:
                expected = {"StatusEvent", "ActionEvent", "ResultEvent", "StreamError"}
            if path in JOB_STREAMS:
                expected = {"JobEvent", "StreamError"}
            assert names == expected
        elif path.endswith("/generate"):  # the part as JSON, or as a MIDI file (Accept: audio/midi)
            assert list(ok) == ["application/json", "audio/midi"]
            assert ok["audio/midi"]["schema"]["format"] == "binary"
        elif path == "/metrics":  # Prometheus' text format
            assert list(ok) == ["text/plain; version=0.0.4; charset=utf-8"]
        elif path.endswith("/audio"):  # a render job's phrase, sung
            assert list(ok) == ["audio/wav"]
            assert ok["audio/wav"]["schema"]["format"] == "binary"
        elif path.endswith("/synthesize"):  # the phrase, sung, with its cache headers
            assert list(ok) == ["audio/wav"]
            assert ok["audio/wav"]["schema"]["format"] == "binary"
            assert {"X-Cache", "X-Render-Time-Ms"} <= set(op["responses"]["200"]["headers"])
        else:
            assert list(ok) == ["application/json"], (path, method)
    schemas = spec["components"]["schemas"]
    assert schemas["StreamError"]["properties"]["type"]["const"] == "error"


def test_bodies_refuse_unknown_fields_and_state_every_limit(spec):
    schemas = spec["components"]["schemas"]
    body = schemas["ChatBody"]
    assert body["additionalProperties"] is False
    assert schemas["HistoryItem"]["additionalProperties"] is False
    keys = next(s for s in body["properties"]["apiKeys"]["anyOf"] if s.get("type") == "object")
    assert keys["maxProperties"] == 16 and keys["additionalProperties"]["maxLength"] == 512
    assert body["properties"]["message"] == {"type": "string", "minLength": 1, "maxLength": 8000}
    assert {"claude-3-sonnet", "gpt-4", "gemini-2.5-pro"} <= set(body["properties"]["model"]["examples"])
    for path in CHATS:
        request = spec["paths"][path]["post"]["requestBody"]
        assert request["required"] is True
        body_ref = {"$ref": "#/components/schemas/ChatBody"}
        assert request["content"] == {"application/json": {"schema": body_ref}}


def test_every_response_documents_its_request_id(spec):
    header = spec["components"]["headers"]["X-Request-ID"]
    assert header["required"] is True and header["schema"]["pattern"]
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            assert response["headers"]["X-Request-ID"] == {"$ref": "#/components/headers/X-Request-ID"}, (
                path,
                method,
                status,
            )


def test_api_tokens_add_401_and_bearer_security_except_on_open_paths(client_for, tmp_path):
    config = tmp_path / "dawai.toml"
    config.write_text('[http]\napi_tokens = ["a-token"]\n')
    client = client_for(make_settings({"DAWAI_CONFIG": str(config)}))
    spec = client.get("/schema/openapi.json").json()
    assert spec["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "One of the server's API tokens (`DAWAI_API_TOKENS`).",
    }
    models = spec["paths"]["/api/models"]["get"]
    assert models["security"] == [{"apiToken": []}]
    assert "WWW-Authenticate" in models["responses"]["401"]["headers"]
    chat = spec["paths"]["/api/chat"]["post"]["responses"]["401"]
    assert "provider key" in chat["description"] and "API tokens" in chat["description"]
    for path in ("/", "/health", *(f"{p}/health" for p in API_PREFIXES)):
        health = spec["paths"][path]["get"]
        assert "security" not in health and "401" not in health["responses"]


def test_without_tokens_nothing_claims_a_token(spec):
    assert "securitySchemes" not in spec["components"]
    assert "401" not in spec["paths"]["/api/models"]["get"]["responses"]


def test_the_docs_page_embeds_the_same_schema(client_for):
    client = client_for()
    page = client.get("/schema/swagger").text
    assert "application/problem+json" in page and "text/event-stream" in page


def test_a_route_declaring_litestar_exceptions_still_documents_problems():
    from litestar import Litestar, get
    from litestar.exceptions import NotFoundException
    from litestar.params import FromPath, FromQuery

    from dawai.adapters.http.openapi import refine

    @get("/voices/{voice:str}", raises=[NotFoundException], sync_to_thread=False)
    def voice(voice: FromPath[str], detail: FromQuery[bool] = False) -> dict[str, str]:
        return {}

    source = Litestar([voice]).openapi_schema.to_schema()
    spec = refine(source, bodies={}, guarded=lambda path: False)
    responses = spec["paths"]["/voices/{voice}"]["get"]["responses"]
    for status in ("400", "404", "431", "500"):
        assert list(responses[status]["content"]) == [PROBLEM], status
    assert "parameter" in responses["400"]["description"]


def test_the_default_model_is_one_fact(client_for):
    client = client_for()
    spec = client.get("/schema/openapi.json").json()
    listed = client.get("/api/models").json()
    assert spec["components"]["schemas"]["ChatBody"]["properties"]["model"]["default"] == listed["default"]
    assert listed["default"] in {m["id"] for m in listed["models"]}
