"""The head-bounded httptools protocol beside uvicorn's own, and its start-up guard.

The same raw requests go to two uvicorn servers on 127.0.0.1, one on uvicorn's httptools
protocol and one on ours: every answer must be the same, byte for byte but the date.
When uvicorn's protocol loses the shape ours relies on, start-up falls back to h11 with
its public head bound.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from dawai.adapters.http.head_guard import MAX_HEAD_BYTES
from dawai.bootstrap import http_protocol
from tests.e2e.test_server_process import read_until_closed

pytestmark = pytest.mark.server


async def _echo(scope, receive, send) -> None:
    """Says what it was sent: method, path, header count and body length."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    text = f"{scope['method']} {scope['path']} {len(scope['headers'])} {len(body)}".encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": text})


class _Served:
    def __init__(self, http: object) -> None:
        config = uvicorn.Config(_echo, host="127.0.0.1", port=0, http=http, log_level="error", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[_Served, _Served]]:
    ours, theirs = _Served(http_protocol.bounded_httptools_protocol()), _Served("httptools")
    yield ours, theirs
    ours.stop()
    theirs.stop()


def _exchange(port: int, pieces: list[bytes], answers: int = 0) -> bytes:
    """Send the pieces, then half-close and read to the end, or, with ``answers``, keep
    the sending side open and read until that many chunked answers have ended.

    Pipelined requests need the second form: uvicorn (stock or ours) may drop requests
    still queued when the client's EOF arrives, which depends on scheduling alone.
    """
    with socket.create_connection(("127.0.0.1", port)) as sock:
        try:
            for piece in pieces:
                sock.sendall(piece)
                time.sleep(0.002)  # separate reads on the server side
            if not answers:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the rest was sent
        answer = _read_answers(sock, answers, timeout=5) if answers else read_until_closed(sock, timeout=5)
    return re.sub(rb"date: [^\r]*\r\n", b"", answer)


def _read_answers(sock: socket.socket, answers: int, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while data.count(b"\r\n0\r\n\r\n") < answers:
        try:
            piece = sock.recv(65536)
        except TimeoutError:
            break
        if not piece:
            break
        data += piece
    return data


GET = b"GET /a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
POST = b"POST /b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello"
CHUNKED = b"POST /c HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
BIG_HEAD = b"GET /d HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"p" * (MAX_HEAD_BYTES - 200) + b"\r\n\r\n"
# What to send, and how many answers to wait for with the sending side still open
# (0: half-close and read to the end).
CASES = {
    "get": ([GET], 0),
    "post": ([POST], 0),
    "chunked": ([CHUNKED], 0),
    "pipelined": ([GET + POST + GET], 3),
    "split head": ([GET[i : i + 3] for i in range(0, len(GET), 3)], 0),
    "head under the bound, split": ([BIG_HEAD[i : i + 4096] for i in range(0, len(BIG_HEAD), 4096)], 0),
    "two requests, two writes": ([POST, CHUNKED], 0),
    "bad request": ([b"NOT HTTP\r\n\r\n"], 0),
}


@pytest.mark.parametrize("case", CASES)
def test_answers_as_uvicorns_own_httptools_protocol(servers, case):
    ours, theirs = servers
    pieces, answers = CASES[case]
    mine, stock = _exchange(ours.port, pieces, answers), _exchange(theirs.port, pieces, answers)
    assert mine == stock and mine
    if answers:
        assert mine.count(b"HTTP/1.1 200 OK") == answers


def test_a_head_over_the_bound_is_a_431_only_on_ours(servers):
    ours, _ = servers
    head = b"GET /e HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"p" * 4096
    answer = _exchange(ours.port, [head] + [b"p" * 4096] * 8)
    assert answer.startswith(b"HTTP/1.1 431 ")


def test_the_shape_check_passes_on_the_uvicorn_installed():
    assert http_protocol.httptools_shape_problem() is None
    assert http_protocol.head_bounded_http_options()["http"] is not None


def test_a_changed_uvicorn_falls_back_to_h11_with_its_public_bound(monkeypatch):
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    monkeypatch.setattr(HttpToolsProtocol, "data_received", lambda self, data, more: None)
    assert "data_received" in (http_protocol.httptools_shape_problem() or "")
    assert http_protocol.head_bounded_http_options() == {
        "http": "h11",
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
    }
