"""``Http1Transport`` against scripted HTTP/1.1 servers on 127.0.0.1: framing, the pool,
timeouts, broken and cut connections, and through the real SDKs."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable

import httpx2
import openai
import pytest
import trustme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dawai.adapters.upstream.http1 import Http1Transport, response_chunks
from dawai.adapters.upstream.lean_client import lean_client_class

Handler = Callable[["Scripted", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Scripted:
    """A server whose every connection runs ``handler``; counts connections and EOFs."""

    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.requests: list[bytes] = []
        self.client_closed = asyncio.Event()
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> Scripted:
        self._server = await asyncio.start_server(self._run, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def _run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.handler(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes | None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        raw = head + await reader.readexactly(length)
        self.requests.append(raw)
        return raw

    async def wait_for_eof(self, reader: asyncio.StreamReader) -> None:
        while await reader.read(1024):
            pass
        self.client_closed.set()


def run(coro: Awaitable[object]) -> object:
    return asyncio.run(asyncio.wait_for(coro, 10))


def ok(body: bytes, *extra: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n" % len(body)
    return head + b"".join(extra) + b"\r\n" + body


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


def _client(transport: Http1Transport, read: float = 5.0) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=transport, timeout=httpx2.Timeout(read, connect=2.0))


async def _stream(client: httpx2.AsyncClient, url: str) -> httpx2.Response:
    """A GET whose body is left for the test to read (``response_chunks``)."""
    return await client.send(client.build_request("GET", url), stream=True)


def test_request_is_sent_as_given_and_connections_are_reused():
    async def handler(server, reader, writer):
        while True:
            await server.read_request(reader)
            writer.write(ok(b"hello"))

    async def main():
        async with Scripted(handler) as server:
            transport = Http1Transport()
            async with _client(transport) as client:
                for _ in range(3):
                    response = await client.post(server.url + "/v1/x?a=b&c=%20", content=b'{"k": 1}')
                    assert (response.status_code, response.text) == (200, "hello")
            return server

    server = run(main())
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /v1/x?a=b&c=%20 HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in first and b"\r\nContent-Length: 8\r\n" in first
    assert first.endswith(b'\r\n\r\n{"k": 1}')


def test_chunks_arrive_as_they_are_sent():
    async def main():
        gate = asyncio.Event()

        async def handler(server, reader, writer):
            await server.read_request(reader)
            writer.write(CHUNKED_HEAD + chunk(b"data: one\n\n"))
            await gate.wait()
            writer.write(chunk(b"data: two\n\n") + b"0\r\n\r\n")

        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            request = client.build_request("GET", server.url + "/stream")
            response = await client.send(request, stream=True)
            pieces = response_chunks(response)
            first = await anext(pieces)
            gate.set()  # the second piece is only sent once the first was received
            rest = [p async for p in pieces]
            await response.aclose()
        return first, rest

    first, rest = run(main())
    assert first == b"data: one\n\n"
    assert rest == [b"data: two\n\n"]


def test_a_body_delimited_by_close_ends_at_eof_and_is_not_reused():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\npart one, ")
        await writer.drain()
        writer.write(b"part two")
        writer.close()

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            texts = [(await client.get(server.url)).text for _ in range(2)]
        return texts, server

    texts, server = run(main())
    assert texts == ["part one, part two"] * 2
    assert server.connections == 2


def test_an_idle_connection_the_server_closed_is_dropped_or_retried():
    async def hangs_up_when_idle(server, reader, writer):
        await server.read_request(reader)
        writer.write(ok(b"fine"))  # says keep-alive, then hangs up while idle
        await writer.drain()

    async def hangs_up_on_the_next_request(server, reader, writer):
        await server.read_request(reader)
        writer.write(ok(b"fine"))
        if server.connections == 1:  # the race: the close crosses the client's next request
            await server.read_request(reader)
            writer.transport.abort()
            return
        while True:
            await server.read_request(reader)
            writer.write(ok(b"fine"))

    async def main(handler, pause):
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            first = (await client.get(server.url)).text
            await asyncio.sleep(pause)
            second = (await client.get(server.url)).text
        return (first, second), server.connections

    assert run(main(hangs_up_when_idle, 0.05)) == (("fine", "fine"), 2)
    assert run(main(hangs_up_on_the_next_request, 0)) == (("fine", "fine"), 2)


def test_a_stream_cut_mid_body_raises_read_error():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD + chunk(b"data: one\n\n"))
        await writer.drain()
        writer.transport.abort()

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            response = await _stream(client, server.url)
            got = []
            with pytest.raises(httpx2.ReadError):
                async for piece in response_chunks(response):
                    got.append(piece)
            await response.aclose()
        return got

    assert run(main()) == [b"data: one\n\n"]


def test_read_timeouts_before_the_head_and_between_chunks():
    async def silent(server, reader, writer):
        await server.read_request(reader)
        await asyncio.sleep(5)

    async def stalls(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD + chunk(b"data: one\n\n"))
        await asyncio.sleep(5)

    async def main():
        async with Scripted(silent) as server, _client(Http1Transport(), read=0.2) as client:
            with pytest.raises(httpx2.ReadTimeout):
                await client.get(server.url)
        async with Scripted(stalls) as server, _client(Http1Transport(), read=0.2) as client:
            response = await _stream(client, server.url)
            pieces = response_chunks(response)
            assert await anext(pieces) == b"data: one\n\n"
            with pytest.raises(httpx2.ReadTimeout):
                await anext(pieces)
            await response.aclose()

    run(main())


def test_closing_a_response_early_closes_the_connection():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD + chunk(b"data: one\n\n"))
        await server.wait_for_eof(reader)

    async def main():
        async with Scripted(handler) as server:
            transport = Http1Transport()
            async with _client(transport) as client:
                response = await _stream(client, server.url)
                assert await anext(response_chunks(response)) == b"data: one\n\n"
                await response.aclose()
                await asyncio.wait_for(server.client_closed.wait(), 2)
                assert not transport._idle.get((b"http", b"127.0.0.1", server.port))

    run(main())


def test_connection_failures_and_garbage_map_to_httpx2_errors():
    async def garbage(server, reader, writer):
        await server.read_request(reader)
        writer.write(b"SPEAK FRIEND AND ENTER\r\n\r\n")

    async def main():
        with contextlib.closing(__import__("socket").socket()) as sock:
            sock.bind(("127.0.0.1", 0))
            closed_port = sock.getsockname()[1]
        async with _client(Http1Transport()) as client:
            with pytest.raises(httpx2.ConnectError):
                await client.get(f"http://127.0.0.1:{closed_port}/")
            with pytest.raises(httpx2.UnsupportedProtocol):
                await client.get("ftp://127.0.0.1/")
        async with Scripted(garbage) as server, _client(Http1Transport()) as client:
            with pytest.raises(httpx2.RemoteProtocolError):
                await client.get(server.url)

    run(main())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(min_size=0, max_size=3000),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=12),
    chunked=st.booleans(),
    trailers=st.booleans(),
)
def test_any_split_of_the_response_gives_the_same_body(body, cuts, chunked, trailers):
    """However the server's bytes are split on the wire, the body comes out whole, and
    trailers (one claiming gzip) never become headers."""
    if chunked:
        pieces = [body[i : i + 700] for i in range(0, len(body), 700)]
        end = b"0\r\ncontent-encoding: gzip\r\nx-t: 1\r\n\r\n" if trailers else b"0\r\n\r\n"
        wire = CHUNKED_HEAD + b"".join(chunk(p) for p in pieces if p) + end
    else:
        wire = ok(body)

    async def handler(server, reader, writer):
        await server.read_request(reader)
        start = 0
        for cut in cuts:
            writer.write(wire[start : start + cut])
            await writer.drain()
            await asyncio.sleep(0)
            start += cut
        writer.write(wire[start:])
        await server.read_request(reader)  # a second request on the same connection
        writer.write(ok(b"again"))

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            response = await client.get(server.url)
            assert "content-encoding" not in response.headers and "x-t" not in response.headers
            second = (await client.get(server.url)).content
        return (response.content, second), server.connections

    assert run(main()) == ((body, b"again"), 1)


def test_a_large_body_passes_the_high_water_mark_intact():
    body = bytes(range(256)) * 12_000  # ~3 MB: reading pauses and resumes

    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(ok(body))
        await writer.drain()

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            response = await _stream(client, server.url)
            await asyncio.sleep(0.2)  # let more than the high-water mark arrive unread
            data = b"".join([p async for p in response_chunks(response)])
            await response.aclose()
        return data

    assert run(main()) == body


def test_the_openai_sdk_maps_transport_failures_to_its_errors():
    """What the SDK makes of our errors is what the provider adapters rely on."""

    async def silent(server, reader, writer):
        await server.read_request(reader)
        await asyncio.sleep(5)

    async def main():
        async with Scripted(silent) as server:
            client = openai.AsyncOpenAI(
                api_key="k",
                base_url=server.url + "/v1",
                max_retries=0,
                http_client=openai.DefaultAsyncHttpxClient(transport=Http1Transport()),
                timeout=httpx2.Timeout(0.2, connect=1.0),
            )
            with pytest.raises(openai.APITimeoutError):
                await client.models.list()
            await client.close()
        client = openai.AsyncOpenAI(
            api_key="k",
            base_url="http://127.0.0.1:9/v1",
            max_retries=0,
            http_client=openai.DefaultAsyncHttpxClient(transport=Http1Transport()),
        )
        with pytest.raises(openai.APIConnectionError):
            await client.models.list()
        await client.close()

    run(main())


def test_every_sdk_adapter_sends_through_a_lean_client_and_closes_its_transport():
    """google-genai leaves a client it was handed open; the adapters close theirs."""
    from dawai.adapters.providers.anthropic import AnthropicProvider
    from dawai.adapters.providers.gemini import GeminiProvider
    from dawai.adapters.providers.openai import OpenAIProvider
    from dawai.ports.llm import ProviderConfig

    async def main():
        closed = []
        for cls, name in (
            (OpenAIProvider, "openai"),
            (AnthropicProvider, "anthropic"),
            (GeminiProvider, "google"),
        ):
            provider = cls(ProviderConfig(name=name, api_key="k", base_url="http://127.0.0.1:9"))
            clients = _http_clients_of(provider)
            assert clients and all(lean_client_class(type(c)) is type(c) for c in clients), name
            transports = [c._transport for c in clients if isinstance(c._transport, Http1Transport)]
            assert transports, name
            await provider.aclose()
            closed.append(all(t._closed for t in transports))
        return closed

    assert run(main()) == [True, True, True]


def _http_clients_of(provider: object) -> list[httpx2.AsyncClient]:
    found = []
    for value in vars(provider).values():
        client = getattr(value, "_client", value)  # the SDK client wraps an httpx2 client
        if isinstance(client, httpx2.AsyncClient):
            found.append(client)
    return found


def test_the_pool_keeps_a_bounded_number_of_idle_connections_and_sweeps_them():
    async def handler(server, reader, writer):
        while True:
            await server.read_request(reader)
            await asyncio.sleep(0.05)  # long enough for the four requests to overlap
            writer.write(ok(b"ok"))

    async def main():
        async with Scripted(handler) as server:
            transport = Http1Transport(max_idle_per_origin=2, keepalive_expiry=0.3)
            origin = (b"http", b"127.0.0.1", server.port)
            async with _client(transport) as client:
                await asyncio.gather(*(client.get(server.url) for _ in range(4)))
                kept = len(transport._idle[origin])
                await client.get(server.url)  # reuses one of them
                reused = server.connections
                await asyncio.sleep(0.6)  # no traffic: the sweeper closes the rest
                swept = len(transport._idle.get(origin, []))
        return kept, reused, swept

    assert run(main()) == (2, 4, 0)


def test_a_transport_outlives_its_event_loop(upstream):
    """A provider built once may serve a later event loop: connections pooled under the
    old loop are dropped, not reused (the fake upstream runs in its own thread)."""
    transport = Http1Transport()
    url = upstream.openai_base_url + "/chat/completions"
    body = b'{"model": "fake", "messages": [{"role": "user", "content": "hi"}]}'

    async def once():
        client = httpx2.AsyncClient(transport=transport)  # not closed: that would close the pool
        response = await client.post(url, content=body)
        return response.status_code, len(transport._idle[(b"http", b"127.0.0.1", upstream.port)])

    assert asyncio.run(once()) == (200, 1)
    assert asyncio.run(once()) == (200, 1)  # the old loop's connection was dropped, a new one pooled


def test_bytes_on_an_idle_connection_drop_it():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(ok(b"fine"))
        await writer.drain()
        await asyncio.sleep(0.02)
        writer.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\n\r\n")  # while idle
        await server.read_request(reader)
        writer.write(ok(b"wrong connection"))

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            first = (await client.get(server.url)).text
            await asyncio.sleep(0.1)
            second = (await client.get(server.url)).text
        return (first, second), server.connections

    assert run(main()) == (("fine", "fine"), 2)


def test_every_stale_connection_in_the_pool_costs_at_most_one_retry():
    """Two pooled connections both closed by the server as the requests cross: the
    request fails over to a fresh connection, never to the other stale one."""
    gate = {"stale": 2}

    async def handler(server, reader, writer):
        await server.read_request(reader)
        await asyncio.sleep(0.05)  # both first requests overlap: two connections
        writer.write(ok(b"fine"))
        if gate["stale"] > 0:
            gate["stale"] -= 1
            await server.read_request(reader)
            writer.transport.abort()  # closes as the next request arrives
            return
        while True:
            await server.read_request(reader)
            writer.write(ok(b"fine"))

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            first = await asyncio.gather(client.get(server.url), client.get(server.url))
            second = (await client.get(server.url)).text
        return ([r.text for r in first], second), server.connections

    assert run(main()) == ((["fine", "fine"], "fine"), 3)


def test_https_with_a_verified_certificate_and_a_refused_one():
    """Real providers are HTTPS: the same exchange over TLS, and an untrusted certificate
    refused as a connection failure (certificates made at test time by trustme)."""
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)

    async def handler(server, reader, writer):
        while True:
            await server.read_request(reader)
            writer.write(CHUNKED_HEAD + chunk(b"data: secret\n\n") + b"0\r\n\r\n")

    async def main():
        async with Scripted(handler, tls=server_tls) as server:
            async with _client(Http1Transport(ssl_context=trusting)) as client:
                texts = [(await client.get(server.url)).text for _ in range(2)]
            async with _client(Http1Transport(ssl_context=ssl.create_default_context())) as client:
                with pytest.raises(httpx2.ConnectError):
                    await client.get(server.url)  # the system trust store does not know our CA
        return texts, server.connections

    # Both requests on one connection; the refused one never got in.
    assert run(main()) == (["data: secret\n\n"] * 2, 1)


def test_an_encoded_body_is_decoded_by_httpx2_whole_or_streamed():
    """Providers may gzip a reply; the raw path is only taken for unencoded bodies."""
    import gzip

    packed = gzip.compress(b"data: squeezed\n\n" * 50)

    async def handler(server, reader, writer):
        while True:
            await server.read_request(reader)
            writer.write(ok(packed, b"content-encoding: gzip\r\n"))

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            whole = (await client.get(server.url)).content
            response = await _stream(client, server.url)
            streamed = b"".join([p async for p in response_chunks(response)])
            await response.aclose()
        return whole, streamed

    assert run(main()) == (b"data: squeezed\n\n" * 50,) * 2


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_a_pooled_connection_already_closing_is_not_written_to(loop_name):
    """A pooled connection whose close is under way (connection_lost not yet delivered)
    costs the request nothing but a new connection, on asyncio and on uvloop (which
    uvicorn serves on): it is skipped, or the request is retried on a fresh one."""
    import uvloop

    async def handler(server, reader, writer):
        while True:
            await server.read_request(reader)
            writer.write(ok(b"fine"))

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            transport = client._transport
            assert (await client.get(server.url)).text == "fine"
            (pooled,) = transport._idle[(b"http", b"127.0.0.1", server.port)]
            pooled.transport.close()  # closing now; connection_lost comes on a later loop turn
            return (await client.get(server.url)).text, server.connections

    runner = uvloop.run if loop_name == "uvloop" else asyncio.run
    assert runner(asyncio.wait_for(main(), 10)) == ("fine", 2)


@pytest.mark.parametrize("together", [False, True])
def test_interim_1xx_responses_are_skipped(together):
    """A 103 Early Hints (or 100 Continue) before the answer: the caller gets the final
    response, with its own headers, and the next request on the connection its own."""

    async def handler(server, reader, writer):
        for n in (1, 2):
            await server.read_request(reader)
            early = b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n"
            final = ok(b"answer %d" % n)
            if together:
                writer.write(early + final)
            else:
                writer.write(early)
                await writer.drain()
                await asyncio.sleep(0.02)
                writer.write(final)

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            first = await client.post(server.url, content=b"1")
            second = await client.post(server.url, content=b"2")
        return first, second, server

    first, second, server = run(main())
    assert (first.status_code, first.text, second.text) == (200, "answer 1", "answer 2")
    assert "link" not in first.headers
    assert server.connections == 1


def test_a_post_on_a_stale_connection_is_not_sent_twice():
    """The server read the POST and closed: it may have acted on it, so the transport
    reports a connection error rather than sending it again (GETs are retried)."""

    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(ok(b"fine"))
        await server.read_request(reader)
        writer.transport.abort()

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            assert (await client.post(server.url, content=b'{"n": 1}')).text == "fine"
            with pytest.raises(httpx2.RemoteProtocolError):
                await client.post(server.url, content=b'{"n": 2}')
        return server

    server = run(main())
    assert [r.split(b"\r\n\r\n", 1)[1] for r in server.requests] == [b'{"n": 1}', b'{"n": 2}']


def test_a_reset_ends_a_close_delimited_body_with_an_error():
    import socket
    import struct

    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: partial")
        await writer.drain()
        await asyncio.sleep(0.05)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST, not FIN: the body did not end

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            response = await _stream(client, server.url)
            with pytest.raises(httpx2.ReadError):
                async for _ in response_chunks(response):
                    pass
            await response.aclose()

    run(main())


def test_the_read_timeout_runs_while_the_reader_waits_not_while_it_works():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD)
        await writer.drain()
        await asyncio.sleep(0.05)  # the reader is already waiting: its timer is set
        writer.write(chunk(b"one"))
        await asyncio.sleep(0.45)  # 0.45 s after "one", but only ~0.2 s after the reader waits
        writer.write(chunk(b"two") + b"0\r\n\r\n")

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport(), read=0.3) as client:
            response = await _stream(client, server.url)
            pieces = response_chunks(response)
            got = [await anext(pieces)]
            await asyncio.sleep(0.25)  # busy elsewhere: not waiting on the upstream
            got += [p async for p in pieces]
            await response.aclose()
        return got

    assert run(main()) == [b"one", b"two"]


@pytest.mark.parametrize(
    "extra",
    [b"HTTP/1.1 408 Request Timeout\r\nx-late: 1\r\ncontent-length: 3\r\n\r\nbad", b"\r\n\r\nnot http"],
    ids=["a second response", "garbage"],
)
def test_bytes_after_the_response_in_the_same_segment_are_dropped_with_the_connection(extra):
    async def handler(server, reader, writer):
        while True:
            await server.read_request(reader)
            writer.write(ok(b"hi") + extra)  # one write: one segment

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            first = await client.get(server.url)
            second = await client.get(server.url)
        return first, second, server

    first, second, server = run(main())
    assert (first.status_code, first.text, second.text) == (200, "hi", "hi")
    assert "x-late" not in first.headers
    assert server.connections == 2  # the first connection was not trusted again


def test_every_sdk_adapter_sends_with_the_configured_connect_and_read_timeouts(upstream):
    """google-genai turns its one timeout into every phase's; the adapters' requests carry
    ``connect_timeout``, ``pool_timeout``, and ``stall_timeout`` as the read timeout between
    bytes, as configured, whatever the SDK."""
    from dawai.adapters.providers.anthropic import AnthropicProvider
    from dawai.adapters.providers.gemini import GeminiProvider
    from dawai.adapters.providers.openai import OpenAIProvider
    from dawai.core.models import ChatMessage, LLMRequest
    from dawai.ports.llm import ProviderConfig

    seen: list[dict] = []

    class Recording(Http1Transport):
        async def handle_async_request(self, request):
            seen.append(dict(request.extensions["timeout"]))
            return await super().handle_async_request(request)

    async def main():
        request = LLMRequest(model="fake", system="", messages=(ChatMessage("user", "hi"),), max_tokens=9)
        for cls, name, suffix in (
            (OpenAIProvider, "openai", "/v1"),
            (AnthropicProvider, "anthropic", ""),
            (GeminiProvider, "google", ""),
        ):
            config = ProviderConfig(
                name=name,
                api_key="k",
                base_url=upstream.base_url + suffix,
                connect_timeout=1.5,
                pool_timeout=3.0,
                read_timeout=42.0,
                stall_timeout=7.0,
            )
            provider = cls(config)
            for client in _http_clients_of(provider):
                client._transport = Recording()
            try:
                async for _ in provider.stream(request):
                    pass
                await provider.complete(request)
            finally:
                await provider.aclose()

    run(main())
    assert len(seen) == 6
    assert all((t["connect"], t["read"], t["pool"]) == (1.5, 7.0, 3.0) for t in seen), seen
