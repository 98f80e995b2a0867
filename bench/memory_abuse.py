"""Server memory when every request brings a new API key.

A client can send its own key in ``apiKeys``, and nothing stops it from sending a new one
each time. For each provider (Anthropic, OpenAI, Gemini, and an OpenAI-compatible
endpoint defined in a config file), this starts the loopback fake upstream
(``tests/fakes/llm_upstream.py``) once and a fresh ``dawai serve`` per provider, with the
providers pointed at the fake and no server-side keys, then sends ``--requests`` requests
(default 10,000), each with a distinct key, alternating ``POST /api/chat`` and
``POST /api/stream/chat``, ``--concurrency`` at a time (default 32). Every request must
answer 200 (and a stream must end with ``[DONE]`` and no error event); the rest are
counted as errors, by kind.

The server's RSS (psutil, the server and its workers) is read at start, after a warm-up
(``2 x concurrency`` requests, with distinct keys too, so the SDK has been imported and
both routes have run once), every ``--every`` requests (default 1,000), at the end, and
after 5 s idle; so are its open file descriptors (sockets to the upstream included).

    .venv/bin/python bench/memory_abuse.py [--requests 10000] [--concurrency 32]
        [--providers anthropic,openai,google,compatible] [--every 1000] [--max-seconds S]
        [--max-rss-mb 4096]

Prints a table, then one line ``JSON {...}``. Goal, per provider: the RSS after 5 s idle
within 30 MB of the start, where the start is the RSS after the warm-up (importing an
SDK is a one-time cost, which ``bench/idle_memory.py`` reports; the cold figure is
printed too). ``--max-seconds`` stops sending to a provider after that long, and
``--max-rss-mb`` (default 4,096) once the server's RSS is over that, since the machine is
shared; the table then says how many were sent and why it stopped, and a provider that
stopped early fails. Everything runs on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_processes import (
    HOST,
    ROOT,
    bench_env,
    fake_upstream_env,
    free_port,
    open_fds,
    rss_mb,
    start_fake,
    stop,
    wait_healthy,
)
from sse_load import post_stream

COMPATIBLE = "compatible"  # the openai-compatible provider the config file defines
PROVIDERS = ("anthropic", "openai", "google", COMPATIBLE)
GOAL_MB = 30.0
IDLE_SECONDS = 5.0
RSS_CHECK_EVERY = 100
CONFIG = """
[providers.{name}]
kind = "openai-compatible"
base_url = "{base}/v1"
models = ["fake"]
"""


@dataclass
class Sample:
    label: str
    requests: int
    rss_mb: float
    fds: int


@dataclass
class ProviderRun:
    provider: str
    samples: list[Sample] = field(default_factory=list)
    sent: int = 0
    errors: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    stopped: str | None = None  # why it stopped before --requests

    def sample(self, label: str, pid: int) -> None:
        self.samples.append(Sample(label, self.sent, round(rss_mb(pid), 1), open_fds(pid)))

    def rss(self, label: str) -> float:
        return next(s.rss_mb for s in self.samples if s.label == label)

    @property
    def growth_mb(self) -> float:
        return round(self.rss("idle") - self.rss("warm"), 1)

    @property
    def passed(self) -> bool:
        return self.stopped is None and self.errors == 0 and self.growth_mb <= GOAL_MB

    def as_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "seconds": round(self.seconds, 1),
            "stopped": self.stopped,
            "errors": self.errors,
            "error_kinds": self.error_kinds,
            "samples": [vars(s) for s in self.samples],
            "growth_mb": self.growth_mb,
            "pass": self.passed,
        }


async def send(port: int, provider: str, index: int, run_id: str) -> str | None:
    """One request with a key no other request has used; even ``index`` non-streaming,
    odd streaming. Returns what went wrong, or ``None``."""
    key = f"sk-bench-{run_id}-{index:07d}"
    body = json.dumps({"message": "hi", "model": f"{provider}/fake", "apiKeys": {provider: key}}).encode()
    if index % 2 == 0:
        result = await post_stream(HOST, port, "/api/chat", body, b"", done_marker=None, timeout=60)
    else:
        result = await post_stream(HOST, port, "/api/stream/chat", body, b'"type":"text"', timeout=60)
    return result.error


@dataclass(frozen=True)
class Limits:
    """When to stop sending before ``--requests``: a time (``time.monotonic()``) and the
    server's RSS, checked every ``RSS_CHECK_EVERY`` requests."""

    deadline: float = float("inf")
    max_rss_mb: float = float("inf")


async def load(
    run: ProviderRun, port: int, pid: int, count: int, every: int, limits: Limits, width: int
) -> None:
    """``count`` requests, ``width`` at a time, sampling the server every ``every`` (0: never)."""
    run_id = secrets.token_hex(4)  # with the index, a key no request has sent before
    indices = iter(range(count))

    async def client() -> None:
        for index in indices:
            if run.stopped:
                return
            error = await send(port, run.provider, index, run_id)
            run.sent += 1
            if error is not None:
                run.errors += 1
                run.error_kinds[error] = run.error_kinds.get(error, 0) + 1
            if every and run.sent % every == 0:
                run.sample(str(run.sent), pid)
            if time.monotonic() > limits.deadline:
                run.stopped = run.stopped or "--max-seconds reached"
            elif run.sent % RSS_CHECK_EVERY == 0 and rss_mb(pid) > limits.max_rss_mb:
                run.stopped = run.stopped or f"server RSS over --max-rss-mb {limits.max_rss_mb:g}"

    await asyncio.gather(*(client() for _ in range(width)))


