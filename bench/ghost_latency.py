"""Ghost-text latency over HTTP against a real ``dawai serve``: p50/p95/p99 of
``POST /ghost_text/complete`` (embedded engine) for 1 and 20 typists at once, with
``GET /health`` over the same client as the floor.

Each typist holds one keep-alive connection and types the held-out lines
(``bench/data/ghost_heldout_*.txt``, English and Japanese) one character at a time, asking
for completions after every keystroke (one every 100 ms by default: a fast typist; with
``--interval-ms 0`` as fast as the server answers, a throughput test), as its own user;
what a keystroke typed into a shown
candidate is answered from the typed-ahead cache, as it would be in the editor. The
latency is the client's, from the request's first byte written to the reply's last byte read.

    .venv/bin/python bench/ghost_latency.py [--keystrokes 300] [--typists 1,20] [--interval-ms 100]

Prints a table, then one line ``JSON {...}``. Goal: embedded p95 <= 10 ms on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_processes import HOST, ROOT, bench_env, free_port, stop, wait_healthy

DATA = ROOT / "bench" / "data"
GOAL_P95_MS = 10.0


def held_out_lines() -> list[str]:
    lines: list[str] = []
    for name in ("ghost_heldout_en.txt", "ghost_heldout_ja.txt"):
        text = (DATA / name).read_text(encoding="utf-8")
        lines += [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return lines


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads one reply."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, float]:
        assert self.reader is not None and self.writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            + ("Content-Type: application/json\r\n" if body else "")
            + f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        started = time.perf_counter()
        self.writer.write(head + body)
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        return status, payload, (time.perf_counter() - started) * 1000

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def typist(
    port: int, index: int, lines: list[str], keystrokes: int, health: bool, interval: float
) -> list[float]:
    """One user typing ``keystrokes`` characters of the lines (from line ``index`` on), one
    every ``interval`` seconds (0: as fast as the replies come)."""
    connection = Connection(port)
    await connection.open()
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time() + interval * index / 20  # the typists start out of step
    try:
        done = 0
        position = index
        previous = ""
        while done < keystrokes:
            line = lines[position % len(lines)]
            position += 1
            for end in range(1, len(line) + 1):
                if done >= keystrokes:
                    break
                if interval:
                    await asyncio.sleep(max(start + done * interval - loop.time(), 0.0))
                if health:
                    status, _, elapsed = await connection.request("GET", "/health")
                else:
                    body = json.dumps(
                        {"text": previous + line[:end], "userId": f"typist-{index}", "maxCandidates": 3}
                    ).encode()
                    status, payload, elapsed = await connection.request("POST", "/ghost_text/complete", body)
                    if status != 200:
                        raise RuntimeError(f"complete answered {status}: {payload[:200]!r}")
                latencies.append(elapsed)
                done += 1
            previous = (previous + line + "\n")[-600:]
    finally:
        await connection.close()
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


async def run(
    port: int, typists: int, keystrokes: int, health: bool, interval: float
) -> tuple[list[float], float]:
    lines = held_out_lines()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(typist(port, i, lines, keystrokes, health, interval) for i in range(typists))
    )
    wall = time.perf_counter() - started
    flat = [value for result in results for value in result]
    return flat, len(flat) / wall


async def warm(port: int) -> None:
    connection = Connection(port)
    await connection.open()
    try:
        for text in ("I walk alone through the ", "夜空に光る", "C G Am ", "warm up the engine"):
            await connection.request("POST", "/ghost_text/complete", json.dumps({"text": text}).encode())
    finally:
        await connection.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keystrokes", type=int, default=300, help="per typist")
    parser.add_argument("--typists", default="1,20")
    parser.add_argument(
        "--interval-ms", type=float, default=100.0, help="between one typist's keystrokes (0: no pause)"
    )
    args = parser.parse_args()
    widths = [int(part) for part in args.typists.split(",")]
    port = free_port()
    state = tempfile.mkdtemp(prefix="dawai-ghost-bench-")
    env = bench_env()
    env.update(
        {
            "DAWAI_LOG_LEVEL": "warning",
            "DAWAI_ACCESS_LOG": "false",
            "DAWAI_GHOST_FEEDBACK_PATH": os.path.join(state, "feedback.sqlite3"),
        }
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    rows: list[dict[str, object]] = []
    try:
        wait_healthy(port, server)
        asyncio.run(warm(port))  # loads the dictionaries and the corpus (a second or two)
        for width in widths:
            for what, health in (("ghost_text/complete", False), ("health (floor)", True)):
                latencies, rate = asyncio.run(
                    run(port, width, args.keystrokes, health, args.interval_ms / 1000)
                )
                rows.append(
                    {
                        "route": what,
                        "typists": width,
                        "requests": len(latencies),
                        "p50_ms": round(percentile(latencies, 0.50), 2),
                        "p95_ms": round(percentile(latencies, 0.95), 2),
                        "p99_ms": round(percentile(latencies, 0.99), 2),
                        "rps": round(rate),
                    }
                )
    finally:
        stop(server)
    pace = f"a keystroke every {args.interval_ms:g} ms" if args.interval_ms else "no pause between keystrokes"
    print(f"ghost text over HTTP, embedded engine, one dawai serve worker ({os.cpu_count()} cores), {pace}")
    print(
        f"{'route':<22} {'typists':>7} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7}"
    )
    print("-" * 74)
    for row in rows:
        print(
            f"{row['route']:<22} {row['typists']:>7} {row['requests']:>8} {row['p50_ms']:>8} "
            f"{row['p95_ms']:>8} {row['p99_ms']:>8} {row['rps']:>7}"
        )
    verdicts = {
        str(row["typists"]): float(row["p95_ms"]) <= GOAL_P95_MS  # type: ignore[arg-type]
        for row in rows
        if row["route"] == "ghost_text/complete"
    }
    for width, ok in verdicts.items():
        print(f"goal p95 <= {GOAL_P95_MS:g} ms with {width} typist(s): {'met' if ok else 'NOT met'}")
    print(
        "JSON "
        + json.dumps({"bench": "ghost_latency", "cores": os.cpu_count(), "rows": rows, "goal_met": verdicts})
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
