"""Connecting: names resolved through a resolver we count (no network), answers reused for
``dns_ttl`` and bounded in number, concurrent look-ups shared, a failed name forgotten;
Happy Eyeballs across listeners on ::1 and 127.0.0.1; the connect timeout covering the
look-up, TCP and TLS together."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl

import httpx2
import pytest
import trustme

from dawai.adapters.upstream.connect import HostResolver
from dawai.adapters.upstream.http1 import Http1Transport
from tests.conftest import make_settings
from tests.integration.test_http1_transport import ok, run


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")


def _v4(port: int):
    return (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port))


def _v6(port: int):
    return (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("::1", port, 0, 0))


class Counting:
    """A resolver answering from a table (name -> addrinfos), counting its look-ups."""

    def __init__(self, answers: dict[str, list]) -> None:
        self.answers = answers
        self.calls: list[str] = []
        self.gate: asyncio.Event | None = None  # set: look-ups wait for it

    async def __call__(self, host: str, port: int) -> list:
        self.calls.append(host)
        if self.gate is not None:
            await self.gate.wait()
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.answers[host]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Listener:
    """An HTTP server on one address that answers every request with ``Connection: close``
    (so each request needs a connection of its own), counting its connections."""

    def __init__(self, host: str, port: int = 0) -> None:
        self.host, self.port, self.connections = host, port, 0

    async def __aenter__(self) -> Listener:
        self._server = await asyncio.start_server(self._answer, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(ok(self.host.encode(), b"connection: close\r\n"))
            await writer.drain()
        writer.close()


def _stuck_listener(family: int, host: str) -> tuple[socket.socket, list[socket.socket]]:
    """A listener whose backlog is full: a connection attempt to it hangs (its SYNs are
    dropped) until the client gives up, as an unrouted address behaves."""
    server = socket.socket(family)
    server.bind((host, 0))
    server.listen(0)
    filler = socket.socket(family)
    filler.connect(server.getsockname()[:2])
    return server, [filler]


def _client(transport: Http1Transport, connect: float = 5.0) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=transport, timeout=httpx2.Timeout(5.0, connect=connect))


def test_answers_are_reused_for_the_ttl_and_concurrent_look_ups_are_shared():
    async def main():
        async with Listener("127.0.0.1") as server:
            resolver_table = Counting({"api.example.test": [_v4(server.port)]})
            clock = Clock()
            resolver = HostResolver(10.0, resolve=resolver_table, clock=clock)
            url = f"http://api.example.test:{server.port}/"
            async with _client(Http1Transport(host_resolver=resolver)) as client:
                resolver_table.gate = asyncio.Event()
                first = [asyncio.create_task(client.get(url)) for _ in range(20)]
                await asyncio.sleep(0.05)
                resolver_table.gate.set()
                texts = {(await task).text for task in first}
                looked_up = len(resolver_table.calls)  # 20 connections, one look-up
                for _ in range(5):
                    await client.get(url)
                within_ttl = len(resolver_table.calls)
                clock.now += 10.0
                await client.get(url)
            return texts, looked_up, within_ttl, len(resolver_table.calls), server.connections

    texts, looked_up, within_ttl, after_ttl, connections = run(main())
    assert texts == {"127.0.0.1"} and connections == 26
    assert (looked_up, within_ttl, after_ttl) == (1, 1, 2)


def test_the_cache_is_bounded_and_a_ttl_of_zero_keeps_nothing():
    async def main():
        table = Counting({f"h{i}.test": [_v4(80)] for i in range(40)})
        bounded = HostResolver(60.0, resolve=table, max_names=16)
        for i in range(40):
            await bounded.addresses(f"h{i}.test", 80)
        kept = len(bounded)
        await bounded.addresses("h39.test", 80)  # the newest are kept
        newest_reused = len(table.calls) == 40
        off = HostResolver(0.0, resolve=table)
        for _ in range(3):
            await off.addresses("h0.test", 80)
        return kept, newest_reused, len(off), len(table.calls)

    kept, newest_reused, kept_when_off, calls = run(main())
    assert kept == 16 and newest_reused
    assert kept_when_off == 0 and calls == 43


def test_ip_literals_are_never_looked_up():
    async def main():
        table = Counting({})
        resolver = HostResolver(10.0, resolve=table)
        return await resolver.addresses("127.0.0.1", 8080), await resolver.addresses("::1", 443), table.calls

    v4, v6, calls = run(main())
    assert v4 == [_v4(8080)] and v6 == [_v6(443)] and calls == []


def test_a_name_whose_addresses_all_fail_is_asked_again_not_kept():
    async def main():
        async with Listener("127.0.0.1") as server:
            table = Counting({"moved.test": [_v4(9)]})  # nothing listens on port 9
            resolver = HostResolver(60.0, resolve=table)
            async with _client(Http1Transport(host_resolver=resolver)) as client:
                with pytest.raises(httpx2.ConnectError):
                    await client.get(f"http://moved.test:{server.port}/")
                table.answers["moved.test"] = [_v4(server.port)]  # the record changed
                text = (await client.get(f"http://moved.test:{server.port}/")).text
                with pytest.raises(httpx2.ConnectError):
                    await client.get("http://unknown.test/")
            return text, table.calls

    text, calls = run(main())
    assert text == "127.0.0.1" and calls == ["moved.test", "moved.test", "unknown.test"]


@needs_ipv6
@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_happy_eyeballs_prefers_ipv6_and_falls_back_to_ipv4_while_ipv6_hangs(loop_name):
    async def main():
        async with Listener("::1") as v6, Listener("127.0.0.1", v6.port) as v4:
            both = Counting({"dual.test": [_v6(v6.port), _v4(v4.port)]})
            async with _client(Http1Transport(host_resolver=HostResolver(10.0, resolve=both))) as client:
                preferred = (await client.get(f"http://dual.test:{v6.port}/")).text
        stuck, fillers = _stuck_listener(socket.AF_INET6, "::1")
        try:
            port = stuck.getsockname()[1]
            async with Listener("127.0.0.1", port) as v4:
                hanging = Counting({"dual.test": [_v6(port), _v4(port)]})
                transport = Http1Transport(host_resolver=HostResolver(10.0, resolve=hanging))
                # Without Happy Eyeballs the ::1 attempt would hang until the connect timeout.
                async with _client(transport, connect=5.0) as client:
                    fallback = (await client.get(f"http://dual.test:{port}/")).text
        finally:
            for sock in (stuck, *fillers):
                sock.close()
        return preferred, fallback

    if loop_name == "uvloop":
        import uvloop

        preferred, fallback = uvloop.run(main())
    else:
        preferred, fallback = run(main())
    assert (preferred, fallback) == ("::1", "127.0.0.1")


def test_the_connect_timeout_covers_the_look_up_tcp_and_tls():
    async def main():
        never = Counting({"slow-dns.test": [_v4(9)]})
        never.gate = asyncio.Event()  # the look-up never answers
        outcomes = []
        transport = Http1Transport(host_resolver=HostResolver(10.0, resolve=never))
        async with _client(transport, connect=0.2) as client:
            with pytest.raises(httpx2.ConnectTimeout):
                await client.get("http://slow-dns.test/")
            outcomes.append("dns")
            stuck, fillers = _stuck_listener(socket.AF_INET, "127.0.0.1")
            try:
                with pytest.raises(httpx2.ConnectTimeout):
                    await client.get(f"http://127.0.0.1:{stuck.getsockname()[1]}/")
                outcomes.append("tcp")
            finally:
                for sock in (stuck, *fillers):
                    sock.close()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # accepts TCP, never answers the TLS handshake

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        ca = trustme.CA()
        tls = ssl.create_default_context()
        ca.configure_trust(tls)
        try:
            async with _client(Http1Transport(ssl_context=tls), connect=0.2) as client:
                with pytest.raises(httpx2.ConnectTimeout):
                    await client.get(f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}/")
                outcomes.append("tls")
        finally:
            server.close()
        return outcomes

    assert run(main()) == ["dns", "tcp", "tls"]


def test_the_ttl_setting_reaches_the_limits():
    assert make_settings({}).upstream.dns_ttl == 10.0
    assert make_settings({"DAWAI_UPSTREAM_DNS_TTL": "0"}).upstream.dns_ttl == 0.0
