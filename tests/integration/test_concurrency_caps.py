"""Caps on streams and renders open at once (adapters/http/concurrency.py), through the
whole app over raw ASGI calls that stay open as long as a test wants: per client and in
all, refused before any upstream work, and every slot given back once on every path."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest
from dependency_injector import providers

from dawai.adapters.http.route_set import Slot
from dawai.bootstrap.lifecycle import app_for
from dawai.core.errors import UpstreamError
from dawai.core.models import Finish, TextDelta, Usage
from dawai.core.singing.service import Rendered, SingingService
from tests.conftest import ProviderPlugin, make_container, make_settings
from tests.fakes.providers import ScriptedProvider, factory_for

pytestmark = pytest.mark.timeout(60)

# A first token, then a long wait: the stream stays open until the test ends it.
HELD = [TextDelta("hello "), 30.0, TextDelta("never"), Usage(1, 2), Finish("stop")]
QUICK = [TextDelta("hi"), Usage(1, 1), Finish("stop")]


class Call:
    """One ASGI request, run as a task: its messages as they are sent, and a way to
    disconnect the client."""

    def __init__(self, app: Any, path: str, body: Any, peer: str, headers: dict[str, str]) -> None:
        self.messages: list[dict[str, Any]] = []
        self.started = asyncio.Event()
        self._gone = asyncio.Event()
        self._body_sent = False
        raw_headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        payload = msgspec.json.encode(body)
        raw_headers.append((b"content-length", str(len(payload)).encode()))
        self._payload = payload
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": raw_headers,
            "client": (peer, 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        self.task = asyncio.get_running_loop().create_task(app(scope, self._receive, self._send))

    async def _receive(self) -> dict[str, Any]:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": self._payload, "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        if self._gone.is_set():
            raise OSError("the client is gone")
        self.messages.append(message)
        if message["type"] == "http.response.start":
            self.started.set()

    def disconnect(self) -> None:
        self._gone.set()

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.messages[0]["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])

    async def first_bytes(self) -> None:
        """Until the response has started and a piece of its body is out."""
        while not any(m.get("body") for m in self.messages[1:]):
            await asyncio.sleep(0.005)


class Served:
    def __init__(self, env: dict[str, str], scripts: list[list[Any]] | None = None) -> None:
        self.provider = ScriptedProvider(scripts or [HELD])
        plugin = ProviderPlugin("fake", factory_for(self.provider))
        self.container = make_container(make_settings(env), ("fake", plugin))
        self.app = app_for(self.container)
        self.calls: list[Call] = []

    async def __aenter__(self) -> Served:
        self._lifespan = self.app.lifespan()
        await self._lifespan.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for call in self.calls:
            call.disconnect()
        await asyncio.gather(*(c.task for c in self.calls), return_exceptions=True)
        await self._lifespan.__aexit__(None, None, None)

    def stream(self, peer: str = "192.0.2.1", path: str = "/api/stream/chat", **headers: str) -> Call:
        call = Call(self.app, path, {"message": "hi", "model": "fake/m"}, peer, headers)
        self.calls.append(call)
        return call

    def post(self, path: str, body: Any, peer: str = "192.0.2.1") -> Call:
        call = Call(self.app, path, body, peer, {})
        self.calls.append(call)
        return call

    def in_use(self, slot: Slot = Slot.STREAM) -> int:
        return int(self.container.slot_counters()[slot].in_use)


def caps(**values: int) -> dict[str, str]:
    names = {
        "streams": "DAWAI_MAX_STREAMS",
        "per_client": "DAWAI_MAX_STREAMS_PER_CLIENT",
        "renders": "DAWAI_MAX_RENDERS",
        "renders_per_client": "DAWAI_MAX_RENDERS_PER_CLIENT",
    }
    return {names[k]: str(v) for k, v in values.items()}


def assert_busy(call: Call, setting: str) -> None:
    assert call.status == 503
    assert call.headers["content-type"] == "application/problem+json"
    assert call.headers["retry-after"] == "2"
    problem = json.loads(call.body)
    assert problem["title"] == "Server busy" and problem["request_id"]
    assert setting in problem["detail"]


async def settled(check: Callable[[], bool]) -> None:
    for _ in range(400):
        if check():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("never settled")


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def test_one_client_past_its_cap_is_refused_before_any_upstream_work():
    async def scenario() -> None:
        async with Served(caps(per_client=2)) as served:
            first, second = served.stream(), served.stream()
            await first.first_bytes()
            await second.first_bytes()
            assert served.in_use() == 2
            third = served.stream()
            await third.task
            assert_busy(third, "limits.streams_per_client")
            assert len(served.provider.calls) == 2  # the refused one reached no provider
            # Another client has slots of its own; the agent's stream counts as a stream too.
            other = served.stream(peer="192.0.2.2")
            await other.first_bytes()
            assert other.status == 200
            agent = served.post("/ai/api/stream/agent", {"prompt": "add drums", "model": "fake/m"})
            await agent.task
            assert_busy(agent, "limits.streams_per_client")
            # Non-streamed routes hold no slot.
            plain = served.post("/api/models", {})
            await plain.task
            assert plain.status != 503

    run(scenario)


def test_the_cap_in_all_refuses_every_client():
    async def scenario() -> None:
        async with Served(caps(streams=2, per_client=0)) as served:
            for peer in ("192.0.2.1", "192.0.2.2"):
                await served.stream(peer=peer).first_bytes()
            refused = served.stream(peer="192.0.2.3")
            await refused.task
            assert_busy(refused, "limits.streams)")
            assert served.in_use() == 2

    run(scenario)


def test_a_token_is_one_client_whatever_its_address():
    async def scenario() -> None:
        env = {**caps(per_client=1), "DAWAI_API_TOKENS": "tok-a,tok-b"}
        async with Served(env) as served:
            await served.stream(peer="192.0.2.1", authorization="Bearer tok-a").first_bytes()
            moved = served.stream(peer="192.0.2.9", authorization="Bearer tok-a")
            await moved.task
            assert_busy(moved, "limits.streams_per_client")
            other = served.stream(peer="192.0.2.1", authorization="Bearer tok-b")
            await other.first_bytes()
            assert other.status == 200

    run(scenario)


@pytest.mark.parametrize(
    ("script", "status"),
    [
        (QUICK, 200),  # the normal end
        ([UpstreamError("down", provider="fake")], 502),  # fails before the first byte: a problem
        ([TextDelta("a"), UpstreamError("down", provider="fake")], 200),  # after it: in-band
    ],
    ids=["normal-end", "error-before-first-byte", "error-in-band"],
)
def test_the_slot_is_given_back_once_when_a_stream_ends(script, status):
    async def scenario() -> None:
        async with Served(caps(per_client=1), scripts=[script]) as served:
            for _ in range(3):  # again and again: the one slot comes back each time
                call = served.stream()
                await call.task
                assert call.status == status
                assert served.in_use() == 0
            counter = served.container.slot_counters()[Slot.STREAM]
            assert counter.clients == 0

    run(scenario)


def test_the_slot_is_given_back_once_when_the_client_leaves():
    async def scenario() -> None:
        async with Served(caps(per_client=1)) as served:
            call = served.stream()
            await call.first_bytes()
            assert served.in_use() == 1
            call.disconnect()
            await call.task
            assert served.in_use() == 0
            assert served.provider.cancelled_streams == 1
            # Exactly once: one stream fits again, and a second is refused.
            again = served.stream()
            await again.first_bytes()
            refused = served.stream()
            await refused.task
            assert_busy(refused, "limits.streams_per_client")
            assert served.in_use() == 1

    run(scenario)


def test_the_slot_is_given_back_once_when_the_request_is_cancelled():
    async def scenario() -> None:
        async with Served(caps(per_client=1), scripts=[[60.0, *QUICK]]) as served:
            call = served.stream()  # waiting for its first token: no response yet
            await settled(lambda: len(served.provider.calls) == 1)
            assert served.in_use() == 1
            call.task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call.task
            assert served.in_use() == 0
            served.provider.scripts = [QUICK]
            again = served.stream()
            await again.task
            assert again.status == 200 and served.in_use() == 0

    run(scenario)


class HeldSinging(SingingService):
    """The singing service, with renders that wait until the test lets them finish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.go = asyncio.Event()
        self.renders = 0

    async def synthesize(self, request: Any, progress: Any = None) -> Rendered:
        self.renders += 1
        await self.go.wait()
        return Rendered(b"RIFF", "miss", 1.0)


