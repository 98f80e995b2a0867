"""The cap on open connections per origin (``upstream.max_connections_per_origin``): requests
over it wait in turn for a connection given back or a slot freed, up to the pool timeout;
the cap is shared by every transport handed the same ``ConnectionSlots``; failures and
cancellations give their slots back."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from dawai.adapters.providers.failures import connection_failure
from dawai.adapters.providers.openai import OpenAIProvider
from dawai.adapters.upstream.clients import upstream_timeout
from dawai.adapters.upstream.http1 import Http1Transport
from dawai.adapters.upstream.slots import ConnectionSlots, PoolExhausted
from dawai.core.errors import UpstreamError
from dawai.core.models import ChatMessage, LLMRequest, TextDelta
from dawai.core.settings import UpstreamLimits
from dawai.ports.llm import ProviderConfig
from tests.conftest import make_settings
from tests.integration.test_http1_transport import Scripted, ok, run


class Held:
    """A server that answers each request (``GET /<name>``) once the test releases that
    name; records the order requests arrive in and the most connections open at once."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.released: dict[str, asyncio.Event] = {}
        self.open = self.most_open = 0
        self.server = Scripted(self._handle)

    def release(self, name: str) -> None:
        self.released.setdefault(name, asyncio.Event()).set()

    async def until_arrived(self, count: int) -> None:
        for _ in range(500):
            if len(self.arrived) >= count:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"{count} requests expected, {self.arrived} arrived")

    async def _handle(self, server, reader, writer) -> None:
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            while True:
                request = await server.read_request(reader)
                name = request.split(b" ", 2)[1].decode().lstrip("/")
                self.arrived.append(name)
                await self.released.setdefault(name, asyncio.Event()).wait()
                writer.write(ok(name.encode()))
        finally:
            self.open -= 1


def _client(transport: Http1Transport, pool: float = 5.0) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=transport, timeout=httpx2.Timeout(5.0, pool=pool))


def _capped(cap: int, slots: ConnectionSlots | None = None) -> Http1Transport:
    return Http1Transport(limits=UpstreamLimits(max_connections_per_origin=cap), connection_slots=slots)


def test_at_the_cap_requests_wait_first_come_first_served_for_the_connections_given_back():
    async def main():
        held = Held()
        async with held.server as server, _client(_capped(2)) as client:
            tasks = []
            for name in "abcde":
                tasks.append(asyncio.create_task(client.get(f"{server.url}/{name}")))
                await asyncio.sleep(0.01)  # they queue in this order
            await held.until_arrived(2)
            for name, arrived in (("b", 3), ("a", 4), ("c", 5), ("d", 5), ("e", 5)):
                held.release(name)
                await held.until_arrived(arrived)
            texts = [(await task).text for task in tasks]
        return held, server.connections, texts

    held, connections, texts = run(main())
    assert texts == list("abcde")
    assert held.arrived == list("abcde")  # the first to wait was the first served
    assert connections == 2 == held.most_open  # the waiters got the connections given back


def test_a_request_waits_no_longer_than_the_pool_timeout_and_says_which_settings():
    async def main():
        held = Held()
        transport = _capped(1)
        async with held.server as server, _client(transport, pool=0.2) as client:
            first = asyncio.create_task(client.get(f"{server.url}/a"))
            await held.until_arrived(1)
            with pytest.raises(PoolExhausted) as waited:
                await client.get(f"{server.url}/b")
            held.release("a")
            held.release("c")
            texts = [(await first).text, (await client.get(f"{server.url}/c")).text]
        return str(waited.value), texts, server.connections

    message, texts, connections = run(main())
    assert "All 1 connections to 127.0.0.1:" in message
    assert "upstream.max_connections_per_origin" in message and "reliability.pool_timeout" in message
    assert texts == ["a", "c"] and connections == 1


