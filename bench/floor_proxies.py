"""Reference proxies: what a chat stream costs on this machine with (almost) none of DAWAI
in it.

Each server does the least a streaming chat proxy must do, for the OpenAI wire only:
read ``{"message", "model"}``, send the upstream request on a pooled keep-alive
connection, split the upstream's SSE, decode each chunk and write DAWAI's ``text``
frames and ``[DONE]``. No validation beyond that, no keys, no prompt, no retries.

- ``raw``: an asyncio protocol on uvloop and httptools, no framework.
- ``litestar``: uvicorn and a Litestar handler, as ``dawai serve`` runs; the body goes
  straight to ASGI ``send``.
- ``litestar-sdk``: ``litestar``, but the upstream request goes through the official
  ``openai`` SDK (``client.post``, on DAWAI's ``Http1Transport`` and lean client, the body
  read raw), which every provider call must (DEVELOPERS.md): the least any compliant
  implementation costs on this machine. ``DAWAI_LLM_TRANSPORT=httpx`` puts it on httpx2's
  own transport instead, as it does ``dawai serve``.

They exist to be measured by ``bench/chat_overhead.py --server floor-raw`` (or
``floor-litestar``, ``floor-litestar-sdk``), so that DAWAI's figures can be read against
what the platform itself costs. Never a server to deploy.

    python bench/floor_proxies.py raw|litestar|litestar-sdk --port N --upstream-port M
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import httptools
import msgspec
from litestar import Litestar, get, post
from litestar.response import Response

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from dawai.adapters.upstream.sse_reader import SSEParser

HOST = "127.0.0.1"
UPSTREAM_PORT = 0  # set by main()
DONE = b"data: [DONE]\n\n"


class ChatBody(msgspec.Struct):
    message: str
    model: str


class _Delta(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None


class _Chunk(msgspec.Struct):
    choices: list[_Choice] = []


_decode_body = msgspec.json.Decoder(ChatBody).decode
_decode_chunk = msgspec.json.Decoder(_Chunk).decode
_encode = msgspec.json.Encoder().encode


def upstream_request(body: ChatBody) -> bytes:
    payload = _encode(
        {
            "model": body.model.split("/", 1)[-1],
            "stream": True,
            "messages": [{"role": "user", "content": body.message}],
        }
    )
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {HOST}:{UPSTREAM_PORT}\r\n"
        f"Content-Type: application/json\r\nAuthorization: Bearer floor\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def frames_of(parser: SSEParser, data: bytes) -> bytes:
    out = b""
    for _event, item in parser.feed(data):
        if item == b"[DONE]":
            out += DONE
            continue
        chunk = _decode_chunk(item)
        if chunk.choices and chunk.choices[0].delta and chunk.choices[0].delta.content:
            out += b"data: " + _encode({"type": "text", "content": chunk.choices[0].delta.content}) + b"\n\n"
    return out


class Upstream(asyncio.Protocol):
    """One keep-alive connection to the fake; hands de-chunked SSE frames to ``sink``."""

    idle: ClassVar[list[Upstream]] = []

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.sse = SSEParser()
        self.sink: Callable[[bytes, bool], None] = lambda data, last: None

    @classmethod
    async def take(cls) -> Upstream:
        if cls.idle:
            return cls.idle.pop()
        _, conn = await asyncio.get_running_loop().create_connection(cls, HOST, UPSTREAM_PORT)
        return conn

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        frames = frames_of(self.sse, body)
        if frames:
            self.sink(frames, False)

    def on_message_complete(self) -> None:
        sink, self.sink, self.sse = self.sink, (lambda data, last: None), SSEParser()
        Upstream.idle.append(self)
        sink(b"", True)

    def connection_lost(self, exc: Exception | None) -> None:
        if self in Upstream.idle:
            Upstream.idle.remove(self)


# -- raw -------------------------------------------------------------------------------
_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"


class RawServer(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.body = b""
        self.url = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body += body

    def on_message_complete(self) -> None:
        if self.url == b"/health":
            self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            self.transport.close()
            return
        asyncio.get_running_loop().create_task(self.relay(_decode_body(self.body)))

    async def relay(self, body: ChatBody) -> None:
        upstream = await Upstream.take()
        started = False

        def sink(frames: bytes, last: bool) -> None:
            nonlocal started
            out = b"" if started else _HEAD
            started = True
            if frames:
                out += b"%x\r\n%s\r\n" % (len(frames), frames)
            if last:
                out += b"0\r\n\r\n"
            if not self.transport.is_closing():
                self.transport.write(out)
                if last:
                    self.transport.close()

        upstream.sink = sink
        assert upstream.transport is not None
        upstream.transport.write(upstream_request(body))


async def serve_raw(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(RawServer, HOST, port, backlog=4096)
    gc.collect()
    gc.freeze()  # as dawai serve does (docs/adr/0009)
    await server.serve_forever()


# -- litestar --------------------------------------------------------------------------
class _Relay:
    """The body: straight to ASGI ``send``, as DAWAI's ``SSEResponse`` does."""

    def __init__(self, queue: asyncio.Queue[tuple[bytes, bool]]) -> None:
        self.queue = queue

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        while True:
            frames, last = await self.queue.get()
            await send({"type": "http.response.body", "body": frames, "more_body": not last})
            if last:
                return


