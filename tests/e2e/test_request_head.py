"""Request heads against the real ``dawai serve`` (uvicorn, httptools) on 127.0.0.1: one
that never ends is cut off at 16 KiB with a 431, and the server's memory stays bounded."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import psutil
import pytest

from tests.e2e.test_server_process import Server, read_until_closed

pytestmark = pytest.mark.server

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    srv = Server({"DAWAI_LOG_LEVEL": "warning"}, tmp_path_factory.mktemp("head"))
    yield srv
    srv.stop()
    assert "Traceback" not in srv.log.read_text()


def _problem(answer: bytes) -> dict:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/problem+json" in head.lower(), answer[:300]
    return json.loads(body)


def test_a_head_that_never_ends_is_cut_off_with_431_and_memory_stays_bounded(server):
    process = psutil.Process(server.proc.pid)
    before = process.memory_info().rss
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ")
    chunk, sent = b"a" * 65536, 0
    try:
        while sent < 256 * MiB:  # today's server reads all of it, and holds it
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = read_until_closed(sock)
    sock.close()
    grown = process.memory_info().rss - before
    assert sent < 32 * MiB, f"the server kept reading a {sent // MiB} MiB head"
    assert grown < 16 * MiB, f"RSS grew {grown // MiB} MiB"
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"x-content-type-options: nosniff\r\n" in answer.lower()
    problem = _problem(answer)
    assert problem["status"] == 431 and problem["type"].endswith("/request-header-fields-too-large")


def test_a_complete_head_over_16_kib_is_431_from_the_app(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    head = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 16_500 + b"\r\n\r\n"
    sock.sendall(head)
    answer = read_until_closed(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert _problem(answer)["request_id"]


def test_the_real_server_refuses_an_unknown_host(server):
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    answer = read_until_closed(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert _problem(answer)["type"].endswith("/host-not-allowed")
