"""Request-side hardening through Litestar's test client: JSON bodies (depth, emptiness,
media type), allowed Host names, head size, HEAD on GET routes, CORS request ids."""

from __future__ import annotations

import asyncio
import json

import pytest

from dawai.adapters.http.route_set import API_PREFIXES
from dawai.bootstrap.lifecycle import app_for
from tests.conftest import local_client, make_container, make_settings
from tests.integration.test_http_foundation import assert_problem

CHAT_ROUTES = [f"{prefix}{route}" for prefix in API_PREFIXES for route in ("/chat", "/stream/chat")]
JSON = {"content-type": "application/json"}


def nested(depth: int) -> bytes:
    return b'{"message": "hi", "context": {"deep": ' + b"[" * (depth - 2) + b"]" * (depth - 2) + b"}}"


@pytest.mark.parametrize("route", CHAT_ROUTES)
def test_deep_json_is_a_400_naming_the_limit(client_for, route):
    client = client_for()
    for depth in (65, 1_000, 100_000):
        body = assert_problem(client.post(route, content=nested(depth), headers=JSON), 400)
        assert body["type"] == "https://dawai.dev/problems/invalid-request"
        assert "more than 64 deep" in body["detail"], body
    # 64 levels is allowed: the request goes on to the key check.
    assert_problem(client.post(route, content=nested(64), headers=JSON), 401)


@pytest.mark.parametrize("route", CHAT_ROUTES)
def test_empty_body_says_so(client_for, route):
    body = assert_problem(client_for().post(route, content=b"", headers=JSON), 400)
    assert body["detail"].startswith("The request body is empty;"), body


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"message": ', "not valid JSON"),
        (b'{"message": "\xff\xfe"}', "not valid JSON"),
        (b"[1, 2]", "Expected `object`, got `array`"),
        (b"5", "Expected `object`, got `int`"),
        (b'"just a string"', "Expected `object`, got `str`"),
    ],
)
def test_odd_json_is_a_clear_400(client_for, content, words):
    body = assert_problem(client_for().post("/api/chat", content=content, headers=JSON), 400)
    assert words in body["detail"], body


@pytest.mark.parametrize("route", CHAT_ROUTES)
@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "text/json", None]
)
def test_json_routes_take_only_application_json(client_for, route, content_type):
    headers = {"content-type": content_type} if content_type else {}
    response = client_for().post(route, content=json.dumps({"message": "hi"}).encode(), headers=headers)
    body = assert_problem(response, 415)
    assert body["type"] == "https://dawai.dev/problems/unsupported-media-type"
    assert "application/json" in body["detail"]


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON;Charset=UTF-8"]
)
def test_json_media_type_with_parameters_any_case(client_for, content_type):
    response = client_for().post(
        "/api/chat", content=b'{"message": "hi"}', headers={"content-type": content_type}
    )
    assert_problem(response, 401)  # past the body checks: no provider key


@pytest.mark.parametrize(
    "path", ["/health", "/", "/api/models", "/schema/openapi.json", "/api/chat", "/nowhere"]
)
def test_unknown_host_is_a_400_on_every_path(client_for, path):
    response = client_for().get(path, headers={"Host": "evil.example"})
    body = assert_problem(response, 400)
    assert body["type"] == "https://dawai.dev/problems/host-not-allowed"
    assert "DAWAI_ALLOWED_HOSTS" in body["detail"]


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST.", "[::1]"])
def test_loopback_hosts_are_served_by_default(client_for, host):
    assert client_for().get("/health", headers={"Host": host}).status_code == 200


def test_bind_address_is_allowed_by_default(client_for):
    client = client_for(make_settings({"API_HOST": "192.168.7.7"}))
    assert client.get("/health", headers={"Host": "192.168.7.7:8000"}).status_code == 200
    assert_problem(client.get("/health", headers={"Host": "0.0.0.0:8000"}), 400)
    wildcard = client_for(make_settings({"API_HOST": "0.0.0.0"}))
    assert_problem(wildcard.get("/health", headers={"Host": "0.0.0.0"}), 400)
    assert wildcard.get("/health", headers={"Host": "localhost"}).status_code == 200


def test_allowed_hosts_setting_with_wildcards(client_for):
    client = client_for(make_settings({"DAWAI_ALLOWED_HOSTS": "daw.example.org, *.studio.example"}))
    for host in ("daw.example.org", "DAW.example.org:443", "a.studio.example", "b.a.studio.example:8000"):
        assert client.get("/health", headers={"Host": host}).status_code == 200, host
    for host in (
        "studio.example",
        "localhost",
        "evil.example",
        "daw.example.org.evil.example",
        "xstudio.example",
    ):
        assert_problem(client.get("/health", headers={"Host": host}), 400)
    anything = client_for(make_settings({"DAWAI_ALLOWED_HOSTS": "*"}))
    assert anything.get("/health", headers={"Host": "whatever.example"}).status_code == 200


async def _asgi_get(app, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/health", "raw_path": b"/health", "query_string": b"", "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_missing_or_repeated_host_is_a_400():
    app = app_for(make_container(make_settings()))
    status, body = asyncio.run(_asgi_get(app, []))
    assert status == 400 and b"no Host header" in body
    status, body = asyncio.run(_asgi_get(app, [(b"host", b"localhost"), (b"host", b"evil.example")]))
    assert status == 400 and b"more than one Host" in body


def test_head_over_16_kib_is_431(client_for):
    client = client_for()
    body = assert_problem(client.get("/health", headers={"X-Padding": "a" * 16_500}), 431)
    assert body["type"] == "https://dawai.dev/problems/request-header-fields-too-large"
    assert "16384" in body["detail"]
    assert_problem(client.post("/api/chat", json={"message": "hi"}, headers={"X-Padding": "a" * 16_500}), 431)
    assert_problem(client.get("/health?" + "q=" + "a" * 16_500), 431)
    assert client.get("/health", headers={"X-Padding": "a" * 15_000}).status_code == 200


@pytest.mark.parametrize(
    "path", ["/", "/health", "/api/health", "/ai/api/models", "/schema/openapi.json", "/schema"]
)
def test_head_on_every_get_route(client_for, path):
    client = client_for()
    got = client.get(path)
    head = client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]
    assert head.headers["x-request-id"]


def test_head_on_a_post_route_is_405(client_for):
    response = client_for().head("/api/chat")
    assert response.status_code == 405 and response.content == b""
    assert "POST" in response.headers["allow"]


def test_cors_preflight_allows_the_request_id_header(client_for):
    preflight = client_for().options(
        "/api/chat",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, x-request-id",
        },
    )
    assert preflight.status_code == 204
    allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
    assert {"content-type", "authorization", "x-request-id"} <= allowed


def test_every_route_with_a_json_body_is_checked():
    """A route added later (or one given its own before_request) must not skip the checks."""
    app = app_for(make_container(make_settings()))
    json_routes = [
        (route.path, method)
        for route in app.routes
        for method, handler in getattr(route, "route_handler_map", {}).items()
        if "data" in handler[0].parsed_fn_signature.parameters
    ]
    assert len(json_routes) >= 4
    with local_client(app, raise_server_exceptions=False) as client:
        for path, method in json_routes:
            plain = {"content-type": "text/plain"}
            assert_problem(client.request(method, path, content=b"[" * 100, headers=plain), 415)
            response = client.request(method, path, content=b"[" * 100 + b"]" * 100, headers=JSON)
            assert "more than 64 deep" in assert_problem(response, 400)["detail"], path