class RelayResponse(Response[bytes]):
    def __init__(self, queue: asyncio.Queue[tuple[bytes, bool]]) -> None:
        super().__init__(b"")
        self.queue = queue

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        return _Relay(self.queue)


@post("/api/stream/chat", status_code=200)
async def stream_chat(data: ChatBody) -> RelayResponse:
    upstream = await Upstream.take()
    queue: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()
    upstream.sink = lambda frames, last: queue.put_nowait((frames, last))
    assert upstream.transport is not None
    upstream.transport.write(upstream_request(data))
    return RelayResponse(queue)


# The openai client, post_raw and response_chunks: imported and made on first use, inside
# the server's loop, so the other proxies load none of it and no request pays an import.
_SDK: list[Any] = []
_PUMPS: set[asyncio.Task[None]] = set()


def _sdk() -> tuple[Any, Any, Any]:
    if not _SDK:
        import logging

        import openai

        from dawai.adapters.providers.raw import post_raw
        from dawai.adapters.upstream.clients import http_client_for_sdk
        from dawai.adapters.upstream.http1 import response_chunks
        from dawai.ports.llm import ProviderConfig

        logging.getLogger("httpx2").setLevel(logging.WARNING)  # as in dawai serve

        transport = os.environ.get("DAWAI_LLM_TRANSPORT", "dawai")  # as dawai serve reads it
        http = http_client_for_sdk(
            openai.DefaultAsyncHttpxClient, ProviderConfig("floor", transport=transport)
        )
        base = f"http://{HOST}:{UPSTREAM_PORT}/v1"
        client = openai.AsyncOpenAI(api_key="floor", base_url=base, max_retries=0, http_client=http)
        _SDK.extend((client, post_raw, response_chunks))
    return _SDK[0], _SDK[1], _SDK[2]


@post("/api/stream/chat", status_code=200)
async def stream_chat_sdk(data: ChatBody) -> RelayResponse:
    client, post_raw, response_chunks = _sdk()
    body = {
        "model": data.model.split("/", 1)[-1],
        "stream": True,
        "messages": [{"role": "user", "content": data.message}],
    }
    response = await post_raw(client, "/chat/completions", body, stream=True)
    queue: asyncio.Queue[tuple[bytes, bool]] = asyncio.Queue()

    async def pump() -> None:
        parser = SSEParser()
        try:
            async for chunk in response_chunks(response):
                frames = frames_of(parser, chunk)
                if frames:
                    queue.put_nowait((frames, False))
        finally:
            await response.aclose()
            queue.put_nowait((b"", True))

    task = asyncio.get_running_loop().create_task(pump())
    _PUMPS.add(task)
    task.add_done_callback(_PUMPS.discard)
    return RelayResponse(queue)


@get("/health")
async def health() -> str:
    return "ok"


def main() -> int:
    global UPSTREAM_PORT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("raw", "litestar", "litestar-sdk"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream-port", type=int, required=True)
    args = parser.parse_args()
    UPSTREAM_PORT = args.upstream_port
    if args.kind == "raw":
        import uvloop

        uvloop.run(serve_raw(args.port))
        return 0
    import uvicorn

    app = Litestar([stream_chat_sdk if args.kind == "litestar-sdk" else stream_chat, health])
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=HOST, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
