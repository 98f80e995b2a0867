"""``llm.transport = "httpx"``: ``HttpxTransport`` (httpx2's own transport) keeps the
timeouts and limits ``Http1Transport`` keeps, against scripted servers on 127.0.0.1 and
through the real SDKs. The provider contract suite and the provider tests run on both
transports (``tests/conftest.py``'s ``llm_transport``), as do the provider-level stall and
limit tests in test_http1_limits.py."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from dawai.adapters.upstream.http1 import Http1Transport, ResponseTooLarge, response_chunks
from dawai.adapters.upstream.httpx_transport import HttpxTransport
from dawai.core.models import ChatMessage, LLMRequest
from dawai.core.settings import UpstreamLimits
from dawai.ports.llm import ProviderConfig
from tests.conftest import make_settings
from tests.integration.test_http1_limits import RawServer
from tests.integration.test_http1_transport import (
    CHUNKED_HEAD,
    Scripted,
    _client,
    _http_clients_of,
    _stream,
    chunk,
    ok,
    run,
)

REQUEST = LLMRequest(model="m", system="", messages=(ChatMessage("user", "hi"),), max_tokens=9)


def _providers():
    from dawai.adapters.providers.anthropic import AnthropicProvider
    from dawai.adapters.providers.gemini import GeminiProvider
    from dawai.adapters.providers.openai import OpenAIProvider

    return ((OpenAIProvider, "openai"), (AnthropicProvider, "anthropic"), (GeminiProvider, "google"))


@pytest.mark.parametrize(("transport", "kind"), [("dawai", Http1Transport), ("httpx", HttpxTransport)])
def test_one_setting_puts_every_sdk_adapter_on_that_transport(transport, kind):
    settings = make_settings({"DAWAI_LLM_TRANSPORT": transport.upper()})
    assert settings.llm.transport == transport

    async def main():
        closed = []
        for cls, name in _providers():
            provider = cls(
                ProviderConfig(name, api_key="k", base_url="http://127.0.0.1:9", transport=transport)
            )
            transports = [c._transport for c in _http_clients_of(provider)]
            assert transports and all(type(t) is kind for t in transports), (name, transports)
            await provider.aclose()
            closed.append(transports)
        return closed

    run(main())


def test_an_unknown_transport_stops_start_up_naming_the_setting():
    from dawai.bootstrap.config import ConfigError

    with pytest.raises(ConfigError, match=r"llm\.transport.*DAWAI_LLM_TRANSPORT"):
        make_settings({"DAWAI_LLM_TRANSPORT": "aiohttp"})


def test_the_pool_reaches_provider_configs():
    from dawai.core.provider_pool import ProviderPool
    from tests.conftest import make_host

    settings = make_settings({"DAWAI_LLM_TRANSPORT": "httpx"})
    pool = ProviderPool(make_host(settings).catalog, settings)
    entry = make_host(settings).catalog.providers["openai"]
    assert pool._config(entry, None, None).transport == "httpx"


# -- timeouts ------------------------------------------------------------------------------


def test_the_stall_timeout_starts_with_the_body_not_before_its_first_byte():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD)
        await writer.drain()
        await asyncio.sleep(0.5)  # longer than the stall timeout
        writer.write(chunk(b"data: late\n\n") + b"0\r\n\r\n")
        await writer.drain()
        await server.wait_for_eof(reader)

    async def main():
        async with (
            Scripted(handler) as server,
            _client(HttpxTransport(head_timeout=30.0), read=0.2) as client,
        ):
            response = await _stream(client, server.url)
            pieces = [p async for p in response_chunks(response)]
            await response.aclose()
            return pieces

    assert run(main()) == [b"data: late\n\n"]


def test_the_stall_timeout_runs_while_the_reader_waits_not_while_it_works():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD + chunk(b"one"))
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(chunk(b"two"))
        await asyncio.sleep(0.45)  # 0.45 s after "two", but only ~0.2 s after the reader waits
        writer.write(chunk(b"three") + b"0\r\n\r\n")
        await server.wait_for_eof(reader)

    async def main():
        transport = HttpxTransport(head_timeout=30.0)
        async with Scripted(handler) as server, _client(transport, read=0.3) as client:
            response = await _stream(client, server.url)
            pieces = response_chunks(response)
            got = [await anext(pieces), await anext(pieces)]
            await asyncio.sleep(0.25)  # busy elsewhere: not waiting on the upstream
            got += [p async for p in pieces]
            await response.aclose()
        return got

    assert run(main()) == [b"one", b"two", b"three"]


def test_a_stall_is_a_read_timeout_and_other_cancellations_stay_cancellations():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD + chunk(b"one"))
        await writer.drain()
        await server.wait_for_eof(reader)

    async def read_all(client, url):
        response = await _stream(client, url)
        try:
            return [p async for p in response_chunks(response)]
        finally:
            await response.aclose()

    async def main():
        transport = HttpxTransport(head_timeout=30.0)
        async with Scripted(handler) as server, _client(transport, read=0.2) as client:
            with pytest.raises(httpx2.ReadTimeout):
                await read_all(client, server.url)
            task = asyncio.ensure_future(read_all(client, server.url))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await server.client_closed.wait()  # the upstream saw its client leave

    run(main())


# -- limits and framing --------------------------------------------------------------------


def test_a_body_read_whole_is_capped_and_a_streamed_one_is_not():
    limits = UpstreamLimits(max_body_bytes=64 * 1024)
    body = b"x" * (640 * 1024)
    payload = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)

    async def main():
        async with _client(HttpxTransport(limits=limits)) as client:
            with pytest.raises(ResponseTooLarge, match=r"upstream\.max_body_bytes"):
                await client.get(server.url)
            response = await _stream(client, server.url)
            size = sum([len(p) async for p in response_chunks(response)])
            await response.aclose()
            return size

    with RawServer(payload, hold=False) as server:
        assert run(main()) == len(body)


@pytest.mark.parametrize(
    ("head", "setting"),
    [
        (b"x-h: 1\r\n" * 150, "upstream.max_headers"),
        (b"x-big: " + b"a" * 3000 + b"\r\n", "upstream.max_head_bytes"),
    ],
)
def test_heads_past_the_limits_fail_naming_them(head, setting):
    limits = UpstreamLimits(max_head_bytes=2048)
    payload = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n" + head + b"\r\nok"

    async def main():
        async with _client(HttpxTransport(limits=limits)) as client:
            with pytest.raises(ResponseTooLarge, match=setting):
                await client.get(server.url)

    with RawServer(payload, hold=False) as server:
        run(main())


def test_a_101_is_an_error():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n")
        await server.wait_for_eof(reader)

    async def main():
        async with Scripted(handler) as server, _client(HttpxTransport()) as client:
            with pytest.raises(httpx2.RemoteProtocolError):  # h11's own refusal
                await client.get(server.url)

    run(main())


@pytest.mark.parametrize("method", ["CONNECT", "BREW", "TRACE"])
def test_methods_http1_refuses_are_refused_before_anything_is_sent(method):
    async def handler(server, reader, writer):
        await server.wait_for_eof(reader)

    async def main():
        async with Scripted(handler) as server, _client(HttpxTransport(), read=1.0) as client:
            with pytest.raises(httpx2.UnsupportedProtocol):
                await client.request(method, server.url)
            return server.connections

    assert run(main()) == 0


def test_connections_are_reused_and_an_early_close_closes_one():
    async def handler(server, reader, writer):
        while True:
            raw = await server.read_request(reader)
            if b"/stream" in raw:
                writer.write(CHUNKED_HEAD + chunk(b"data: one\n\n"))
                await writer.drain()
                await server.wait_for_eof(reader)
                return
            writer.write(ok(b"hi"))

    async def main():
        async with Scripted(handler) as server, _client(HttpxTransport()) as client:
            texts = [(await client.get(server.url)).text for _ in range(3)]
            response = await _stream(client, server.url + "/stream")
            first = await anext(response_chunks(response))
            await response.aclose()
            await asyncio.wait_for(server.client_closed.wait(), 5)
            return texts, first, server.connections

    texts, first, connections = run(main())
    assert texts == ["hi"] * 3 and first == b"data: one\n\n"
    assert connections == 1  # one connection for all four, closed by the early close


def test_the_connection_cap_holds_and_a_request_past_the_pool_timeout_fails_naming_the_settings():
    """httpcore2 counts the cap per SDK client; a request over it waits for the pool
    timeout, then fails as Http1Transport's does (``PoolExhausted``)."""
    from dawai.adapters.upstream.slots import PoolExhausted

    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD + chunk(b"data: one\n\n"))
        await writer.drain()
        await server.wait_for_eof(reader)  # never ends: the connection stays busy

    async def main():
        transport = HttpxTransport(limits=UpstreamLimits(max_connections_per_origin=1))
        timeout = httpx2.Timeout(5.0, pool=0.2)
        async with (
            Scripted(handler) as server,
            httpx2.AsyncClient(transport=transport, timeout=timeout) as client,
        ):
            first = await _stream(client, server.url)
            with pytest.raises(PoolExhausted, match=r"max_connections_per_origin, reliability\.pool_timeout"):
                await _stream(client, server.url)
            await first.aclose()
            return server.connections

    assert run(main()) == 1
