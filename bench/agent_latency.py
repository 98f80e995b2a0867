"""Closing brace upstream to SSE ``action`` event at the client, over HTTP.

A real ``dawai serve`` on 127.0.0.1, pointed at the loopback fake upstream
(``tests/fakes/llm_upstream.py``) running in a process of its own, and this process as
the client of ``POST /api/stream/agent``. The fake streams a plan of ``--actions``
``addNotes`` actions (4 notes each) through OpenAI's structured-output stream in 32-byte
pieces, one every 10 ms per stream (a fast model, about 800 tokens a second), and records
when it wrote each piece (``time.monotonic_ns()`` after the write and drain). The client
records when each ``action`` event had fully arrived (the same clock: ``CLOCK_MONOTONIC``
is one clock for every process on a Linux host). An action's delay is the second stamp
less the stamp of the piece that carried its closing brace: the server's SSE reader,
gateway, scanner, validator and frame encoder, and both loopback hops.

At 1 stream (``--rounds`` streams one after another) and at 50 concurrent streams; p50,
p99 and the largest delay (goal: p99 <= 5 ms). The client is a lean asyncio reader (no
HTTP library), so what it costs is small against the server's share of the 2 cores.

    .venv/bin/python bench/agent_latency.py [--actions 16] [--rounds 5] [--streams 1,50]

Prints a table and one line ``JSON {...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from music_parser import _plan_text, closing_braces
from server_processes import HOST, bench_env, fake_upstream_env, free_port, start_fake, stop, wait_healthy

PIECE = 32  # characters a piece
PACE = 0.01  # seconds between pieces, per stream
GOAL_P99_MS = 5.0
MARKER = b'"type":"action"'


# -- the client ----------------------------------------------------------------------------


async def one_stream(port: int, model: str, actions: int) -> tuple[list[int], str | None]:
    """POST one streaming agent request; the arrival time of each complete action event."""
    body = json.dumps(
        {"prompt": "add the phrases", "model": model, "context": {"tracks": [{"id": "t1", "type": "midi"}]}}
    ).encode()
    arrivals: list[int] = []
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(
            (
                f"POST /api/stream/agent HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                "Content-Type: application/json\r\nAccept: text/event-stream\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            + body
        )
        status = int((await reader.readline()).split(b" ", 2)[1])
        if status != 200:
            return arrivals, f"HTTP {status}"
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        buffer = bytearray()
        async with asyncio.timeout(120):
            while True:
                data = await reader.read(65536)
                now = time.monotonic_ns()
                if not data:
                    break
                buffer += data
                complete = buffer[: buffer.rfind(b"\n\n") + 1]  # events whose blank line arrived
                seen = complete.count(MARKER)
                arrivals.extend([now] * (seen - len(arrivals)))
                if b"data: [DONE]" in complete:
                    break
        if len(arrivals) != actions:
            return arrivals, f"{len(arrivals)} of {actions} actions arrived"
        return arrivals, None
    finally:
        writer.close()


def piece_of(closes: list[int], text: str) -> list[int]:
    """The index of the piece that carries each closing brace, as the fake splits."""
    from tests.fakes.llm_upstream import _split

    pieces = _split(text, -(-len(text) // PIECE))
    ends, total = [], 0
    for piece in pieces:
        total += len(piece)
        ends.append(total)
    return [next(i for i, end in enumerate(ends) if close < end) for close in closes]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(
    port: int, tag: str, streams: int, actions: int, chunks: int
) -> tuple[list[str], list[Any]]:
    models = [f"openai/plan+chunks={chunks}+delay={PACE}+run={tag}-{i}" for i in range(streams)]
    results = await asyncio.gather(*(one_stream(port, m, actions) for m in models))
    return models, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actions", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5, help="streams one after another at 1 stream")
    parser.add_argument("--streams", default="1,50")
    args = parser.parse_args()
    levels = [int(n) for n in args.streams.split(",")]
    text = _plan_text(args.actions, 4)
    closes = closing_braces(text)
    carriers = piece_of(closes, text)
    chunks = -(-len(text) // PIECE)
    work = Path(subprocess.check_output(["mktemp", "-d"]).decode().strip())
    stamps_path = work / "stamps.json"
    env = bench_env()
    fake, fake_port = start_fake(env, {"plan": text}, frame_times=stamps_path)
    server = None
    runs: list[tuple[int, list[str], list[Any]]] = []
    try:
        base = f"http://{HOST}:{fake_port}"
        port = free_port()
        server_env = {**env, **fake_upstream_env(base)}
        server = subprocess.Popen(
            [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(port)],
            env=server_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_healthy(port, server)
        asyncio.run(measure(port, "warm", 2, args.actions, chunks))  # connections, caches, imports
        for streams in levels:
            for round_ in range(args.rounds if streams == 1 else 1):
                models, results = asyncio.run(
                    measure(port, f"{streams}x{round_}", streams, args.actions, chunks)
                )
                runs.append((streams, models, results))
    finally:
        stop(server)
        stop(fake)
    stamps: dict[str, list[int]] = json.loads(stamps_path.read_text())
    figures: dict[str, Any] = {
        "actions_per_stream": args.actions,
        "piece_chars": PIECE,
        "pace_ms": PACE * 1000,
    }
    print(f"{'streams':>7} {'actions':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
    for streams in levels:
        delays: list[float] = []
        errors = 0
        for level, models, results in runs:
            if level != streams:
                continue
            for model, (arrivals, error) in zip(models, results, strict=True):
                errors += error is not None
                frames = stamps.get(model.removeprefix("openai/"), [])
                for index, arrived in enumerate(arrivals):
                    if carriers[index] < len(frames):
                        delays.append((arrived - frames[carriers[index]]) / 1e6)
        p50, p99 = percentile(delays, 0.5), percentile(delays, 0.99)
        print(f"{streams:>7} {len(delays):>8} {p50:>8.3f} {p99:>8.3f} {max(delays):>8.3f} {errors:>7}")
        figures[f"brace_to_event_http_{streams}_p50_ms"] = round(p50, 3)
        figures[f"brace_to_event_http_{streams}_p99_ms"] = round(p99, 3)
        figures[f"brace_to_event_http_{streams}_max_ms"] = round(max(delays), 3)
        figures[f"brace_to_event_http_{streams}_samples"] = len(delays)
        figures[f"brace_to_event_http_{streams}_errors"] = errors
    figures["goal_p99_ms"] = GOAL_P99_MS
    print(
        f"goal: p99 <= {GOAL_P99_MS} ms (closing brace written upstream -> action event read by the client)"
    )
    print("JSON " + json.dumps({"agent_latency": figures}))


if __name__ == "__main__":
    main()
