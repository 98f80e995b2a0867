"""``Http1Transport`` against hostile and odd upstreams: limits around the parser (bytes
held counted with tracemalloc, never wall time), the stall timeout, trailers, HEAD, 101,
methods it does not speak, bodies read after close, idle expiry and ALPN."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
import threading
import tracemalloc

import httpx2
import pytest
import trustme

from dawai.adapters.upstream.http1 import Http1Transport, ResponseTooLarge, response_chunks
from dawai.core.errors import DawaiError, UpstreamError
from dawai.core.models import ChatMessage, LLMRequest
from dawai.core.settings import UpstreamLimits
from dawai.ports.llm import ProviderConfig
from tests.integration.test_http1_transport import CHUNKED_HEAD, Scripted, _client, _stream, chunk, ok, run

KIB = 1024
READ = 256 * KIB  # the most asyncio reads from a socket at once


class RawServer:
    """A blocking server on its own thread that answers every request on a connection
    with ``payload`` (built before the test measures anything, sent without copies), then
    waits for the client to leave."""

    def __init__(self, payload: bytes, *, hold: bool = True) -> None:
        self.payload = payload
        self.hold = hold
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                try:
                    request = b""
                    while b"\r\n\r\n" not in request:
                        got = conn.recv(65536)
                        if not got:
                            break
                        request += got
                    conn.sendall(memoryview(self.payload))
                    while self.hold and conn.recv(65536):
                        pass
                except OSError:
                    pass


def _peak_during(coro_factory) -> tuple[object, int]:
    """What ``coro_factory()`` returns (or raises, as the exception) and the most bytes
    Python held above where it started, on every thread."""

    async def main():
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            try:
                outcome: object = await coro_factory()
            except Exception as exc:
                outcome = exc
            return outcome, tracemalloc.get_traced_memory()[1] - start
        finally:
            tracemalloc.stop()

    return run(main())  # type: ignore[return-value]


async def _get(url: str, transport: Http1Transport | None = None) -> httpx2.Response:
    async with _client(transport or Http1Transport()) as client:
        return await client.get(url)


# -- limits -------------------------------------------------------------------------------


def test_a_response_head_that_never_ends_fails_at_the_cap_holding_little_more():
    """10x the head cap in one header line that never ends: a clear error, not a wait
    for the read timeout with every byte kept (2 GB and a core, before)."""
    cap = UpstreamLimits().max_head_bytes
    payload = b"HTTP/1.1 200 OK\r\nx-endless: " + b"a" * (10 * cap)

    async def request():
        async with _client(Http1Transport(), read=5.0) as client:
            return await client.get(server.url)

    with RawServer(payload) as server:
        outcome, peak = _peak_during(request)
    assert isinstance(outcome, ResponseTooLarge), outcome
    assert "upstream.max_head_bytes" in str(outcome)
    assert peak < cap + 2 * READ, peak


def test_too_many_header_fields_fail():
    limit = UpstreamLimits().max_headers
    head = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n" + b"x-h: 1\r\n" * (10 * limit) + b"\r\nok"
    with RawServer(head) as server:
        outcome, _ = _peak_during(lambda: _get(server.url))
    assert isinstance(outcome, ResponseTooLarge), outcome
    assert "upstream.max_headers" in str(outcome)


def test_a_body_read_whole_is_capped_and_a_streamed_one_is_not():
    cap = 1024 * KIB
    limits = UpstreamLimits(max_body_bytes=cap)
    body = b"x" * (10 * cap)
    payload = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)

    async def whole():
        async with _client(Http1Transport(limits=limits)) as client:
            return await client.get(server.url)

    async def streamed():
        async with _client(Http1Transport(limits=limits)) as client:
            response = await _stream(client, server.url)
            size = 0
            async for piece in response_chunks(response):
                size += len(piece)
            await response.aclose()
            return size

    with RawServer(payload) as server:
        outcome, peak = _peak_during(whole)
        assert isinstance(outcome, ResponseTooLarge), outcome
        assert "upstream.max_body_bytes" in str(outcome)
        # The cap, the transport's high-water mark of unread bytes (1 MiB) and a read.
        assert peak < cap + 1024 * KIB + 2 * READ, peak
        # An SSE reader bounds what it keeps per event itself.
        assert _peak_during(streamed)[0] == len(body)


def test_a_limit_reaches_the_caller_as_an_upstream_error_naming_it(llm_transport):
    """Through the real OpenAI SDK and adapter, on either ``llm.transport``: an
    ``UpstreamError`` whose message names the setting, not an anonymous connection failure."""
    from dawai.adapters.providers.openai import OpenAIProvider

    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n" + b"x-h: 1\r\n" * 1000 + b"\r\n"
    request = LLMRequest(model="m", system="", messages=(ChatMessage("user", "hi"),), max_tokens=9)

    async def main():
        config = ProviderConfig("openai", api_key="k", base_url=server.url + "/v1", transport=llm_transport)
        provider = OpenAIProvider(config)
        try:
            with pytest.raises(UpstreamError) as complete:
                await provider.complete(request)
            with pytest.raises(UpstreamError) as stream:
                async for _ in provider.stream(request):
                    pass
        finally:
            await provider.aclose()
        return complete.value, stream.value

    with RawServer(head, hold=False) as server:
        errors = run(main())
    for error in errors:
        assert "upstream.max_headers" in str(error), error
        assert not error.retryable


# -- the stall timeout ---------------------------------------------------------------------


def test_a_stalled_stream_fails_after_the_stall_timeout_and_a_slow_whole_reply_does_not(llm_transport):
    """On either ``llm.transport``: ``stall_timeout`` between bytes of a stream, not the
    whole-reply ``read_timeout``; a reply sent whole may take longer than it to start."""
    from dawai.adapters.providers.openai import OpenAIProvider

    first = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
    whole = b'{"choices":[{"index":0,"message":{"content":"done"},"finish_reason":"stop"}]}'

    async def handler(server, reader, writer):
        raw = await server.read_request(reader)
        if b'"stream":true' in raw.replace(b" ", b""):
            writer.write(CHUNKED_HEAD + chunk(first))
            await server.wait_for_eof(reader)  # silent until the client leaves
            return
        await asyncio.sleep(0.5)  # longer than the stall timeout before a byte of the head
        writer.write(ok(whole, b"content-type: application/json\r\n"))
        await writer.drain()

    request = LLMRequest(model="m", system="", messages=(ChatMessage("user", "hi"),), max_tokens=9)

    async def main():
        async with Scripted(handler) as server:
            config = ProviderConfig(
                "openai",
                api_key="k",
                base_url=server.url + "/v1",
                read_timeout=300.0,
                stall_timeout=0.2,
                transport=llm_transport,
            )
            provider = OpenAIProvider(config)
            pieces = []
            try:
                with pytest.raises(DawaiError) as stalled:
                    async for event in provider.stream(request):
                        pieces.append(event)
                reply = await provider.complete(request)
            finally:
                await provider.aclose()
            return pieces, stalled.value, reply.text

    pieces, stalled, text = run(main())
    assert [getattr(p, "content", None) for p in pieces] == ["hi"]
    assert "ReadTimeout" in str(stalled)
    assert text == "done"


def test_the_stall_timeout_starts_with_the_body_not_before_its_first_byte():
    """A stream's head may come at once and its first event after the prefill: that wait
    is the whole-reply (and the core's first-token) timeout's, not the stall timeout's."""

    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD)
        await writer.drain()
        await asyncio.sleep(0.5)  # longer than the stall timeout
        writer.write(chunk(b"data: late\n\n") + b"0\r\n\r\n")
        await writer.drain()
        await server.wait_for_eof(reader)

    async def main():
        transport = Http1Transport(head_timeout=30.0)
        async with Scripted(handler) as server, _client(transport, read=0.2) as client:
            response = await _stream(client, server.url)
            pieces = [p async for p in response_chunks(response)]
            await response.aclose()
            return pieces

    assert run(main()) == [b"data: late\n\n"]


