"""The whole service under load: ``dawai serve`` (1 and 2 workers) and the loopback fake upstream.

For each worker count, against a real ``dawai serve`` whose providers point at the fake
upstream (``tests/fakes/llm_upstream.py``), both started as processes on 127.0.0.1:

1. **burst**: ``--streams`` (1,000) SSE chat streams started at the same instant
   (``POST /api/stream/chat``, a 20-piece reply 10 ms a piece); errors, p50/p99 time to
   first token and total time.
2. **mixed**: ``--clients`` clients for ``--duration`` seconds, each going round the routes
   (chat, the streaming agent over the fake, the local generator, synthesis with the
   built-in voice, ghost text, health), one request after another; errors and p50/p99
   per route.
3. **soak** (``--soak``, off by default): the mixed load for ``--soak-duration`` seconds
   (600), the server's RSS sampled all along.

The server's RSS (every process of it: the workers with their supervisor) is read once
each route has been asked once (the start), at its peak during each phase, and after each
phase once the server has been idle ``--settle`` seconds; goal: back within 5% of the
start after the load, and flat over the soak (its last tenth within 5% of its second).
The rate limits are on, each class at 100,000,000 a minute, so every request pays for
them and none is refused (the refusals ``/metrics`` counts are printed: goal 0). Last,
the rate-limit overhead per request in memory and with the real Redis (``--redis``), by
``bench/rate_limit.py``'s method (goals 50 µs and 1 ms).

    .venv/bin/python bench/load.py [--workers 1,2] [--streams 1000] [--clients 24]
        [--duration 30] [--soak] [--soak-duration 600] [--redis redis://127.0.0.1:6379/15]

Prints a table, then one line ``JSON {...}``. Every loop and every request is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chat_overhead import PeakRSS, pct
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
from sse_load import Result, post_stream, run_concurrent

RATE = "100000000/minute"
STREAM_MODEL = "openai/fake+chunks=20+delay=0.01+length=80"
PLAN = json.dumps(
    {
        "actions": [
            {
                "type": "addTrack",
                "params": {"name": "Keys", "trackType": "midi", "id": "keys"},
                "description": "Keys",
            },
            {
                "type": "addNotes",
                "params": {
                    "trackId": "keys",
                    "notes": [{"pitch": 60, "time": 0, "duration": 0.5, "velocity": 0.8}],
                },
                "description": "A note",
            },
        ],
        "summary": "Added keys",
        "nextSteps": "Play it",
    }
)
LINES = (
    "I walk alone through the ci",
    "Under the neon ",
    "C G Am ",
    "夜空に",
    "rev",
    "Hold me tight and never let ",
)


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    path: str
    first: bytes  # what marks the first token (streams) or any body (b"")
    done: bytes | None  # a stream's last event; None: the body ends when the server closes


ROUTES = (
    Route("chat", "POST", "/api/chat", b"", None),
    Route("agent stream", "POST", "/api/stream/agent", b'"type":"action"', b"data: [DONE]"),
    Route("generate (local)", "POST", "/api/generate", b"", None),
    Route("synthesis", "POST", "/diffsinger/synthesize", b"", None),
    Route("ghost text", "POST", "/ghost_text/complete", b"", None),
    Route("health", "GET", "/health", b"", None),
)


def body_for(route: Route, i: int) -> bytes:
    """The request body of ``route``'s ``i``-th request: values vary, so caches both hit and miss."""
    if route.name == "chat":
        body: Any = {"message": f"hi {i % 97}", "model": "openai/fake+chunks=4"}
    elif route.name == "agent stream":
        body = {"prompt": "add keys", "model": "openai/plan+chunks=24+delay=0.002"}
    elif route.name == "generate (local)":
        kinds = ("bassline", "melody", "drum pattern", "chord progression")
        body = {"prompt": f"funky {kinds[i % 4]}", "model": "local", "bars": 4, "seed": i % 50}
    elif route.name == "synthesis":  # 48 phrases: misses, then mostly hits
        notes = [
            {"pitch": 55 + i % 12 + k, "start": k * 0.3, "duration": 0.3, "lyric": "la"} for k in range(4)
        ]
        body = {"notes": notes, "keyShift": (i // 12) % 4}
    elif route.name == "ghost text":
        body = {"text": LINES[i % len(LINES)] + "abcdefgh"[: (i // len(LINES)) % 4], "maxCandidates": 3}
    else:
        return b""
    return json.dumps(body).encode()


@dataclass
class Phase:
    name: str
    results: dict[str, list[Result]] = field(default_factory=dict)
    seconds: float = 0.0
    rss_peak: float = 0.0
    rss_after: float = 0.0
    cpu: float = 0.0  # the server's CPU seconds (user + system, every process) in the phase
    samples: list[tuple[float, float]] = field(default_factory=list)  # (seconds in, MiB)


async def one(port: int, route: Route, i: int, timeout: float = 60.0) -> Result:
    return await post_stream(
        HOST, port, route.path, body_for(route, i), route.first, done_marker=route.done,
        timeout=timeout, method=route.method,
    )  # fmt: skip


async def mixed(port: int, clients: int, seconds: float) -> dict[str, list[Result]]:
    """``clients`` loops, each going round ``ROUTES`` (from a different start) until time is up."""
    results: dict[str, list[Result]] = {r.name: [] for r in ROUTES}
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    async def client(c: int) -> None:
        k = c
        while loop.time() < end:
            route = ROUTES[k % len(ROUTES)]
            results[route.name].append(await one(port, route, k))
            k += 1

    await asyncio.gather(*(client(c) for c in range(clients)))
    return results


async def warm_up(port: int, workers: int) -> None:
    """Every route asked until each worker has surely answered it (SDKs, voices and the
    ghost-text engine load on first use), route by route."""
    for route in ROUTES:
        for i in range(3):
            await asyncio.gather(*(one(port, route, i * 8 * workers + k) for k in range(4 * workers)))


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server and its workers, from psutil."""
    server = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in (server, *server.children(recursive=True)))


class Sampler:
    """The server's RSS every ``interval`` seconds, in a thread."""

    def __init__(self, pid: int, interval: float) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.monotonic()
        while not self._stop.is_set():
            self.samples.append((time.monotonic() - started, rss_mb(self.pid)))
            self._stop.wait(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def settle(pid: int, seconds: float) -> float:
    time.sleep(seconds)
    return rss_mb(pid)


def scrape(port: int) -> dict[str, float]:
    """Refusals and upstream errors from ``/metrics`` (every worker's)."""
    from urllib.request import urlopen

    from prometheus_client.parser import text_string_to_metric_families

    with urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    totals: dict[str, float] = {"rate_limit_refusals": 0.0, "upstream_errors": 0.0, "requests": 0.0}
    names = {
        "dawai_rate_limit_refusals_total": "rate_limit_refusals",
        "dawai_upstream_errors_total": "upstream_errors",
        "dawai_http_requests_total": "requests",
    }
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in names:
                totals[names[sample.name]] += sample.value
            if sample.name == "dawai_upstream_errors_total":
                kind = f"upstream_errors.{sample.labels['provider']}.{sample.labels['kind']}"
                totals[kind] = totals.get(kind, 0.0) + sample.value
    return totals


def run_workers(workers: int, args: argparse.Namespace) -> dict[str, Any]:
    env = bench_env()
    fake = server = None
    phases: list[Phase] = []
    try:
        fake, fake_port = start_fake(env, {"plan": PLAN})
        port = free_port()
        env.update(fake_upstream_env(f"http://{HOST}:{fake_port}"))
        env.update({f"DAWAI_RATE_LIMIT_{c}": RATE for c in ("CHAT", "SYNTHESIS", "GHOST_TEXT", "OTHER")})
        env.update({"DAWAI_FIRST_TOKEN_TIMEOUT": "120", "DAWAI_GHOST_FEEDBACK_PATH": ":memory:"})
        # The caps on open streams and renders (per client: every request here is one
        # client's) above the load, so that they run and refuse nothing.
        caps = str(max(args.streams, args.clients) + 64)
        env.update(
            {
                f"DAWAI_MAX_{name}": caps
                for name in ("STREAMS", "STREAMS_PER_CLIENT", "RENDERS", "RENDERS_PER_CLIENT")
            }
        )
        command = [
            sys.executable,
            "-m",
            "dawai.bootstrap.cli",
            "serve",
            "--workers",
            str(workers),
            "--port",
            str(port),
        ]
        server = subprocess.Popen(command, cwd=ROOT, env=env)
        wait_healthy(port, server)
        pid = server.pid
        cold = rss_mb(pid)
        asyncio.run(warm_up(port, workers))
        start = settle(pid, args.settle)

        burst = Phase("burst")
        body = json.dumps({"message": "hello there band", "model": STREAM_MODEL}).encode()
        with PeakRSS(pid) as peak:
            began, cpu = time.perf_counter(), cpu_seconds(pid)
            burst.results["chat stream"] = asyncio.run(
                run_concurrent(
                    args.streams, HOST, port, "/api/stream/chat", body, b'"type":"text"', timeout=120.0
                )
            )
            burst.seconds, burst.cpu = time.perf_counter() - began, cpu_seconds(pid) - cpu
        burst.rss_peak, burst.rss_after = peak.peak, settle(pid, args.settle)
        phases.append(burst)

        load = Phase("mixed")
        with PeakRSS(pid) as peak:
            began, cpu = time.perf_counter(), cpu_seconds(pid)
            load.results = asyncio.run(mixed(port, args.clients, args.duration))
            load.seconds, load.cpu = time.perf_counter() - began, cpu_seconds(pid) - cpu
        load.rss_peak, load.rss_after = peak.peak, settle(pid, args.settle)
        phases.append(load)

        if args.soak:
            soak = Phase("soak")
            with PeakRSS(pid) as peak, Sampler(pid, max(2.0, args.soak_duration / 60)) as sampler:
                began, cpu = time.perf_counter(), cpu_seconds(pid)
                soak.results = asyncio.run(mixed(port, args.clients, args.soak_duration))
                soak.seconds, soak.cpu = time.perf_counter() - began, cpu_seconds(pid) - cpu
            soak.samples = sampler.samples
            soak.rss_peak, soak.rss_after = peak.peak, settle(pid, args.settle)
            phases.append(soak)
        counted = scrape(port)
    finally:
        stop(server)
        stop(fake)
    return {"workers": workers, "cold": cold, "start": start, "phases": phases, "metrics": counted}


def route_row(phase: Phase, route: str, results: list[Result]) -> dict[str, Any]:
    ok = [r for r in results if r.error is None]
    totals = [r.total for r in ok if r.total is not None]
    ttfts = [r.ttft for r in ok if r.ttft is not None]
    errors: dict[str, int] = {}
    for r in results:
        if r.error is not None:
            errors[r.error] = errors.get(r.error, 0) + 1
    streamed = route in ("chat stream", "agent stream")
    return {
        "phase": phase.name,
        "route": route,
        "requests": len(results),
        "per_s": round(len(results) / phase.seconds, 1) if phase.seconds else None,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "ttft_p50_ms": round(pct(ttfts, 0.5) * 1000, 2) if streamed and ttfts else None,
        "ttft_p99_ms": round(pct(ttfts, 0.99) * 1000, 2) if streamed and ttfts else None,
        "p50_ms": round(pct(totals, 0.5) * 1000, 2) if totals else None,
        "p99_ms": round(pct(totals, 0.99) * 1000, 2) if totals else None,
    }


def soak_flat(samples: list[tuple[float, float]]) -> tuple[float, float] | None:
    """The mean RSS of the soak's second tenth and of its last tenth (the first tenth warms up)."""
    if len(samples) < 10:
        return None
    tenth = len(samples) // 10
    early = [mb for _, mb in samples[tenth : 2 * tenth]]
    late = [mb for _, mb in samples[-tenth:]]
    return sum(early) / len(early), sum(late) / len(late)


def rate_limit_overhead(redis: str) -> dict[str, Any]:
    import rate_limit

    options = argparse.Namespace(requests=20000, clients=1000, rounds=5, redis=redis)
    try:
        medians = asyncio.run(rate_limit.run(options))
    except SystemExit as exc:  # Redis not answering: memory alone
        print(f"rate limits: {exc}; measuring memory only")
        options.redis = ""
        medians = asyncio.run(rate_limit.run(options))
    floor = medians.pop("floor (limits off)")
    return {
        "floor_us": round(floor, 2),
        **{f"{k}_overhead_us": round(v - floor, 2) for k, v in medians.items()},
    }


def report(runs: list[dict[str, Any]], overhead: dict[str, Any] | None, args: argparse.Namespace) -> None:
    soak = f"; soak {args.soak_duration:g} s" if args.soak else ""
    print(
        f"load: dawai serve against the loopback fake upstream, {os.cpu_count()} cores; burst {args.streams} "
        f"streams; mixed {args.clients} clients x {args.duration:g} s{soak}"
    )
    head = (
        f"{'workers':>7} {'phase':<6} {'route':<17} {'requests':>8} {'per s':>7} {'errors':>6} | "
        f"{'TTFT p50':>8} {'p99':>7} | {'total p50':>9} {'p99':>8}  (ms)"
    )
    print(head)
    print("-" * len(head))
    out: dict[str, Any] = {
        "streams": args.streams,
        "clients": args.clients,
        "duration_s": args.duration,
        "runs": [],
    }
    for run in runs:
        rows = []
        for phase in run["phases"]:
            for route, results in phase.results.items():
                row = route_row(phase, route, results)
                rows.append(row)
                ttft = (
                    f"{row['ttft_p50_ms']:>8.1f} {row['ttft_p99_ms']:>7.1f}"
                    if row["ttft_p50_ms"] is not None
                    else f"{'':>8} {'':>7}"
                )
                total = (
                    f"{row['p50_ms']:>9.1f} {row['p99_ms']:>8.1f}"
                    if row["p50_ms"] is not None
                    else f"{'-':>9} {'-':>8}"
                )
                print(
                    f"{run['workers']:>7} {phase.name:<6} {route:<17} {row['requests']:>8} {row['per_s']:>7} "
                    f"{row['errors']:>6} | {ttft} | {total}"
                )
                for kind, count in row["error_kinds"].items():
                    print(f"{'':>15} error: {count} x {kind}")
        run["rows"] = rows
    print()
    head = (
        f"{'workers':>7} {'RSS MiB: cold':>13} {'start':>7} | "
        f"{'phase':<6} {'peak':>7} {'after':>7} {'vs start':>9} {'goal ≤5%':>8} | "
        f"{'wall s':>6} {'server CPU s':>12}"
    )
    print(head)
    print("-" * len(head))
    all_errors = 0
    for run in runs:
        start = run["start"]
        record: dict[str, Any] = {
            "workers": run["workers"],
            "rss_cold_mb": round(run["cold"], 1),
            "rss_start_mb": round(start, 1),
            "phases": {},
            "metrics": run["metrics"],
            "routes": run["rows"],
        }
        all_errors += sum(row["errors"] for row in run["rows"])
        for phase in run["phases"]:
            change = (phase.rss_after - start) / start * 100
            print(
                f"{run['workers']:>7} {run['cold']:>13.1f} {start:>7.1f} | {phase.name:<6} "
                f"{phase.rss_peak:>7.1f} {phase.rss_after:>7.1f} {change:>+8.1f}% "
                f"{'met' if change <= 5 else 'NOT met':>8} | {phase.seconds:>6.1f} {phase.cpu:>12.1f}"
            )
            entry: dict[str, Any] = {
                "rss_peak_mb": round(phase.rss_peak, 1),
                "rss_after_mb": round(phase.rss_after, 1),
                "rss_after_vs_start_pct": round(change, 2),
                "seconds": round(phase.seconds, 1),
                "server_cpu_s": round(phase.cpu, 2),
            }
            flat = soak_flat(phase.samples)
            if flat is not None:
                early, late = flat
                drift = (late - early) / early * 100
                print(
                    f"{'':>7} soak RSS: second tenth {early:.1f} MiB, last tenth {late:.1f} MiB "
                    f"({drift:+.1f}%, goal flat ≤5%: {'met' if abs(drift) <= 5 else 'NOT met'})"
                )
                entry.update(
                    {
                        "soak_early_mb": round(early, 1),
                        "soak_late_mb": round(late, 1),
                        "soak_drift_pct": round(drift, 2),
                    }
                )
                entry["soak_samples"] = [(round(t, 1), round(mb, 1)) for t, mb in phase.samples]
            record["phases"][phase.name] = entry
        m = run["metrics"]
        print(
            f"{'':>7} /metrics: {m['requests']:.0f} requests, {m['rate_limit_refusals']:.0f} "
            f"rate-limit refusals (goal 0), {m['upstream_errors']:.0f} upstream errors"
        )
        for name, count in sorted(m.items()):
            if name.startswith("upstream_errors."):
                print(f"{'':>17} {name.removeprefix('upstream_errors.').replace('.', ' ')}: {count:.0f}")
        out["runs"].append(record)
    out["errors"] = all_errors
    out["errors_goal_met"] = all_errors == 0
    if overhead is not None:
        print()
        print(
            f"rate-limit overhead per request (bench/rate_limit.py's method; floor {overhead['floor_us']} µs)"
        )
        for name, goal in (("memory", 50.0), ("redis", 1000.0)):
            if f"{name}_overhead_us" in overhead:
                over = overhead[f"{name}_overhead_us"]
                print(f"  {name:<7} +{over:.1f} µs (goal ≤ {goal:g}: {'met' if over <= goal else 'NOT met'})")
        out["rate_limit"] = overhead
    print("JSON " + json.dumps(out, ensure_ascii=False))


def raise_fd_limit(needed: int) -> None:
    """Enough file descriptors for ``needed`` connections here and in the server (which inherits it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, needed))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < needed:
        raise SystemExit(f"{needed} file descriptors needed; the hard limit is {hard}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2", help="worker counts to run (comma-separated)")
    parser.add_argument("--streams", type=int, default=1000, help="concurrent SSE chat streams in the burst")
    parser.add_argument("--clients", type=int, default=24, help="concurrent clients of the mixed load")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of mixed load")
    parser.add_argument("--soak", action="store_true", help="then a soak: the mixed load for --soak-duration")
    parser.add_argument(
        "--soak-duration", type=float, default=600.0, help="seconds of soak (default 10 minutes)"
    )
    parser.add_argument("--settle", type=float, default=5.0, help="idle seconds before each RSS 'after'")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15", help="'' to leave Redis out")
    parser.add_argument("--no-rate-limit", action="store_true", help="skip the rate-limit overhead section")
    args = parser.parse_args()
    raise_fd_limit(2 * args.streams + 512)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    runs = [run_workers(int(w), args) for w in args.workers.split(",") if w]
    overhead = None if args.no_rate_limit else rate_limit_overhead(args.redis)
    report(runs, overhead, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