def test_the_cap_is_shared_across_transports_and_an_idle_connection_makes_room():
    async def main():
        held = Held()
        slots = ConnectionSlots(1)
        for name in "abcd":
            held.release(name)
        one, other = _client(_capped(1, slots)), _client(_capped(1, slots))
        async with held.server as server, one, other:
            assert (await one.get(f"{server.url}/a")).text == "a"  # left idle in one's pool
            assert (await other.get(f"{server.url}/b")).text == "b"  # closes it to connect
            streamed = await one.send(one.build_request("GET", f"{server.url}/c"), stream=True)
            waiting = asyncio.create_task(other.get(f"{server.url}/d"))
            await asyncio.sleep(0.05)
            assert not waiting.done()  # one's response holds the only slot
            await streamed.aread()
            await streamed.aclose()  # given back: closed, so that other's request gets the slot
            assert (await waiting).text == "d"
        return held.most_open, server.connections

    most_open, connections = run(main())
    assert most_open == 1 and connections == 4


def test_connect_failures_and_cancelled_waits_give_their_slots_back():
    async def main():
        held = Held()
        slots = ConnectionSlots(1)
        transport = _capped(1, slots)
        async with held.server as server, _client(transport, pool=5.0) as client:
            for _ in range(3):
                with pytest.raises(httpx2.ConnectError):
                    await client.get("http://127.0.0.1:9/refused")  # 127.0.0.1:9 is another origin
            first = asyncio.create_task(client.get(f"{server.url}/a"))
            await held.until_arrived(1)
            cancelled = asyncio.create_task(client.get(f"{server.url}/never"))
            await asyncio.sleep(0.05)
            cancelled.cancel()
            with pytest.raises(asyncio.CancelledError):
                await cancelled
            held.release("a")
            held.release("b")
            texts = [(await first).text, (await client.get(f"{server.url}/b")).text]
            loop = asyncio.get_running_loop()
            gate = slots.gate(loop, (b"http", b"127.0.0.1", server.port))
            refused = slots.gate(loop, (b"http", b"127.0.0.1", 9))
            counts = (gate.open, len(gate.waiters), refused.open)
        return texts, counts, held.arrived

    texts, counts, arrived = run(main())
    assert texts == ["a", "b"] and arrived == ["a", "b"]
    assert counts == (1, 0, 0)  # one pooled connection; nobody waits; nothing leaked


def test_no_cap_when_set_to_zero():
    assert ConnectionSlots(0).gate(asyncio.new_event_loop(), (b"http", b"h", 80)) is None


def test_the_settings_reach_the_provider_and_a_full_pool_is_a_clear_upstream_error(upstream):
    settings = make_settings({"DAWAI_UPSTREAM_MAX_CONNECTIONS": "1", "DAWAI_POOL_TIMEOUT": "0.2"})
    assert settings.upstream.max_connections_per_origin == 1
    assert settings.reliability.pool_timeout == 0.2
    config = ProviderConfig(
        "openai", api_key="k", base_url=upstream.openai_base_url, limits=settings.upstream, pool_timeout=0.2
    )
    assert upstream_timeout(config).pool == 0.2

    async def main():
        provider = OpenAIProvider(config)
        request = LLMRequest(
            model="fake+chunks=40+delay=0.05", system="", messages=(ChatMessage("user", "hi"),), max_tokens=9
        )
        stream = provider.stream(request)
        try:
            first = await anext(stream)  # holds the only connection
            with pytest.raises(UpstreamError) as refused:
                await provider.complete(request)
        finally:
            await stream.aclose()
            await provider.aclose()
        return first, refused.value

    first, error = run(main())
    assert isinstance(first, TextDelta)
    assert "No connection to the openai provider was free" in error.detail
    assert "upstream.max_connections_per_origin" in error.detail and not error.retryable


def test_a_pool_timeout_is_found_behind_the_sdks_wrapping():
    wrapped = RuntimeError("the SDK's own error")
    wrapped.__cause__ = PoolExhausted("All 3 connections to h:443 stayed busy (upstream...)")
    error = connection_failure("openai", wrapped, timeout=True)
    assert type(error) is UpstreamError and "All 3 connections" in error.detail
