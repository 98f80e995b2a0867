"""The processes a benchmark measures: the loopback fake upstream and ``dawai serve``,
started on 127.0.0.1, waited for, measured (RSS) and stopped. Shared by the bench scripts.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

__all__ = [
    "HOST",
    "ROOT",
    "bench_env",
    "fake_upstream_env",
    "free_port",
    "open_fds",
    "rss_mb",
    "start_fake",
    "start_process",
    "stop",
    "wait_healthy",
]

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[1]


def bench_env() -> dict[str, str]:
    """This environment without any ``DAWAI_`` setting, so the run is the defaults' own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("DAWAI_")}


def fake_upstream_env(base: str, *, server_keys: bool = True) -> dict[str, str]:
    """Settings that point the three built-in providers at the fake upstream at ``base``
    (with a server-side key each unless ``server_keys`` is false), logging quietly."""
    env = {
        "OPENAI_BASE_URL": base + "/v1",
        "ANTHROPIC_BASE_URL": base,
        "GOOGLE_GEMINI_BASE_URL": base,
        "DAWAI_LOG_LEVEL": "warning",
        "DAWAI_ACCESS_LOG": "false",
        # Load from one client, far past its default limits (bench/rate_limit.py measures them).
        **{f"DAWAI_RATE_LIMIT_{c}": "unlimited" for c in ("CHAT", "SYNTHESIS", "GHOST_TEXT", "OTHER")},
        # ... and with no caps on streams and renders open at once (tests cover those).
        **{
            f"DAWAI_MAX_{kind}": "0"
            for kind in ("STREAMS", "STREAMS_PER_CLIENT", "RENDERS", "RENDERS_PER_CLIENT")
        },
    }
    if server_keys:
        env.update({"OPENAI_API_KEY": "bench", "ANTHROPIC_API_KEY": "bench", "GEMINI_API_KEY": "bench"})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_process(cmd: list[str], env: dict[str, str], ready: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``cmd`` and wait for a line of its output that contains ``ready``; returns the
    process and that line (its output is drained in the background afterwards)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode(errors="replace")
        if not line and proc.poll() is not None:
            raise RuntimeError(f"{cmd[2:4]} exited early")
        if ready in line:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep draining
            return proc, line
    proc.kill()
    raise RuntimeError(f"{cmd} did not start")


def start_fake(
    env: dict[str, str], replies: dict[str, str] | None = None, frame_times: Path | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """The loopback fake upstream (``tests/fakes/llm_upstream.py``) as a process, and its
    port; ``replies`` maps a base model name to the reply text it sends; with
    ``frame_times`` it writes each stream's frame times there when it stops."""
    command = [sys.executable, "-m", "tests.fakes.llm_upstream", "--port", "0"]
    if replies:
        command += ["--replies", json.dumps(replies)]
    if frame_times is not None:
        command += ["--frame-times", str(frame_times)]
    proc, line = start_process(command, env, "PORT ")
    return proc, int(line.split()[1])


def wait_healthy(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("dawai serve exited early")
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("dawai serve did not become healthy")


def stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its children (the workers), in MiB."""
    proc = psutil.Process(pid)
    return (proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))) / 2**20


def open_fds(pid: int) -> int:
    """File descriptors (sockets included) open in ``pid`` and its children."""
    proc = psutil.Process(pid)
    return proc.num_fds() + sum(c.num_fds() for c in proc.children(recursive=True))
