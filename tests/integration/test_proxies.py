"""Proxies from the environment: every SDK client sends through an HTTP forward proxy on
127.0.0.1 when ``HTTP_PROXY`` names one (an https host through its ``CONNECT`` tunnel, with
our TLS context), and straight to the upstream for ``NO_PROXY`` hosts, as httpx2 itself
would."""

from __future__ import annotations

import asyncio
import ssl

import httpx2
import pytest
import trustme

from dawai.adapters.providers.anthropic import AnthropicProvider
from dawai.adapters.providers.gemini import GeminiProvider
from dawai.adapters.providers.openai import OpenAIProvider
from dawai.adapters.upstream import clients
from dawai.adapters.upstream.clients import http_client_for_sdk, proxy_mounts
from dawai.adapters.upstream.http1 import Http1Transport
from dawai.core.models import ChatMessage, Finish, LLMRequest, TextDelta
from dawai.ports.llm import ProviderConfig
from tests.fakes.forward_proxy import ForwardProxy
from tests.fakes.llm_upstream import DEFAULT_REPLY

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def environment(monkeypatch):
    """Set proxy variables (lower and upper case) for one test, none left from outside."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)

    def set_(name: str, value: str) -> None:
        monkeypatch.setenv(name, value)
        monkeypatch.setenv(name.upper(), value)

    return set_


PROVIDERS = {
    "openai": (OpenAIProvider, "/v1"),
    "anthropic": (AnthropicProvider, ""),
    "google": (GeminiProvider, ""),
}


async def _stream(upstream, name: str) -> list[object]:
    cls, suffix = PROVIDERS[name]
    provider = cls(ProviderConfig(name=name, api_key="test-key", base_url=upstream.base_url + suffix))
    request = LLMRequest(
        model="fake+chunks=3", system="", messages=(ChatMessage("user", "hi"),), max_tokens=20
    )
    try:
        return [event async for event in provider.stream(request) if not isinstance(event, Finish)]
    finally:
        await provider.aclose()


def _text(events: list[object]) -> str:
    return "".join(e.content for e in events if isinstance(e, TextDelta))


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_a_proxy_in_the_environment_carries_every_providers_requests(upstream, environment, name):
    async def main():
        async with ForwardProxy() as proxy:
            environment("http_proxy", proxy.url)
            return await _stream(upstream, name), proxy.targets

    events, targets = asyncio.run(main())
    assert _text(events) == DEFAULT_REPLY
    assert len(targets) == 1 and targets[0].startswith(upstream.base_url + "/")


def test_no_proxy_hosts_go_straight_to_the_upstream(upstream, environment):
    async def main():
        async with ForwardProxy() as proxy:
            environment("http_proxy", proxy.url)
            environment("no_proxy", "127.0.0.1")
            return await _stream(upstream, "openai"), proxy.targets

    events, targets = asyncio.run(main())
    assert _text(events) == DEFAULT_REPLY
    assert targets == []


def test_without_a_proxy_nothing_is_mounted(environment):
    assert proxy_mounts() == {}
    environment("https_proxy", "http://proxy.example:3128")
    environment("no_proxy", "localhost")
    mounts = proxy_mounts()
    assert mounts["all://localhost"] is None
    assert not isinstance(mounts["https://"], Http1Transport)
    pool = mounts["https://"]._pool  # no per-client cap on open connections
    assert pool._max_connections is None or pool._max_connections > 10_000


def test_an_https_host_is_reached_through_the_proxys_tunnel_with_our_tls_context(environment, monkeypatch):
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    monkeypatch.setattr(clients, "shared_ssl_context", lambda: trusting)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello")
        await writer.drain()
        writer.close()

    async def main():
        upstream = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_tls)
        port = upstream.sockets[0].getsockname()[1]
        try:
            async with ForwardProxy() as proxy:
                environment("https_proxy", proxy.url)
                async with http_client_for_sdk(httpx2.AsyncClient, 5.0, 2.0) as client:
                    response = await client.get(f"https://127.0.0.1:{port}/v1/models")
                return response.text, proxy.targets, port
        finally:
            upstream.close()

    text, targets, port = asyncio.run(main())
    assert text == "hello"
    assert targets == [f"127.0.0.1:{port}"]
