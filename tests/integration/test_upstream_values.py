"""Client values that become part of an upstream request never reach the wire unchecked.

Every provider is pointed at a raw listener that records the bytes it is sent: a key
holding CR/LF (a smuggled header or a whole second request), NUL, a space or non-ASCII,
and a model name that would reach another URL, are each a 400 naming the field, and not
one connection is opened. A valid request, the control, does reach the listener.
"""

from __future__ import annotations

import asyncio
import re

import httpx2
import pytest

from dawai.adapters.upstream.http1 import Http1Transport
from tests.conftest import make_settings
from tests.fakes.raw_listener import RawListener

PROVIDERS = {  # provider -> a model that routes to it
    "anthropic": "anthropic/claude-x",
    "openai": "openai/gpt-x",
    "google": "google/gemini-x",
    "local": "local/llama3:8b",
}
ROUTES = ("/api/chat", "/api/stream/chat")
SMUGGLE = "x\r\nContent-Length: 0\r\n\r\nDELETE /api/delete HTTP/1.1\r\nHost: upstream\r\n\r\n"
BAD_KEYS = [
    SMUGGLE,
    "sk-abc\nX-Injected: 1",
    "sk-abc\r",
    "sk-\x00abc",
    "sk-ключ",
    "sk abc",
    "\tsk",
    "k" * 513,
]
BAD_MODELS = [
    "google/../../v1beta/files",
    "google/gemini-x/../../files",
    "google/gemini-x:countTokens",
    "google/gemini%2e%2e%2ffiles",
    "google/gemini-x?key=1",
    "google/gemini-x#x",
    "google/models/gemini-x/extra",
    "gemini-x/../../../files",
    "gemini-x:generateContent",
    "google/./gemini-x",
    "openai/../gpt-x",
    "openai/gpt-x\r\nX-Injected: 1",
    "local/a//b",
    "local/llama3:8b\n",
    "claude x",
    "gpt-4\\..\\x",
]


@pytest.fixture(scope="module")
def listener():
    raw = RawListener().start()
    yield raw
    raw.stop()


@pytest.fixture
def client(client_for, listener, tmp_path):
    config = tmp_path / "dawai.toml"
    config.write_text(
        "[providers.local]\n"
        'kind = "openai-compatible"\n'
        f'base_url = "{listener.base_url}/v1"\n'
        "[reliability]\nmax_retries = 0\n"
    )
    env = {
        "DAWAI_CONFIG": str(config),
        "ANTHROPIC_API_KEY": "sk-ant-server",
        "ANTHROPIC_BASE_URL": listener.base_url,
        "OPENAI_API_KEY": "sk-openai-server",
        "OPENAI_BASE_URL": listener.base_url + "/v1",
        "GEMINI_API_KEY": "AIza-server",
        "GOOGLE_GEMINI_BASE_URL": listener.base_url,
    }
    listener.reset()
    return client_for(make_settings(env))


def _field_of(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_valid_key_reaches_the_listener(client, listener, provider, route):
    """The control: the listener does see what a provider sends, key header included."""
    body = {"message": "hi", "model": PROVIDERS[provider], "apiKeys": {provider: "sk-ok-1"}}
    response = client.post(route, json=body)
    assert response.status_code == 502
    assert len(listener.connections) == 1
    assert re.search(rb"\r\n[a-z-]+: (bearer )?sk-ok-1\r\n", listener.received.lower())


@pytest.mark.parametrize("key", BAD_KEYS)
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_bad_key_is_a_400_naming_it_and_nothing_is_sent(client, listener, provider, route, key):
    model = PROVIDERS[provider]
    for body, field in (
        ({"apiKeys": {provider: key}}, f"apiKeys.{provider}"),
        ({"apiKey": key}, "apiKey"),
    ):
        response = client.post(route, json={"message": "hi", "model": model, **body})
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        # The schema's length limit names a dict value as msgspec does: apiKeys[...].
        assert field in _field_of(response) or "apiKeys[...]" in _field_of(response)
        assert response.json()["request_id"]
        assert key not in response.text and "ключ" not in response.text
    assert listener.connections == []


@pytest.mark.parametrize("route", ROUTES)
def test_a_bad_key_for_another_provider_is_refused_too(client, listener, route):
    body = {"message": "hi", "model": "openai/gpt-x", "apiKeys": {"openai": "sk-ok", "google": SMUGGLE}}
    response = client.post(route, json=body)
    assert response.status_code == 400 and _field_of(response) == ["apiKeys.google"]
    assert listener.connections == []


@pytest.mark.parametrize("model", BAD_MODELS)
@pytest.mark.parametrize("route", ROUTES)
def test_a_model_name_that_would_reach_another_url_is_a_400(client, listener, route, model):
    response = client.post(route, json={"message": "hi", "model": model})
    assert response.status_code == 400, response.text
    assert _field_of(response) == ["model"]
    assert listener.connections == []


def test_an_alias_to_a_bad_upstream_name_is_reported_and_refused(client_for, listener, tmp_path):
    config = tmp_path / "dawai.toml"
    config.write_text('[llm.aliases]\nfiles = "google/../../files"\n')
    env = {"DAWAI_CONFIG": str(config), "GEMINI_API_KEY": "AIza", "GOOGLE_GEMINI_BASE_URL": listener.base_url}
    listener.reset()
    response = client_for(make_settings(env)).post("/api/chat", json={"message": "hi", "model": "files"})
    assert response.status_code == 400 and _field_of(response) == ["model"]
    assert listener.connections == []


@pytest.mark.parametrize(
    "headers",
    [
        [(b"X-Test", b"a\r\nX-Injected: 1")],
        [(b"X-Test", b"a\nb")],
        [(b"X-Test", b"a\x00b")],
        [(b"X-Te\r\nst", b"a")],
    ],
)
def test_the_transport_refuses_line_breaks_in_headers_whatever_reaches_it(listener, headers):
    """Below the core's checks: whatever reaches Http1Transport, nothing is written."""

    async def main() -> None:
        transport = Http1Transport()
        request = httpx2.Request("POST", listener.base_url + "/v1/x", headers=headers, content=b"{}")
        try:
            with pytest.raises(httpx2.LocalProtocolError):
                await transport.handle_async_request(request)
        finally:
            await transport.aclose()

    listener.reset()
    asyncio.run(main())
    assert listener.connections == []


def test_a_server_key_with_a_line_break_stops_start_up():
    from dawai.bootstrap.config import ConfigError

    with pytest.raises(ConfigError, match=r"providers\.openai\.api_key \(from OPENAI_API_KEY\)"):
        make_settings({"OPENAI_API_KEY": "sk-abc\n"})