# -- framing -------------------------------------------------------------------------------


@pytest.mark.parametrize("split", [False, True])
def test_trailers_are_dropped_however_the_bytes_are_split(split):
    """A trailer saying ``Content-Encoding: gzip`` over a plain body changes nothing."""
    trailer = b"0\r\ncontent-encoding: gzip\r\n\r\n"

    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(CHUNKED_HEAD + chunk(b"plain text"))
        if split:
            await writer.drain()
            await asyncio.sleep(0.05)
        writer.write(trailer)
        await writer.drain()
        await server.wait_for_eof(reader)

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            response = await client.get(server.url)
            return response.content, "content-encoding" in response.headers

    assert run(main()) == (b"plain text", False)


def test_trailers_are_bounded_too():
    endless = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-t: " + b"a" * (
        640 * KIB
    )
    with RawServer(endless) as server:
        outcome, peak = _peak_during(lambda: _get(server.url))
    assert isinstance(outcome, ResponseTooLarge), outcome
    assert peak < 64 * KIB + 3 * READ, peak


def test_a_head_response_ends_at_its_head():
    async def handler(server, reader, writer):
        while True:
            await server.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n")

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport(), read=5.0) as client:
            head = await client.head(server.url)
            after = await client.head(server.url)
            return head.status_code, head.content, head.headers["content-length"], after.status_code

    assert run(main()) == (200, b"", "1234", 200)


