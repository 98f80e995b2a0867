"""A loopback fake of the Anthropic, OpenAI (and OpenAI-compatible) and Gemini HTTP APIs.

The real SDKs are pointed at it through their base URLs. It is a small HTTP/1.1 server on
plain asyncio streams (keep-alive, chunked SSE), cheap enough to feed a thousand streams.

Behaviour is chosen per request by the **model name**: a base name and ``+``-separated
directives, e.g. ``fake+chunks=5+delay=0.01`` or ``fake+status=429+retry_after=0+fail_times=1``.

=================  ==========================================================================
``chunks=N``       split the reply text into N pieces (by characters; default 4)
``length=N``       make the reply text N characters long (repeated or cut), e.g. so that
                   ``chunks=100`` has 100 pieces to send
``delay=S``        seconds between pieces (default 0)
``first_delay=S``  seconds before the response starts (first-token timeouts)
``status=C``       answer HTTP C (401, 403, 429, 500, 503 ...) with the provider's error body
``echo_key=1``     with status: the error's message repeats the key and the credential headers
                   the request carried (a hostile or careless upstream)
``retry_after=N``  with 429: the ``Retry-After`` header (default 1)
``fail_times=K``   with status: fail only the first K requests for this exact model string
``cut_after=N``    stream N pieces, then drop the connection (no stop signal, no terminator)
``cut_clean=N``    stream N pieces, then end the body properly but without the stop signal
``error_after=N``  stream N pieces, then the provider's own in-stream error event (overloaded,
                   503), then end the body
``continue_after=N`` Gemini: stop after N pieces with ``finishReason: CONTINUATION`` and a
                   ``continuationToken``; a request that sends the token back gets the rest.
                   With ``cut_after``: the N-th piece carries the token as a checkpoint, and
                   the connection drops after it
``raw_error_after=N`` Gemini: N pieces, then an error document as bare JSON lines (no
                   ``data:``), the way the real API cuts some streams
``hold_after=N``   stream N pieces, then hold the rest until ``release()`` is called (or 10 s
                   pass, counted in ``holds_timed_out``): a test can check that its client
                   acted on the first pieces before the stream ended
``blocked=1``      Gemini: the prompt is blocked (``promptFeedback.blockReason: SAFETY``, no
                   candidates), streamed or not
=================  ==========================================================================

**Structured output** is chosen by the request, as each API does: Anthropic's forced tool
(``tool_choice: {"type": "tool", "name": ...}`` naming one of ``tools``), OpenAI's
``response_format: {"type": "json_schema", "json_schema": {"name", "schema", "strict"}}``,
Gemini's ``generationConfig.responseJsonSchema`` with ``responseMimeType:
application/json``. The reply text is then ``STRUCTURED_REPLY`` (or the base model's entry
in ``replies``), sent in each API's own shape: a ``tool_use`` block or ``input_json_delta``
events for Anthropic, the message content for the others; the directives above apply to
it. A reply text that is not JSON (a model answering in prose) reaches an Anthropic
non-streamed request as a text block. A malformed structured request is a 400, as upstream.

Run in-process with ``FakeUpstream().start()`` (a daemon thread with its own loop; with
``tls=`` a server-side ``ssl.SSLContext``, it serves HTTPS), or as a
process for benchmarks: ``python -m tests.fakes.llm_upstream --port 0`` prints
``PORT <n>`` on its first line and serves until SIGTERM (``--replies '{"name": "text"}'``
fills ``replies``). With ``frame_times`` set to a
dict, it records when each frame of a stream was written (``time.monotonic_ns()``, one
clock for every process on the host), per model string: ``bench/agent_latency.py`` reads
it against the client's arrival times.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import signal
import ssl
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_REPLY", "STRUCTURED_REPLY", "Directives", "FakeUpstream", "Received"]

DEFAULT_REPLY = "Hello from the fake. こんにちは、音楽を作りましょう。"
STRUCTURED_REPLY = '{"tempo": 120, "key": "A minor", "mood": "切ない"}'
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    529: "Overloaded",
}


_INT_DIRECTIVES = frozenset(
    {
        "chunks",
        "status",
        "fail_times",
        "cut_after",
        "cut_clean",
        "error_after",
        "continue_after",
        "raw_error_after",
        "blocked",
        "length",
        "hold_after",
        "echo_key",
    }
)


@dataclass
class Directives:
    chunks: int = 4
    delay: float = 0.0
    first_delay: float = 0.0
    status: int = 200
    retry_after: str = "1"
    fail_times: int | None = None
    cut_after: int | None = None
    cut_clean: int | None = None
    error_after: int | None = None
    continue_after: int | None = None
    raw_error_after: int | None = None
    blocked: int = 0
    length: int | None = None
    hold_after: int | None = None
    echo_key: int = 0

    @classmethod
    def parse(cls, model: str) -> Directives:
        found = cls()
        for part in model.split("+")[1:]:
            key, _, value = part.partition("=")
            if key in _INT_DIRECTIVES:
                setattr(found, key, int(value))
            elif key in ("delay", "first_delay"):
                setattr(found, key, float(value))
            elif key == "retry_after":
                found.retry_after = value
        return found


@dataclass
class Received:
    """One request as the fake saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    provider: str
    model: str
    stream: bool
    query: str = ""
    at: float = field(default_factory=time.monotonic)


