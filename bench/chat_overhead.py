"""What DAWAI adds to a chat stream, measured against the same fake upstream directly.

Starts the loopback fake upstream (``tests/fakes/llm_upstream.py``) and ``dawai serve`` as
real processes, then, at 1, 10, 100 and 1,000 concurrent streams, measures time to first
token (TTFT) and total time for the same 100-piece stream (10 ms a piece) two ways:
straight from the fake, and through ``POST /api/stream/chat``. Also: non-streaming
throughput both ways, errors, and the server's RSS per open stream.

Concurrency is measured two ways. ``burst`` rows start all N streams at the same instant
(the harshest case: N requests' start-up work queues on one core). ``held`` rows keep N
streams open for a while, starts spread over one stream's length and each client
starting its next stream when one ends; they time each stream that starts while N - 1
others are streaming, which is what N concurrent users look like in steady state.

    .venv/bin/python bench/chat_overhead.py [--provider openai|anthropic|google] [--quick]
        [--levels 1,10,100,1000] [--held 10,100] [--workers N] [--transport dawai|httpx]

Prints a table, then one line ``JSON {...}``. Goals (2 cores): added TTFT p50 <= 1 ms at
1 stream, p99 <= 10 ms at 100 streams (printed for both ways), zero errors at 1,000,
< 50 KB RSS per open stream.
The table also gives the server's CPU time (user + system) per stream and per
non-streaming request: on a shared machine it is steadier than any latency, and it says
what the latencies are made of (an idle process here also pays ~0.1 ms per wake-up).
Everything runs on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_processes import (
    HOST,
    ROOT,
    bench_env,
    fake_upstream_env,
    free_port,
    rss_mb,
    start_fake,
    stop,
    wait_healthy,
)
from sse_load import Result, post_stream, run_concurrent, run_held

DIRECT = {
    # provider: (path, body, first-token marker, done marker)
    "openai": (
        "/v1/chat/completions",
        {
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}],
        },
        b'"content"',
        b"data: [DONE]",
    ),
    "anthropic": (
        "/v1/messages",
        {"stream": True, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]},
        b"text_delta",
        b"message_stop",
    ),
    "google": (
        "/v1beta/models/{model}:streamGenerateContent?alt=sse",
        {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        b'"text"',
        None,
    ),
}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _task_cpu(pid: int) -> float:
    """CPU seconds of every thread of ``pid``, to the nanosecond where Linux tells
    (``/proc/<pid>/task/*/schedstat``), else psutil's clock-tick figures."""
    try:
        total = 0
        for task in Path(f"/proc/{pid}/task").iterdir():
            total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        return sum(psutil.Process(pid).cpu_times()[:2])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server and its workers."""
    return _task_cpu(pid) + sum(_task_cpu(c.pid) for c in psutil.Process(pid).children(recursive=True))


class PeakRSS:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            self._stop.wait(0.02)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def measure(
    concurrency: int,
    rounds: int,
    fake_port: int,
    dawai_port: int,
    provider: str,
    model: str,
    server_pid: int,
    held: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """``concurrency`` streams started at once, ``rounds`` times; or, with ``held``
    (stream length, seconds), that many streams held open for that long (``run_held``)."""
    path, body, first, done = DIRECT[provider]
    direct_body = dict(body)
    if provider != "google":
        direct_body["model"] = model
    direct_path = path.format(model=model)
    direct_raw = json.dumps(direct_body).encode()
    via_raw = json.dumps({"message": "hi", "model": f"{provider}/{model}"}).encode()
    results: dict[str, list[Result]] = {"direct": [], "dawai": []}
    idle = rss_mb(server_pid)
    peak = idle
    cpu = 0.0

    async def load(port: int, path: str, raw: bytes, marker: bytes, **options: Any) -> list[Result]:
        # The load client's own collector pauses would count as the servers' latency, and
        # more in whichever phase runs with the bigger client heap: none while measuring.
        gc.collect()
        gc.disable()
        try:
            if held is None:
                return await run_concurrent(concurrency, HOST, port, path, raw, marker, **options)
            return await run_held(
                concurrency, HOST, port, path, raw, marker, stream_seconds=held[0], seconds=held[1], **options
            )
        finally:
            gc.enable()

    for _ in range(rounds):
        results["direct"] += await load(fake_port, direct_path, direct_raw, first, done_marker=done)
        before = cpu_seconds(server_pid)
        with PeakRSS(server_pid) as sampler:
            results["dawai"] += await load(dawai_port, "/api/stream/chat", via_raw, b'"type":"text"')
        cpu += cpu_seconds(server_pid) - before
        peak = max(peak, sampler.peak)
    streams_run = len(results["dawai"])  # the CPU was spent on all of them
    results = {name: [r for r in items if r.steady] for name, items in results.items()}
    row: dict[str, Any] = {
        "streams": concurrency,
        "mode": "burst" if held is None else "held",
        "samples": len(results["dawai"]),
    }
    for name, items in results.items():
        ok = [r for r in items if r.error is None]
        row[f"{name}_errors"] = len(items) - len(ok)
        ttft = [r.ttft * 1000 for r in ok if r.ttft is not None]
        total = [r.total * 1000 for r in ok if r.total is not None]
        row[f"{name}_ttft_p50_ms"] = pct(ttft, 0.5)
        row[f"{name}_ttft_p99_ms"] = pct(ttft, 0.99)
        row[f"{name}_total_p50_ms"] = pct(total, 0.5)
        row[f"{name}_total_p99_ms"] = pct(total, 0.99)
        errors = sorted({r.error for r in items if r.error})
        if errors:
            row[f"{name}_error_kinds"] = errors[:3]
    row["added_ttft_p50_ms"] = row["dawai_ttft_p50_ms"] - row["direct_ttft_p50_ms"]
    row["added_ttft_p99_ms"] = row["dawai_ttft_p99_ms"] - row["direct_ttft_p99_ms"]
    row["added_total_p50_ms"] = row["dawai_total_p50_ms"] - row["direct_total_p50_ms"]
    row["rss_idle_mb"], row["rss_peak_mb"] = round(idle, 1), round(peak, 1)
    # Held streams come and go: their peak is not one level's worth of open streams.
    row["rss_per_stream_kb"] = max(0.0, (peak - idle) * 1024 / concurrency) if held is None else None
    # Server CPU (user + system) per whole stream: steadier than latency on a shared machine.
    row["server_cpu_per_stream_us"] = cpu * 1e6 / max(1, streams_run)
    return row


async def throughput(
    seconds: float, concurrency: int, fake_port: int, dawai_port: int, provider: str, dawai_pid: int
) -> dict:
    path, body, _first, _done = DIRECT[provider]
    direct_body = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    if provider != "google":
        direct_body["model"] = "fake"
    direct_path = path.format(model="fake").replace(":streamGenerateContent?alt=sse", ":generateContent")
    targets = {
        "direct": (fake_port, direct_path, json.dumps(direct_body).encode()),
        "dawai": (
            dawai_port,
            "/api/chat",
            json.dumps({"message": "hi", "model": f"{provider}/fake"}).encode(),
        ),
    }
    out: dict[str, Any] = {}
    for name, (port, target, raw) in targets.items():
        done = errors = 0
        deadline = time.perf_counter() + seconds
        cpu_before = cpu_seconds(dawai_pid)

        async def worker(
            port: int = port, target: str = target, raw: bytes = raw, deadline: float = deadline
        ) -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                result = await post_stream(HOST, port, target, raw, b"", done_marker=None, timeout=30)
                done += 1
                errors += result.error is not None

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        out[f"{name}_rps"] = done / (time.perf_counter() - started)
        out[f"{name}_errors"] = errors
        if name == "dawai":
            out["dawai_cpu_per_request_us"] = (cpu_seconds(dawai_pid) - cpu_before) * 1e6 / max(1, done)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=sorted(DIRECT), default="openai")
    parser.add_argument("--levels", default="1,10,100,1000")
    parser.add_argument("--chunks", type=int, default=100)
    parser.add_argument("--delay", type=float, default=0.01)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--workers", type=int, default=1, help="dawai serve worker processes")
    parser.add_argument(
        "--held",
        default="10,100",
        help="levels also measured with that many streams held open (comma-separated; '' for none)",
    )
    parser.add_argument("--held-seconds", type=float, default=6.0, help="how long each held level runs")
    parser.add_argument(
        "--transport",
        choices=("dawai", "httpx"),
        default="dawai",
        help="llm.transport of the server under test (dawai serve, floor-litestar-sdk)",
    )
    parser.add_argument(
        "--server",
        choices=("dawai", "floor-raw", "floor-litestar", "floor-litestar-sdk"),
        default="dawai",
        help="the server under test: dawai serve, or a reference proxy (bench/floor_proxies.py)",
    )
    args = parser.parse_args()
    if args.server != "dawai" and args.provider != "openai":
        parser.error("the reference proxies speak the OpenAI wire only")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    # Four characters a piece, about a token: the fake's own reply is shorter than 100 pieces.
    model = f"fake+chunks={args.chunks}+delay={args.delay}+length={4 * args.chunks}"
    env = bench_env()
    fake = server = None
    try:
        fake, fake_port = start_fake(env)
        dawai_port = free_port()
        env.update(fake_upstream_env(f"http://{HOST}:{fake_port}"))
        env["DAWAI_FIRST_TOKEN_TIMEOUT"] = "120"
        env["DAWAI_LLM_TRANSPORT"] = args.transport
        if args.server == "dawai":
            command = ["-m", "dawai.bootstrap.cli", "serve", "--workers", str(args.workers)]
        else:  # a reference proxy (bench/floor_proxies.py)
            kind = args.server.removeprefix("floor-")
            command = ["bench/floor_proxies.py", kind, "--upstream-port", str(fake_port)]
        server = subprocess.Popen([sys.executable, *command, "--port", str(dawai_port)], cwd=ROOT, env=env)
        wait_healthy(dawai_port, server)
        pid = server.pid
        rounds = {1: 60, 10: 10, 100: 3, 1000: 1}
        rows = []
        # Warm up first: the provider's SDK is imported and its clients built on first use,
        # which would otherwise count as memory (and time) of the first level's streams.
        # With several workers, enough streams that each worker gets some.
        asyncio.run(
            measure(8 * args.workers, 2 * args.workers, fake_port, dawai_port, args.provider, model, pid)
        )
        for level in (int(x) for x in args.levels.split(",")):
            n = 1 if args.quick else rounds.get(level, 1)
            rows.append(asyncio.run(measure(level, n, fake_port, dawai_port, args.provider, model, pid)))
        stream_seconds = args.chunks * args.delay
        for level in (int(x) for x in args.held.split(",") if x):
            held = (stream_seconds, min(2.0, args.held_seconds) if args.quick else args.held_seconds)
            row = asyncio.run(measure(level, 1, fake_port, dawai_port, args.provider, model, pid, held))
            rows.append(row)
        tput = None
        if args.server == "dawai":  # the reference proxies only stream
            tput = asyncio.run(
                throughput(3.0 if args.quick else 6.0, 32, fake_port, dawai_port, args.provider, pid)
            )
        idle_after = rss_mb(pid)
    finally:
        stop(server)
        stop(fake)
    print(
        f"chat overhead: {args.server}, provider {args.provider}, transport {args.transport}, "
        f"{args.chunks} chunks x {args.delay * 1000:g} ms, "
        f"{os.cpu_count()} cores"
    )
    head = (
        f"{'streams':>11} {'samples':>7} | {'TTFT p50 direct':>15} {'dawai':>8} {'added':>7} | "
        f"{'TTFT p99 direct':>15} {'dawai':>8} {'added':>7} | {'total p50 +':>11} | {'errors d/D':>10} | "
        f"{'RSS peak':>8} {'KB/stream':>9} | {'CPU/stream':>10}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        cells = [
            f"{r['streams']:>6} {r['mode']:>4} {r['samples']:>7}",
            f"{r['direct_ttft_p50_ms']:>15.2f} {r['dawai_ttft_p50_ms']:>8.2f} {r['added_ttft_p50_ms']:>7.2f}",
            f"{r['direct_ttft_p99_ms']:>15.2f} {r['dawai_ttft_p99_ms']:>8.2f} {r['added_ttft_p99_ms']:>7.2f}",
            f"{r['added_total_p50_ms']:>11.1f}",
            f"{r['direct_errors']:>4}/{r['dawai_errors']:<5}",
            f"{r['rss_peak_mb']:>8.1f} "
            + (f"{r['rss_per_stream_kb']:>9.1f}" if r["rss_per_stream_kb"] is not None else f"{'-':>9}"),
            f"{r['server_cpu_per_stream_us']:>8.0f}us",
        ]
        print(" | ".join(cells))
    if tput is not None:
        print(
            f"non-streaming, 32 clients: direct {tput['direct_rps']:.0f} req/s, through DAWAI "
            f"{tput['dawai_rps']:.0f} req/s (errors {tput['direct_errors']}/{tput['dawai_errors']}, "
            f"server CPU {tput['dawai_cpu_per_request_us']:.0f} us per request)"
        )
    print(f"server RSS after: {idle_after:.1f} MB")
    by = {r["streams"]: r for r in rows if r["mode"] == "burst"}
    held_by = {r["streams"]: r for r in rows if r["mode"] == "held"}
    goals = {
        "added_ttft_p50_1_le_1ms": by.get(1, {}).get("added_ttft_p50_ms", float("inf")) <= 1.0,
        "added_ttft_p99_100_le_10ms": by.get(100, {}).get("added_ttft_p99_ms", float("inf")) <= 10.0,
        "added_ttft_p99_100_held_le_10ms": held_by.get(100, {}).get("added_ttft_p99_ms", float("inf"))
        <= 10.0,
        "errors_1000_zero": by.get(1000, {}).get("dawai_errors", 1) == 0,
        "rss_per_stream_1000_lt_50kb": by.get(1000, {}).get("rss_per_stream_kb", float("inf")) < 50,
    }
    for name, ok in goals.items():
        print(f"goal {name}: {'met' if ok else 'NOT met'}")
    print(
        "JSON "
        + json.dumps(
            {
                "server": args.server,
                "provider": args.provider,
                "transport": args.transport,
                "rows": rows,
                "throughput": tput,
                "rss_after_mb": round(idle_after, 1),
                "goals": goals,
            },
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
