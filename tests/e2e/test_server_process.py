"""The real ``dawai serve`` process on 127.0.0.1, spoken to over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import UNCAPPED, UNLIMITED_RATES, upstream_env

pytestmark = pytest.mark.server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_until_closed(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends on ``sock`` until it closes it (or resets it, or goes
    quiet for ``timeout`` seconds)."""
    sock.settimeout(timeout)
    answer = b""
    try:
        while chunk := sock.recv(65536):
            answer += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return answer


class Server:
    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp / "server.log"
        full_env = {
            k: v for k, v in os.environ.items() if not k.startswith("DAWAI_") and not k.endswith("_API_KEY")
        }
        full_env.update(env)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(self.port)],
            env=full_env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited early:\n" + self.log.read_text())
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not come up:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory, upstream) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("server")
    config = tmp / "dawai.toml"
    config.write_text("[providers.echo]\noptions = { delay = 0.002 }\n")
    # 200 streams from one client: more than its 30 chats a minute, 60 of them at once.
    env = upstream_env(
        upstream, DAWAI_CONFIG=str(config), DAWAI_LOG_LEVEL="info", **UNLIMITED_RATES, **UNCAPPED
    )
    srv = Server(env, tmp)
    yield srv
    srv.stop()
    log = srv.log.read_text()
    assert "sk-ant-api03" not in log, "a key reached the log"
    assert "Traceback" not in log


def test_health_and_request_id_over_real_http(server):
    response = httpx.get(server.base + "/ai/api/health", headers={"X-Request-ID": "e2e-1"})
    assert response.status_code == 200 and response.headers["x-request-id"] == "e2e-1"
    body = response.json()
    assert body["providers"]["anthropic"] is True and body["providers"]["google"] is True
    assert {p["name"] for p in body["plugins"]} >= {"dawai.anthropic", "echo"}
    assert "sk-ant" not in response.text


def test_example_plugin_serves_chat_and_streams(server):
    reply = httpx.post(server.base + "/api/chat", json={"message": "play it again", "model": "echo/parrot"})
    assert reply.json()["response"] == "play it again"
    with httpx.stream(
        "POST", server.base + "/ai/api/stream/chat", json={"message": "もう 一度 お願い", "model": "echo"}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    events = [line[6:] for line in lines]
    assert events[-1] == "[DONE]"
    texts = [json.loads(e)["content"] for e in events[:-1] if json.loads(e)["type"] == "text"]
    assert "".join(texts) == "もう 一度 お願い"
    assert json.loads(events[-2])["type"] == "usage"


def test_many_concurrent_streams(server):
    async def one(client: httpx.AsyncClient, i: int) -> str:
        text = []
        async with client.stream(
            "POST", "/api/stream/chat", json={"message": f"stream {i} says hi", "model": "echo/parrot"}
        ) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    event = json.loads(line[6:])
                    if event["type"] == "text":
                        text.append(event["content"])
        return "".join(text)

    async def run() -> list[str]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=30) as client:
            return await asyncio.gather(*(one(client, i) for i in range(60)))

    results = asyncio.run(run())
    assert results == [f"stream {i} says hi" for i in range(60)]


def test_errors_over_real_http_are_problem_json(server):
    response = httpx.post(
        server.base + "/api/chat", content=b"{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    response = httpx.post(server.base + "/api/chat", json={"message": "hi", "model": "mistral-large"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "model"


def _raw_stream_request(server: Server, model: str) -> socket.socket:
    body = json.dumps({"message": "hi", "model": model}).encode()
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(
        b"POST /api/stream/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    return sock


@pytest.mark.parametrize("provider", ["anthropic", "openai", "google"])
def test_client_disconnect_mid_stream_closes_the_upstream_connection(server, upstream, provider):
    upstream.reset()
    sock = _raw_stream_request(server, f"{provider}/fake+chunks=40+delay=0.25")
    received = b""
    while b'"type":"text"' not in received:
        received += sock.recv(4096)
    started = time.monotonic()
    sock.close()
    assert upstream.wait_for_disconnect(5), "the upstream never saw its connection closed"
    assert time.monotonic() - started < 2  # at once, not after the 10 s the stream would take


@pytest.mark.parametrize("provider", ["anthropic", "openai", "google"])
def test_client_disconnect_before_first_token_cancels_the_upstream(server, upstream, provider):
    upstream.reset()
    sock = _raw_stream_request(server, f"{provider}/fake+first_delay=20")
    deadline = time.monotonic() + 5
    while not upstream.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert upstream.requests, "the request never reached the upstream"
    sock.close()
    assert upstream.wait_for_disconnect(5), "the upstream request outlived its client"


def test_heartbeat_while_waiting_then_tokens(tmp_path, upstream):
    srv = Server(upstream_env(upstream, DAWAI_HEARTBEAT_INTERVAL="0.2"), tmp_path)
    try:
        with httpx.stream(
            "POST",
            srv.base + "/api/stream/chat",
            json={"message": "x", "model": "openai/fake+first_delay=0.7"},
            timeout=10,
        ) as response:
            raw = b"".join(response.iter_raw())
    finally:
        srv.stop()
    assert raw.startswith(b": keep-alive\n\n")
    assert raw.count(b": keep-alive") >= 2
    assert b'"type":"text"' in raw and raw.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        # (--port, given below, wins over API_PORT, as the command line should.)
        ({"DAWAI_WORKERS": "lots"}, "http.workers (from DAWAI_WORKERS)"),
        ({"DAWAI_PROMPT_STRATEGY": "nope"}, "llm.prompt_strategy"),
        ({"DAWAI_CONFIG": "/no/such.toml"}, "no such file"),
    ],
)
def test_bad_configuration_stops_serve_with_one_line(env, needle):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DAWAI_")}
    result = subprocess.run(
        [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(free_port())],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr


def test_cli_plugins_and_config(tmp_path):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DAWAI_") and not k.endswith("_API_KEY")}
    env = {**clean, "OPENAI_API_KEY": "sk-proj-" + "s" * 40}
    listed = subprocess.run(
        [sys.executable, "-m", "dawai.bootstrap.cli", "plugins", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    names = {p["name"]: p for p in json.loads(listed.stdout)}
    assert names["echo"]["distribution"] == "dawai-echo-provider" and names["echo"]["registered"] == {
        "providers": ["echo"]
    }
    shown = subprocess.run(
        [sys.executable, "-m", "dawai.bootstrap.cli", "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert json.loads(shown.stdout)["providers"]["openai"]["api_key"] == "***"
    assert "sk-proj" not in shown.stdout + shown.stderr