def _split(text: str, n: int) -> list[str]:
    n = max(1, min(n, len(text)))
    size, extra = divmod(len(text), n)
    pieces, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        pieces.append(text[start:end])
        start = end
    return pieces


def _words(body: Any) -> int:
    """Deterministic 'input tokens': whitespace-separated words in every text field."""
    count = 0
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            count += len(item.split())
        elif isinstance(item, dict):
            stack.extend(v for k, v in item.items() if k not in ("model", "role", "type"))
        elif isinstance(item, list):
            stack.extend(item)
    return count


def _sse(payload: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(payload, ensure_ascii=False) + "\n\n").encode()


# --- the three wire formats --------------------------------------------------------------


def _anthropic_error(status: int) -> dict[str, Any]:
    kind = {
        401: "authentication_error",
        403: "permission_error",
        429: "rate_limit_error",
        529: "overloaded_error",
    }.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": f"fake {kind}"}}


def _anthropic_events(
    model: str, pieces: list[str], tokens_in: int, stop: bool, tool: str | None = None
) -> list[bytes]:
    """A streamed message: text deltas, or with ``tool`` (a forced tool) one ``tool_use``
    block whose input arrives as ``input_json_delta`` pieces, the first one empty as the
    API sends it."""
    if tool is None:
        block: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": p} for p in pieces]
    else:
        block = {"type": "tool_use", "id": "toolu_fake", "name": tool, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in ["", *pieces]]
    frames = [
        _sse(
            {
                "type": "message_start",
                "message": {
                    "id": "msg_fake",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": tokens_in, "output_tokens": 1},
                },
            },
            "message_start",
        ),
        _sse({"type": "content_block_start", "index": 0, "content_block": block}, "content_block_start"),
        _sse({"type": "ping"}, "ping"),
    ]
    frames += [
        _sse({"type": "content_block_delta", "index": 0, "delta": d}, "content_block_delta") for d in deltas
    ]
    if stop:
        frames += [
            _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
            _sse(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "tool_use" if tool else "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": len(pieces)},
                },
                "message_delta",
            ),
            _sse({"type": "message_stop"}, "message_stop"),
        ]
    return frames


def _anthropic_message(model: str, text: str, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
    }


def _openai_error(status: int) -> dict[str, Any]:
    code = {401: "invalid_api_key", 429: "rate_limit_exceeded"}.get(status, "server_error")
    return {"error": {"message": f"fake error {status}", "type": code, "param": None, "code": code}}