def measure(provider: str, env: dict[str, str], args: argparse.Namespace) -> ProviderRun:
    run = ProviderRun(provider)
    port = free_port()
    command = [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_healthy(port, server)
        time.sleep(1.0)
        run.sample("start", server.pid)
        warm_up = ProviderRun(provider)
        asyncio.run(load(warm_up, port, server.pid, 2 * args.concurrency, 0, Limits(), args.concurrency))
        if warm_up.errors:
            print(
                f"{provider}: {warm_up.errors} errors in the warm-up: {warm_up.error_kinds}", file=sys.stderr
            )
        run.sample("warm", server.pid)
        started = time.monotonic()
        limits = Limits(started + args.max_seconds if args.max_seconds else float("inf"), args.max_rss_mb)
        asyncio.run(load(run, port, server.pid, args.requests, args.every, limits, args.concurrency))
        run.seconds = time.monotonic() - started
        run.sample("end", server.pid)
        time.sleep(IDLE_SECONDS)
        run.sample("idle", server.pid)
    finally:
        stop(server)
    return run


LABELS = {"start": "start (cold)", "warm": "start (after warm-up)", "end": "end", "idle": "after 5 s idle"}


def print_table(runs: list[ProviderRun], args: argparse.Namespace) -> None:
    print(
        f"memory under distinct keys: {args.requests} requests per provider, half streaming, "
        f"{args.concurrency} at a time, {os.cpu_count()} cores; RSS MB (open fds)"
    )
    counts = sorted({int(s.label) for run in runs for s in run.samples if s.label.isdigit()})
    labels = ["start", "warm", *map(str, counts), "end", "idle"]
    width = 19
    head = f"{'point':<24}" + "".join(f"{run.provider:>{width}}" for run in runs)
    print(head)
    print("-" * len(head))
    for label in labels:
        cells = []
        for run in runs:
            found = [s for s in run.samples if s.label == label]
            cells.append(f"{found[0].rss_mb:>10.1f} ({found[0].fds:>5})" if found else "-")
        name = LABELS[label] if label in LABELS else f"after {int(label):,} requests"
        print(f"{name:<24}" + "".join(f"{c:>{width}}" for c in cells))
    rows = [
        ("requests sent", [f"{run.sent:,}" for run in runs]),
        ("seconds", [f"{run.seconds:.0f}" for run in runs]),
        ("errors (not 200)", [f"{run.errors}" for run in runs]),
        ("growth vs warm-up MB", [f"{run.growth_mb:+.1f}" for run in runs]),
        ("growth vs cold MB", [f"{run.rss('idle') - run.rss('start'):+.1f}" for run in runs]),
        (f"goal <= {GOAL_MB:g} MB", ["PASS" if run.passed else "FAIL" for run in runs]),
    ]
    for name, cells in rows:
        print(f"{name:<24}" + "".join(f"{c:>{width}}" for c in cells))
    for run in runs:
        if run.stopped:
            print(f"  {run.provider}: stopped after {run.sent:,} requests: {run.stopped}")
        for kind, n in sorted(run.error_kinds.items(), key=lambda item: -item[1])[:3]:
            print(f"  {run.provider}: {n} x {kind}")
    print(f"goal: RSS after {IDLE_SECONDS:g} s idle within {GOAL_MB:g} MB of the start (after warm-up)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="requests per provider")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--providers", default=",".join(PROVIDERS), help="comma-separated: " + ", ".join(PROVIDERS)
    )
    parser.add_argument("--every", type=int, default=1000, help="sample the server every N requests")
    parser.add_argument("--max-seconds", type=float, default=0, help="stop sending to a provider after S s")
    parser.add_argument(
        "--max-rss-mb",
        type=float,
        default=4096,
        help="stop sending to a provider once the server's RSS is over this (the machine is shared)",
    )
    args = parser.parse_args()
    providers = [p for p in args.providers.split(",") if p]
    unknown = sorted(set(providers) - set(PROVIDERS))
    if unknown or not providers:
        parser.error(f"unknown providers {unknown}; choose from {', '.join(PROVIDERS)}")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    env = bench_env()
    fake = None
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            fake, fake_port = start_fake(env)
            base = f"http://{HOST}:{fake_port}"
            config = Path(tmp) / "dawai.toml"
            config.write_text(CONFIG.format(name=COMPATIBLE, base=base))
            server_env = {k: v for k, v in env.items() if not k.endswith("_API_KEY")}
            server_env.update(fake_upstream_env(base, server_keys=False))
            server_env["DAWAI_CONFIG"] = str(config)
            for provider in providers:
                runs.append(measure(provider, server_env, args))
        finally:
            stop(fake)
    print_table(runs, args)
    print(
        "JSON "
        + json.dumps(
            {
                "requests": args.requests,
                "concurrency": args.concurrency,
                "goal_mb": GOAL_MB,
                "providers": {run.provider: run.as_json() for run in runs},
                "pass": all(run.passed for run in runs),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
