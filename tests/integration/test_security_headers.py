"""Security headers on every kind of response, and a docs page whose CSP still lets it run."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re

import httpx
import pytest

from dawai.adapters.http.security_headers import API_POLICY
from dawai.bootstrap.lifecycle import app_for
from tests.conftest import make_container, make_settings, upstream_env

COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer", "x-frame-options": "DENY"}


def assert_secured(response: httpx.Response, policy: str = API_POLICY) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.status_code, name)
    assert response.headers.get("content-security-policy") == policy
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_json_problems_preflights_and_refusals_all_carry_them(client_for):
    env = {"DAWAI_API_TOKENS": "a-token", "DAWAI_RATE_LIMIT_OTHER": "4/minute"}
    client = client_for(make_settings(env))
    bearer = {"Authorization": "Bearer a-token"}
    origin = {"Origin": "http://localhost:5173"}
    preflight = {"Access-Control-Request-Method": "POST"}
    responses = [
        client.get("/health"),
        client.head("/health"),
        client.get("/api/models", headers=bearer),  # 200
        client.get("/api/models"),  # 401
        client.get("/api/nothing-here", headers=bearer),  # 404
        client.delete("/api/models", headers=bearer),  # 405
        client.post(
            "/api/chat",
            headers=bearer,
            content=b"{",
        ),  # 415 (no content type)
        client.get("/health", headers={"Host": "evil.example"}),  # 400
        client.get("/health", headers={"X-Big": "x" * 20000}),  # 431
        client.options("/api/chat", headers={**origin, **preflight}),  # 204
        client.options(
            "/api/chat", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
        ),
        client.get("/api/models", headers=bearer),
        client.get("/api/models", headers=bearer),  # 429
    ]
    assert {r.status_code for r in responses} >= {200, 204, 400, 401, 403, 404, 405, 415, 429, 431}
    for response in responses:
        assert_secured(response)


def test_a_refused_address_gets_them_too():
    app = app_for(make_container(make_settings({"DAWAI_IP_DENY": "192.0.2.0/24"})))

    async def run() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("192.0.2.1", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            return await http.get("/health")

    response = asyncio.run(run())
    assert response.status_code == 403
    assert_secured(response)


def test_event_streams_carry_them(client_for, upstream):
    client = client_for(make_settings(upstream_env(upstream)))
    with client.stream(
        "POST", "/api/stream/chat", json={"message": "hi", "model": "claude-3-sonnet"}
    ) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")
        assert_secured(stream)
        assert "[DONE]" in "".join(stream.iter_text())


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("path", ["/schema", "/schema/swagger"])
def test_the_docs_page_runs_under_its_policy(client_for, path):
    client = client_for()
    page = client.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["frame-ancestors"] == ["'none'"] and directives["default-src"] == ["'none'"]
    for name, value in COMMON.items():
        assert page.headers[name] == value
    html = page.text
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
    assert inline, "the page configures Swagger UI in an inline script"
    for script in inline:
        assert _sha256(script) in directives["script-src"]
    assert (
        "'unsafe-inline'" not in directives["script-src"] and "'unsafe-eval'" not in directives["script-src"]
    )
    # Every file the page loads is this server's ('self'), and is served.
    loaded = re.findall(r"<script[^>]*\bsrc=[\"']([^\"']+)", html) + re.findall(
        r"<link[^>]*\bhref=[\"']([^\"']+)", html
    )
    assert len(loaded) >= 4
    for url in loaded:
        assert url.startswith("/schema/assets/"), url
        asset = client.get(url)
        assert asset.status_code == 200 and asset.headers["x-content-type-options"] == "nosniff"
    assert "'self'" in directives["script-src"] and "'self'" in directives["style-src"]
    # Inline <style> in the page, Swagger UI's data: icons and its fetch of the schema.
    assert "<style>" in html and "'unsafe-inline'" in directives["style-src"]
    assert "data:" in directives["img-src"] and directives["connect-src"] == ["'self'"]
    assert page.headers["content-length"] == str(len(page.content))
