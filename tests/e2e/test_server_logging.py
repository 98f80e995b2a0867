"""What a real ``dawai serve`` process writes: with ``log.format = json`` every line is JSON,
uvicorn's own start-up, shutdown and error lines included."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from tests.conftest import upstream_env
from tests.e2e.test_server_process import Server

pytestmark = pytest.mark.server


def _exercise(server: Server) -> None:
    assert httpx.get(server.base + "/health").status_code == 200
    assert httpx.get(server.base + "/api/nope").status_code == 404
    with httpx.stream(
        "POST", server.base + "/api/stream/chat", json={"message": "one two", "model": "echo/parrot"}
    ) as response:
        assert b"".join(response.iter_raw()).endswith(b"data: [DONE]\n\n")


def _json_lines(text: str) -> list[dict]:
    lines = text.splitlines()
    assert lines, "the server wrote nothing"
    records = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(record, dict) and {"level", "event", "timestamp"} <= set(record), line
        records.append(record)
    return records


def test_every_line_is_json_uvicorn_lines_included(tmp_path, upstream):
    server = Server(upstream_env(upstream, DAWAI_LOG_FORMAT="json"), tmp_path)
    try:
        _exercise(server)
    finally:
        server.stop()
    records = _json_lines(server.log.read_text())
    uvicorn = {r["event"].split(" [")[0]: r for r in records if r.get("logger", "").startswith("uvicorn")}
    for event in ("Started server process", "Application startup complete.", "Shutting down"):
        assert uvicorn[event]["level"] == "info" and uvicorn[event]["logger"] == "uvicorn.error"
    assert "Finished server process" in uvicorn
    paths = [r["path"] for r in records if r["event"] == "request"]
    assert paths[-3:] == ["/health", "/api/nope", "/api/stream/chat"]  # after the start-up probes


def test_uvicorn_error_line_is_json(tmp_path, upstream):
    """A port already taken: uvicorn's error line, and nothing else, as JSON."""
    server = Server(upstream_env(upstream), tmp_path)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DAWAI_")}
        clash = subprocess.run(
            [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(server.port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        server.stop()
    assert clash.returncode != 0
    records = _json_lines(clash.stdout + clash.stderr)
    errors = [r for r in records if r["level"] == "error"]
    assert errors and errors[0]["logger"] == "uvicorn.error" and "address" in errors[0]["event"].lower()
    assert "Traceback" not in clash.stderr


def test_console_format_stays_readable(tmp_path, upstream):
    server = Server(upstream_env(upstream, DAWAI_LOG_FORMAT="console"), tmp_path)
    try:
        _exercise(server)
    finally:
        server.stop()
    lines = server.log.read_text().splitlines()
    started = [line for line in lines if "Started server process" in line]
    assert started and "[uvicorn.error]" in started[0] and "info" in started[0]
    assert not started[0].lstrip().startswith("{")
    assert any("request" in line and "path=/health" in line for line in lines)