def test_renders_have_caps_of_their_own():
    async def scenario() -> None:
        async with Served(caps(renders_per_client=1, renders=2, per_client=1)) as served:
            real = served.container.singing_service
            held = providers.Singleton(HeldSinging, *real.args, **real.kwargs)
            served.container.singing_service.override(held)
            singing = served.container.singing_service()
            body = {"notes": [{"pitch": 60, "start": 0, "duration": 1, "lyric": "la"}]}
            first = served.post("/diffsinger/synthesize", body)
            await settled(lambda: singing.renders == 1)
            assert served.in_use(Slot.RENDER) == 1
            same_client = served.post("/ai/api/voice/synthesize", body)
            await same_client.task
            assert_busy(same_client, "limits.renders_per_client")
            second = served.post("/diffsinger/synthesize", body, peer="192.0.2.2")
            await settled(lambda: singing.renders == 2)
            in_all = served.post("/diffsinger/synthesize", body, peer="192.0.2.3")
            await in_all.task
            assert_busy(in_all, "limits.renders)")
            # A stream is another kind of slot: the same client may still open one.
            stream = served.stream()
            await stream.first_bytes()
            assert stream.status == 200
            singing.go.set()
            await first.task
            await second.task
            assert first.status == second.status == 200
            assert served.in_use(Slot.RENDER) == 0 and singing.renders == 2

    run(scenario)


def test_every_event_stream_route_holds_a_stream_slot():
    """A route documented as text/event-stream that forgot its Slot would be uncapped."""
    from tests.conftest import local_client

    container = make_container(make_settings())
    app = app_for(container)
    with local_client(app) as client:
        schema = client.get("/schema/openapi.json").json()
    from dawai.adapters.http.concurrency import SlotRules

    rules = SlotRules.of_routes(app.routes)
    streamed = [
        (path, method)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        and "text/event-stream" in operation.get("responses", {}).get("200", {}).get("content", {})
    ]
    assert streamed, "no streamed route found"
    for path, method in streamed:  # POST for chat and agent, GET for a render job's progress
        assert rules.for_documented(path) is Slot.STREAM, path
        busy = schema["paths"][path][method]["responses"]["503"]
        assert "Retry-After" in busy["headers"]
