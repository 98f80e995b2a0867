"""Idle memory of ``dawai serve``, and after 1,000 health requests.

Starts the real server on 127.0.0.1 with every built-in plugin (and any installed one),
measures its RSS at idle, after 1,000 sequential ``GET /health`` and after 1,000 more
sent 50 at a time, and reports which heavy modules a fresh app has imported (the SDKs
and onnxruntime load lazily, on first use) and what each costs when it does load.

    .venv/bin/python bench/idle_memory.py [--requests 1000] [--concurrency 50]

Prints a table, then one line ``JSON {...}``. Goal: idle RSS under 150 MB (the
architecture document's limit is 500 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_processes import HOST, bench_env, free_port, rss_mb, stop
from sse_load import post_stream

HEAVY = ("anthropic", "openai", "google.genai", "onnxruntime", "numpy", "litestar", "uvicorn")
PROBE = """
import json, sys, psutil
from dawai.bootstrap.asgi import create
create()
base = psutil.Process().memory_info().rss
loaded = sorted(m for m in {heavy!r} if m in sys.modules)
costs = {{}}
for name in ("anthropic", "openai", "google.genai", "onnxruntime"):
    before = psutil.Process().memory_info().rss
    __import__(name)
    costs[name] = round((psutil.Process().memory_info().rss - before) / 2**20, 1)
print(json.dumps({{"app_rss_mb": round(base / 2**20, 1), "loaded": loaded, "import_mb": costs}}))
"""


async def get(port: int) -> float:
    started = time.perf_counter()
    result = await post_stream(HOST, port, "/health", b"", b"", done_marker=None, timeout=10, method="GET")
    if result.status != 200:
        raise RuntimeError(f"health answered {result.status}")
    return (time.perf_counter() - started) * 1000


async def sequential(port: int, n: int) -> tuple[list[float], float]:
    started = time.perf_counter()
    latencies = [await get(port) for _ in range(n)]
    return latencies, n / (time.perf_counter() - started)


async def concurrent(port: int, n: int, width: int) -> float:
    started = time.perf_counter()
    for offset in range(0, n, width):
        await asyncio.gather(*(get(port) for _ in range(min(width, n - offset))))
    return n / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    port = free_port()
    env = bench_env()
    env.update({"DAWAI_LOG_LEVEL": "warning", "DAWAI_ACCESS_LOG": "false"})
    server = subprocess.Popen(
        [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(port)], env=env
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                asyncio.run(get(port))
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline or server.poll() is not None:
                    print("the server did not come up", file=sys.stderr)
                    return 1
                time.sleep(0.1)
        time.sleep(1.0)
        idle = rss_mb(server.pid)
        latencies, rps_seq = asyncio.run(sequential(port, args.requests))
        after_seq = rss_mb(server.pid)
        rps_conc = asyncio.run(concurrent(port, args.requests, args.concurrency))
        after_conc = rss_mb(server.pid)
    finally:
        stop(server)
    probe = json.loads(
        subprocess.run(
            [sys.executable, "-c", PROBE.format(heavy=HEAVY)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    ordered = sorted(latencies)
    p50, p99 = statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]
    print(f"dawai serve, idle memory ({os.cpu_count()} cores)")
    print(f"{'measure':<44} {'value':>12}")
    print("-" * 57)
    rows = [
        ("RSS at idle (MB)", f"{idle:.1f}"),
        (f"RSS after {args.requests} sequential /health (MB)", f"{after_seq:.1f}"),
        (f"RSS after {args.requests} more, {args.concurrency} at a time (MB)", f"{after_conc:.1f}"),
        ("health latency p50 / p99 (ms)", f"{p50:.2f} / {p99:.2f}"),
        ("requests/s sequential / concurrent", f"{rps_seq:.0f} / {rps_conc:.0f}"),
        ("heavy modules loaded by a fresh app", ", ".join(probe["loaded"]) or "-"),
    ]
    rows += [(f"RSS added by importing {name} (MB)", f"{mb:.1f}") for name, mb in probe["import_mb"].items()]
    for name, value in rows:
        print(f"{name:<44} {value:>12}")
    ok = idle < 150
    print(f"goal idle RSS < 150 MB: {'met' if ok else 'NOT met'}")
    print(
        "JSON "
        + json.dumps(
            {
                "idle_rss_mb": round(idle, 1),
                "rss_after_sequential_mb": round(after_seq, 1),
                "rss_after_concurrent_mb": round(after_conc, 1),
                "p50_ms": round(p50, 3),
                "p99_ms": round(p99, 3),
                "rps_sequential": round(rps_seq),
                "rps_concurrent": round(rps_conc),
                "heavy_modules_loaded_at_idle": probe["loaded"],
                "sdk_import_mb": probe["import_mb"],
                "goal_idle_rss_mb": 150,
                "pass": ok,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