def test_a_101_is_an_error():
    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n")
        writer.write(b"\x81\x05hello")
        await server.wait_for_eof(reader)

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            with pytest.raises(httpx2.RemoteProtocolError, match="101"):
                await client.get(server.url)

    run(main())


@pytest.mark.parametrize("method", ["CONNECT", "BREW", "TRACE"])
def test_methods_it_does_not_speak_are_refused_before_anything_is_sent(method):
    async def handler(server, reader, writer):
        await server.wait_for_eof(reader)  # never answers

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport(), read=1.0) as client:
            with pytest.raises(httpx2.UnsupportedProtocol):
                await client.request(method, server.url)
            return server.connections

    assert run(main()) == 0


def test_a_body_read_after_its_response_closed_raises_not_the_next_response():
    async def handler(server, reader, writer):
        for body in (b"first", b"second"):
            await server.read_request(reader)
            writer.write(ok(body))

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            response = await _stream(client, server.url)
            pieces = response_chunks(response)
            first = await anext(pieces)
            await response.aclose()  # the body was whole: its connection goes back to the pool
            second = await _stream(client, server.url)  # on that same connection
            with pytest.raises(httpx2.StreamClosed):
                await anext(pieces)
            rest = [p async for p in response_chunks(second)]
            await second.aclose()
            return first, rest, server.connections

    assert run(main()) == (b"first", [b"second"], 1)


# -- the pool and TLS -----------------------------------------------------------------------


def test_idle_connections_expire_before_common_servers_close_them_unless_told_otherwise():
    transport = Http1Transport()
    assert transport._expiry_of(None) < 5.0  # uvicorn, Node, Apache: 5 s
    assert transport._expiry_of(b"timeout=20, max=100") == 19.0
    assert transport._expiry_of(b"max=5") < 5.0

    async def handler(server, reader, writer):
        while True:
            await server.read_request(reader)
            writer.write(ok(b"hi", b"keep-alive: timeout=1\r\n"))  # gone within a second

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            for _ in range(2):
                assert (await client.get(server.url)).text == "hi"
            return server.connections

    assert run(main()) == 2


def test_tls_offers_http_1_1_only():
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    server_tls.set_alpn_protocols(["h2", "http/1.1"])
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    chosen = []

    async def handler(server, reader, writer):
        chosen.append(writer.get_extra_info("ssl_object").selected_alpn_protocol())
        await server.read_request(reader)
        writer.write(ok(b"tls"))

    async def main():
        async with (
            Scripted(handler, tls=server_tls) as server,
            _client(Http1Transport(ssl_context=trusting)) as client,
        ):
            return (await client.get(server.url)).text

    assert run(main()) == "tls"
    assert chosen == ["http/1.1"]


def test_an_encoded_body_still_decodes_with_limits_in_place():
    packed = gzip.compress(b"data: squeezed\n\n" * 50)

    async def handler(server, reader, writer):
        await server.read_request(reader)
        writer.write(ok(packed, b"content-encoding: gzip\r\n"))

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport()) as client:
            return (await client.get(server.url)).content

    assert run(main()) == b"data: squeezed\n\n" * 50