def _openai_chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _openai_events(model: str, pieces: list[str], tokens_in: int, stop: bool, usage: bool) -> list[bytes]:
    frames = [
        _sse(_openai_chunk(model, {"role": "assistant", "content": p} if i == 0 else {"content": p}, None))
        for i, p in enumerate(pieces)
    ]
    if stop:
        frames.append(_sse(_openai_chunk(model, {}, "stop")))
        if usage:
            frames.append(
                _sse(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion.chunk",
                        "created": 1,
                        "model": model,
                        "choices": [],
                        "usage": {
                            "prompt_tokens": tokens_in,
                            "completion_tokens": len(pieces),
                            "total_tokens": tokens_in + len(pieces),
                        },
                    }
                )
            )
        frames.append(b"data: [DONE]\n\n")
    return frames


def _openai_completion(model: str, text: str, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
    }


def _gemini_error(status: int) -> dict[str, Any]:
    name = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        429: "RESOURCE_EXHAUSTED",
        503: "UNAVAILABLE",
    }.get(status, "INTERNAL")
    return {"error": {"code": status, "message": f"fake {name}", "status": name}}


def _gemini_response(
    model: str, text: str, finish: str | None, tokens_in: int, tokens_out: int
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {
        "candidates": [candidate],
        "modelVersion": model,
        "usageMetadata": {
            "promptTokenCount": tokens_in,
            "candidatesTokenCount": tokens_out,
            "totalTokenCount": tokens_in + tokens_out,
        },
    }


def _gemini_events(model: str, pieces: list[str], tokens_in: int, stop: bool) -> list[bytes]:
    last = len(pieces) - 1
    return [
        _sse(_gemini_response(model, p, "STOP" if stop and i == last else None, tokens_in, i + 1))
        for i, p in enumerate(pieces)
    ]


def _continuation_token(start: int) -> str:
    """A Gemini continuation token (standard base64, with '+' and '/') for piece ``start``."""
    return base64.b64encode(b"\xfb\xff" + f"continue:{start}".encode()).decode()


def _continuation_start(token: str) -> int:
    """The piece a token sent back names; either base64 alphabet, as Google APIs accept."""
    raw = base64.b64decode(token.replace("-", "+").replace("_", "/") + "==")
    return int(raw.rsplit(b":", 1)[1])


def _forced_tool(body: Any) -> str | None:
    """The tool an Anthropic request forces (``tool_choice`` of type ``tool``), if any."""
    choice = (body or {}).get("tool_choice") or {}
    return choice.get("name") if choice.get("type") == "tool" else None


def _structured(provider: str, body: Any) -> tuple[bool, str | None]:
    """Whether ``body`` asks for structured output in its API's own way, and what is wrong
    with it if the API would refuse it."""
    body = body or {}
    if provider == "anthropic":
        name = _forced_tool(body)
        if name is None:
            return False, None
        tools = {t.get("name"): t for t in body.get("tools") or []}
        if name not in tools:
            return True, f"tool_choice names '{name}', which is not in tools"
        schema = tools[name].get("input_schema")
        if not isinstance(schema, dict) or schema.get("type") != "object":
            return True, "tools.0.input_schema: must be a JSON schema of type object"
        return True, None
    if provider == "openai":
        format_ = body.get("response_format")
        if not format_ or format_.get("type") != "json_schema":
            return False, None
        spec = format_.get("json_schema") or {}
        if not spec.get("name") or not isinstance(spec.get("schema"), dict):
            return True, "response_format.json_schema needs a name and a schema"
        return True, None
    config = body.get("generationConfig") or {}
    if "responseJsonSchema" not in config:
        return False, None
    if config.get("responseMimeType") != "application/json":
        return True, "responseJsonSchema needs responseMimeType application/json"
    if not isinstance(config["responseJsonSchema"], dict):
        return True, "responseJsonSchema must be a JSON schema"
    return True, None


def _is_json(text: str) -> bool:
    """Whether a reply text is JSON (a forced tool's input); prose is sent as a text block."""
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _bad_request(provider: str, message: str) -> dict[str, Any]:
    error = {"anthropic": _anthropic_error, "openai": _openai_error, "gemini": _gemini_error}[provider](400)
    error["error"]["message"] = message
    return error


# --- the server ---------------------------------------------------------------------------


class FakeUpstream:
    def __init__(
        self,
        reply_text: str = DEFAULT_REPLY,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.reply_text = reply_text
        self.tls = tls
        # base model name -> reply text (structured requests get STRUCTURED_REPLY otherwise)
        self.replies: dict[str, str] = {}
        self.host, self.port = host, port
        self.requests: list[Received] = []
        self.record = True
        self.disconnects = 0
        self.active_streams = 0
        self._disconnected = threading.Event()
        self._release = threading.Event()
        self.holds_released = 0
        self.holds_timed_out = 0
        # model string -> time.monotonic_ns() after each frame of its streams was written
        # (the system-wide clock, so another process can compare); None: not recorded
        self.frame_times: dict[str, list[int]] | None = None
        self._fails: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    # -- addresses --------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    anthropic_base_url = base_url  # the SDK appends /v1/messages
    gemini_base_url = base_url  # the SDK appends /{version}/models/...

    @property
    def openai_base_url(self) -> str:
        return self.base_url + "/v1"

    # -- life cycle -------------------------------------------------------------------
    async def serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._connection, self.host, self.port, backlog=4096, ssl=self.tls
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def start(self) -> FakeUpstream:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.serve())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._aclose())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-upstream", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    async def _aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def reset(self) -> None:
        self.requests.clear()
        self.disconnects = 0
        self._disconnected.clear()
        self._release.clear()
        self.holds_released = self.holds_timed_out = 0

    def release(self) -> None:
        """Let a stream held by ``hold_after`` go on (from any thread)."""
        self._release.set()

    async def _hold(self, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while not self._release.is_set():
            if time.monotonic() > deadline:
                self.holds_timed_out += 1
                return
            await asyncio.sleep(0.005)
        self.holds_released += 1

    def wait_for_disconnect(self, timeout: float = 5.0) -> bool:
        """Block (from any thread) until a client dropped a response in progress."""
        return self._disconnected.wait(timeout)

    def _note_disconnect(self) -> None:
        self.disconnects += 1
        self._disconnected.set()

    # -- HTTP -------------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        line = await reader.readline()
        if not line:
            return False
        method, target, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while True:
            raw = await reader.readline()
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int((await reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await reader.readline()
                    break
                body += await reader.readexactly(size + 2)
                body = body[:-2]
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        parsed = json.loads(body) if body else None
        url = urllib.parse.urlsplit(target)
        keep_alive = headers.get("connection", "").lower() != "close"
        return await self._dispatch(method, url, headers, parsed, reader, writer) and keep_alive

    async def _send(
        self, writer: asyncio.StreamWriter, status: int, payload: Any, extra: dict[str, str] | None = None
    ) -> bool:
        data = json.dumps(payload, ensure_ascii=False).encode()
        head = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
            "content-type: application/json",
            f"content-length: {len(data)}",
        ]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + data)
        await writer.drain()
        return True

    async def _dispatch(
        self,
        method: str,
        url: urllib.parse.SplitResult,
        headers: dict[str, str],
        body: Any,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        path = url.path
        if method == "POST" and path.endswith("/messages"):
            provider, model, stream = "anthropic", body.get("model", ""), bool(body.get("stream"))
        elif method == "POST" and path.endswith("/chat/completions"):
            provider, model, stream = "openai", body.get("model", ""), bool(body.get("stream"))
        elif method == "POST" and "/models/" in path and ":" in path.rsplit("/", 1)[-1]:
            model_part, _, action = path.split("/models/", 1)[1].partition(":")
            provider, model = "gemini", urllib.parse.unquote(model_part)
            stream = action == "streamGenerateContent"
        else:
            return await self._send(writer, 404, {"error": {"message": f"no route {method} {path}"}})
        if self.record:
            self.requests.append(Received(method, path, headers, body, provider, model, stream, url.query))
        plan = Directives.parse(model)
        if plan.first_delay and not await self._client_stays(reader, plan.first_delay):
            self._note_disconnect()
            return False
        try:
            if plan.status != 200 and self._should_fail(model, plan):
                error = {"anthropic": _anthropic_error, "openai": _openai_error, "gemini": _gemini_error}[
                    provider
                ]
                extra = {"retry-after": plan.retry_after} if plan.status == 429 else None
                document = error(plan.status)
                if plan.echo_key:
                    carried = [
                        f"{name}: {value}"
                        for name, value in headers.items()
                        if name in ("authorization", "x-api-key", "x-goog-api-key")
                    ]
                    document["error"]["message"] += f" (you sent {'; '.join(carried)} {url.query})"
                return await self._send(writer, plan.status, document, extra)
            structured, malformed = _structured(provider, body)
            if malformed is not None:
                return await self._send(writer, 400, _bad_request(provider, malformed))
            default = STRUCTURED_REPLY if structured else self.reply_text
            text = self.replies.get(model.split("+")[0], default)
            if plan.length is not None:
                text = (text * (plan.length // max(1, len(text)) + 1))[: plan.length]
            tokens_in = _words(body)
            pieces = _split(text, plan.chunks)
            if plan.blocked and provider == "gemini":
                feedback = {"promptFeedback": {"blockReason": "SAFETY"}, "modelVersion": model}
                if not stream:
                    return await self._send(writer, 200, feedback)
                data = _sse(feedback)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: %d\r\n\r\n%s"
                    % (len(data), data)
                )
                await writer.drain()
                return True
            if plan.continue_after is not None and provider == "gemini":
                return await self._continuing(model, body, plan, pieces, tokens_in, stream, writer)
            if not stream:
                return await self._send(
                    writer, 200, self._whole(provider, model, text, tokens_in, len(pieces), body)
                )
            return await self._stream(provider, model, body, plan, pieces, tokens_in, writer)
        except ConnectionError:
            self._note_disconnect()
            return False

    @staticmethod
    async def _client_stays(reader: asyncio.StreamReader, seconds: float) -> bool:
        """Wait ``seconds``; False as soon as the client hangs up instead."""
        eof = asyncio.ensure_future(reader.read(1))
        try:
            await asyncio.wait({eof}, timeout=seconds)
            return not eof.done()
        finally:
            eof.cancel()
            # The watcher must be gone before the next request is read on this connection.
            await asyncio.gather(eof, return_exceptions=True)

    def _should_fail(self, model: str, plan: Directives) -> bool:
        if plan.fail_times is None:
            return True
        seen = self._fails.get(model, 0)
        self._fails[model] = seen + 1
        return seen < plan.fail_times

    async def _continuing(
        self,
        model: str,
        body: Any,
        plan: Directives,
        pieces: list[str],
        tokens_in: int,
        stream: bool,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Gemini's automatic continuation: the first request stops after
        ``continue_after`` pieces; one that sends the token back gets the rest."""
        sent_back = (body or {}).get("continuationToken")
        split = plan.continue_after or 0
        cut = sent_back is None and plan.cut_after is not None
        if sent_back is None:
            pieces, token = pieces[:split], _continuation_token(split)
            finish = None if cut else "CONTINUATION"
        else:
            pieces, finish, token = pieces[_continuation_start(sent_back) :], "STOP", None
        if not stream:
            reply = _gemini_response(model, "".join(pieces), finish or "CONTINUATION", tokens_in, len(pieces))
            if token:
                reply["candidates"][0]["continuationToken"] = token
            return await self._send(writer, 200, reply)
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            reply = _gemini_response(model, piece, finish if i == last else None, tokens_in, i + 1)
            if i == last and token:
                reply["candidates"][0]["continuationToken"] = token
            data = _sse(reply)
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))
        if cut:
            await writer.drain()
            writer.transport.abort()
            return False
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    @staticmethod
    def _whole(
        provider: str, model: str, text: str, tokens_in: int, tokens_out: int, body: Any = None
    ) -> dict[str, Any]:
        if provider == "anthropic":
            message = _anthropic_message(model, text, tokens_in, tokens_out)
            forced = (body or {}).get("tool_choice") or {}
            if forced.get("type") == "tool" and _is_json(text):  # structured output by forced tool use
                message["content"] = [
                    {
                        "type": "tool_use",
                        "id": "toolu_fake",
                        "name": forced["name"],
                        "input": json.loads(text),
                    }
                ]
                message["stop_reason"] = "tool_use"
            return message
        if provider == "openai":
            return _openai_completion(model, text, tokens_in, tokens_out)
        return _gemini_response(model, text, "STOP", tokens_in, tokens_out)

    async def _stream(
        self,
        provider: str,
        model: str,
        body: Any,
        plan: Directives,
        pieces: list[str],
        tokens_in: int,
        writer: asyncio.StreamWriter,
    ) -> bool:
        cuts = (plan.cut_after, plan.cut_clean, plan.error_after)
        cut = next((c for c in cuts if c is not None), None)
        if cut is not None:
            pieces = pieces[:cut]
        stop = cut is None
        if provider == "anthropic":
            frames = _anthropic_events(model, pieces, tokens_in, stop, _forced_tool(body))
            first_piece = 3
            error = _sse(_anthropic_error(529), event="error")
        elif provider == "openai":
            usage = bool((body.get("stream_options") or {}).get("include_usage"))
            frames = _openai_events(model, pieces, tokens_in, stop, usage)
            first_piece = 0
            error = _sse(_openai_error(503))
        else:
            frames = _gemini_events(model, pieces, tokens_in, stop)
            first_piece = 0
            error = _sse(_gemini_error(503))
        if plan.error_after is not None:
            frames = [*frames, error]
        if plan.raw_error_after is not None and provider == "gemini":
            # what the real API sometimes does: the error document itself, pretty-printed
            frames = [
                *frames[: plan.raw_error_after],
                json.dumps(_gemini_error(429), indent=2).encode() + b"\n",
            ]
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        self.active_streams += 1
        stamps = None if self.frame_times is None else self.frame_times.setdefault(model, [])
        try:
            for index, data in enumerate(frames):
                if plan.delay and index > first_piece:
                    await asyncio.sleep(plan.delay)
                if plan.hold_after is not None and index == first_piece + plan.hold_after:
                    await self._hold()
                if writer.is_closing():  # the client hung up: its RST closed the transport
                    self._note_disconnect()
                    return False
                writer.write(b"%x\r\n%s\r\n" % (len(data), data))
                await writer.drain()
                if stamps is not None:
                    stamps.append(time.monotonic_ns())
            if plan.cut_after is not None:
                writer.transport.abort()  # drop the connection mid-body
                return False
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        except ConnectionError:
            self._note_disconnect()
            return False
        finally:
            self.active_streams -= 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Loopback fake LLM upstream (Anthropic, OpenAI, Gemini)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--replies", default="{}", help="a JSON object: base model name -> reply text (as ``replies``)"
    )
    parser.add_argument(
        "--frame-times", help="a file: on SIGTERM, each stream's frame times (as ``frame_times``) as JSON"
    )
    args = parser.parse_args(argv)
    replies = json.loads(args.replies)
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass

    async def run() -> None:
        fake = FakeUpstream(host=args.host, port=args.port)
        fake.record = False  # a benchmark's millions of requests are not kept
        fake.replies.update(replies)
        if args.frame_times:
            fake.frame_times = {}
        await fake.serve()
        gc.collect()
        gc.freeze()  # as dawai serve does (docs/adr/0009): no long collector pauses in the fake
        print(f"PORT {fake.port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        if args.frame_times:
            Path(args.frame_times).write_text(json.dumps(fake.frame_times))
        await fake._aclose()

    asyncio.run(run())
    sys.exit(0)


if __name__ == "__main__":
    main()
