"""The HTTP adapter's foundation through Litestar's test client."""

from __future__ import annotations

import json

import pytest

from dawai.adapters.http.route_set import API_PREFIXES
from tests.conftest import make_settings

PROBLEM = "application/problem+json"


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert {"type", "title", "status", "detail", "request_id"} <= set(body)
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


@pytest.mark.parametrize("path", ["/", "/health", *(f"{p}/health" for p in API_PREFIXES)])
def test_health_everywhere(client_for, path):
    client = client_for(make_settings({"OPENAI_API_KEY": "sk-proj-" + "x" * 40}))
    response = client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["version"]
    assert body["providers"]["openai"] is True and body["providers"]["anthropic"] is False
    assert "sk-proj" not in response.text
    names = {p["name"]: p for p in body["plugins"]}
    assert names["dawai.anthropic"]["builtin"] is True and names["dawai.anthropic"]["version"]
    assert isinstance(body["voices"], list)


def test_request_id_is_generated_or_echoed(client_for):
    client = client_for()
    generated = client.get("/health").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    weird = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"]
    assert weird != "bad id\twith spaces" and len(weird) == 32
    assert client.get("/nowhere", headers={"X-Request-ID": "r-404"}).json()["request_id"] == "r-404"


def test_unknown_route_is_404_problem(client_for):
    assert_problem(client_for().get("/api/nope"), 404)


def test_wrong_method_is_405_problem(client_for):
    body = assert_problem(client_for().get("/api/chat"), 405)
    assert "GET" in body["detail"]


def test_malformed_json_is_400_problem(client_for):
    response = client_for().post(
        "/api/chat", content=b'{"message": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": 5}, "message"),
        ({"message": ""}, "message"),
        ({"message": "x" * 8001}, "message"),
        ({}, "message"),
        ({"message": "hi", "surprise": 1}, "surprise"),
        ({"message": "hi", "history": [{"role": "robot", "content": "x"}]}, "history"),
        ({"message": "hi", "model": ""}, "model"),
        ({"message": "hi", "apiKeys": "not-a-map"}, "apiKeys"),
    ],
)
def test_validation_errors_name_the_field(client_for, body, field):
    problem = assert_problem(client_for().post("/api/chat", json=body), 400)
    assert problem["errors"], problem
    assert problem["errors"][0]["field"].startswith(field), problem


def test_oversize_body_is_413_and_limit_is_configurable(client_for):
    client = client_for(make_settings({"DAWAI_MAX_BODY_BYTES": "4096"}))
    big = json.dumps({"message": "x" * 5000}).encode()
    assert_problem(client.post("/api/chat", content=big, headers={"content-type": "application/json"}), 413)
    default = client_for()
    huge = b'{"message": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert_problem(default.post("/api/chat", content=huge, headers={"content-type": "application/json"}), 413)


def test_missing_key_is_401_naming_the_setting(client_for):
    for prefix in API_PREFIXES:
        body = assert_problem(client_for().post(f"{prefix}/chat", json={"message": "hi"}), 401)
        assert "ANTHROPIC_API_KEY" in body["detail"]
        body = assert_problem(
            client_for().post(f"{prefix}/stream/chat", json={"message": "hi", "model": "gpt-4"}), 401
        )
        assert "OPENAI_API_KEY" in body["detail"]


def test_cors_allows_the_configured_origin_only(client_for):
    client = client_for(make_settings({"ALLOWED_ORIGINS": "http://localhost:5173,https://daw.example"}))
    preflight = client.options(
        "/api/chat",
        headers={
            "Origin": "https://daw.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://daw.example"
    assert preflight.headers["access-control-max-age"] == "3600"
    allowed_methods = {m.strip() for m in preflight.headers["access-control-allow-methods"].split(",")}
    assert allowed_methods == {"GET", "POST", "OPTIONS"}
    simple = client.get("/health", headers={"Origin": "http://localhost:5173"})
    assert simple.headers["access-control-allow-origin"] == "http://localhost:5173"
    evil = client.get("/health", headers={"Origin": "https://evil.example"})
    assert not any(h.startswith("access-control-") for h in evil.headers)
    evil_preflight = client.options(
        "/api/chat", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert not any(h.startswith("access-control-") for h in evil_preflight.headers)
    assert_problem(evil_preflight, 403)


def test_openapi_documents_every_route_and_schema(client_for):
    client = client_for()
    spec = client.get("/schema/openapi.json").json()
    paths = spec["paths"]
    for prefix in API_PREFIXES:
        for route in ("/chat", "/stream/chat", "/health", "/models"):
            assert prefix + route in paths
    assert "/health" in paths and "/" in paths
    assert "ChatBody" in json.dumps(spec["components"]["schemas"])
    page = client.get("/schema")
    assert page.status_code == 200 and "<html" in page.text.lower()


def test_models_lists_aliases(client_for):
    body = client_for().get("/ai/api/models").json()
    ids = {m["id"] for m in body["models"]}
    assert {"claude-3-sonnet", "gpt-4", "gemini-2.5-pro"} <= ids


def test_api_tokens_guard_everything_but_health_and_docs(client_for, tmp_path):
    import hashlib

    hashed = "sha256:" + hashlib.sha256(b"second-token").hexdigest()
    config = tmp_path / "dawai.toml"
    config.write_text(f'[http]\napi_tokens = ["first-token", "{hashed}"]\n')
    client = client_for(make_settings({"DAWAI_CONFIG": str(config)}))
    assert client.get("/health").status_code == 200
    assert client.get("/schema/openapi.json").status_code == 200
    body = assert_problem(client.get("/api/models"), 401)
    assert "Bearer" in body["detail"]
    assert_problem(client.get("/api/models", headers={"Authorization": "Bearer wrong"}), 401)
    assert_problem(client.get("/api/models", headers={"Authorization": "Basic first-token"}), 401)
    for token in ("first-token", "second-token"):
        assert client.get("/ai/api/models", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    preflight = client.options(
        "/api/chat", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    no_token_cors = client.get("/api/models", headers={"Origin": "http://localhost:5173"})
    assert no_token_cors.status_code == 401
    assert no_token_cors.headers["access-control-allow-origin"] == "http://localhost:5173"


def test_env_tokens(client_for):
    client = client_for(make_settings({"DAWAI_API_TOKENS": "a-token,b-token"}))
    assert client.get("/api/models").status_code == 401
    assert client.get("/api/models", headers={"Authorization": "Bearer b-token"}).status_code == 200


def test_the_api_prefixes_are_the_contracts():
    """The one place the tests pin them; everything else reads ``API_PREFIXES``."""
    assert API_PREFIXES == ("/api", "/ai/api")
