"""Ghost-text latency over HTTP against a real ``dawai serve``: p50/p95/p99 of
``POST /ghost_text/complete`` for the embedded engine and the hybrid engine, each for 1 and
20 typists at once, with ``GET /health`` over the same client as the floor.

Each typist holds one keep-alive connection and types the held-out lines
(``bench/data/ghost_heldout_*.txt``, English and Japanese) one character at a time, asking
for completions after every keystroke (one every 100 ms by default: a fast typist; with
``--interval-ms 0`` as fast as the server answers, a throughput test), as its own user;
what a keystroke typed into a shown
candidate is answered from the typed-ahead cache, as it would be in the editor. The
latency is the client's, from the request's first byte written to the reply's last byte read.

The hybrid engine runs over a decoder generated here (``tests/fakes/tiny_decoder.py``:
seeded random weights, optimum's layout; ``--lm-layers`` 4 blocks of 8 heads x 32, a
byte-level BPE tokenizer of ``--lm-vocab`` 2,000 trained on the engine's own corpus), in a
server of its own with ``ghost_text.lm_deadline_ms`` ``--deadline-ms`` (50); the model's
own cost per completion (one prefill and the batched greedy continuations, in this
process, one thread) is printed beside it. Its answers are only as good as random weights
make them: this measures time, not quality.

    .venv/bin/python bench/ghost_latency.py [--keystrokes 300] [--typists 1,20] [--interval-ms 100]
        [--engines embedded,hybrid] [--deadline-ms 50]

Prints a table, then one line ``JSON {...}``. Goals: embedded p95 <= 10 ms on 2 cores;
hybrid p95 <= its deadline + 5 ms.
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
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests.fakes.tiny_decoder

from server_processes import HOST, ROOT, bench_env, free_port, stop, wait_healthy

DATA = ROOT / "bench" / "data"
GOAL_P95_MS = 10.0
HYBRID_MARGIN_MS = 5.0


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


def model_folder(state: str, layers: int, vocab: int) -> str:
    """The generated decoder the hybrid engine runs (``tests/fakes/tiny_decoder.py``)."""
    from tests.fakes.tiny_decoder import build_tokenizer, write_model_folder

    corpus_dir = ROOT / "core" / "ghost" / "data"
    corpus = tuple(
        line
        for name in ("lyrics_en.txt", "lyrics_ja.txt")
        for line in (corpus_dir / name).read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )
    folder = Path(state) / "model"
    tokenizer = build_tokenizer(vocab, corpus, all_bytes=True)
    write_model_folder(folder, layers=layers, heads=8, kv_heads=8, head_dim=32, ffn=1024, tokenizer=tokenizer)
    return str(folder)


def lm_config(state: str, prompt_tokens: int) -> str:
    """``[engines.lm] options`` for the run: the context a completion sees."""
    path = Path(state) / "dawai.toml"
    path.write_text(f"[engines.lm.options]\nmax_prompt_tokens = {prompt_tokens}\n", encoding="utf-8")
    return str(path)


def model_cost(folder: str, lines: list[str], prompt_tokens: int, samples: int = 60) -> dict[str, float]:
    """The model's own time per completion in this process (one thread): p50/p95 ms."""
    from dawai.adapters.inference.lm import OnnxLMCompleter
    from dawai.ports.completion import EngineConfig

    options = {"max_prompt_tokens": prompt_tokens}
    engine = OnnxLMCompleter(EngineConfig(name="lm", folder=folder, threads=1, options=options))
    times: list[float] = []
    text = ""
    for index in range(samples):
        line = lines[index % len(lines)]
        prompt = (text + line[: max(len(line) // 2, 1)])[-600:]
        started = time.perf_counter()
        engine.generate(engine.prompt_ids(prompt))
        times.append((time.perf_counter() - started) * 1000)
        text += line + "\n"
    engine.close()
    return {"p50_ms": round(percentile(times, 0.5), 2), "p95_ms": round(percentile(times, 0.95), 2)}


def model_counts(port: int) -> dict[str, int]:
    """The hybrid engine's counters from /health (empty for the embedded engine)."""
    with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=10) as response:
        ghost = json.loads(response.read())["ghost_text"]
    return dict(ghost.get("counts") or {})


def serve_and_measure(
    env: dict[str, str], engine: str, widths: list[int], args: argparse.Namespace, floor: bool
) -> list[dict[str, object]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    rows: list[dict[str, object]] = []
    try:
        wait_healthy(port, server)
        asyncio.run(warm(port))  # loads the dictionaries, the corpus (and the model)
        for width in widths:
            routes = [("ghost_text/complete", False)] + ([("health (floor)", True)] if floor else [])
            for what, health in routes:
                before = model_counts(port)
                latencies, rate = asyncio.run(
                    run(port, width, args.keystrokes, health, args.interval_ms / 1000)
                )
                row: dict[str, object] = {
                    "route": what,
                    "engine": engine if not health else "-",
                    "typists": width,
                    "requests": len(latencies),
                    "p50_ms": round(percentile(latencies, 0.50), 2),
                    "p95_ms": round(percentile(latencies, 0.95), 2),
                    "p99_ms": round(percentile(latencies, 0.99), 2),
                    "rps": round(rate),
                }
                after = model_counts(port)
                if after and not health:
                    row["model"] = {k: after[k] - before.get(k, 0) for k in after}
                rows.append(row)
    finally:
        stop(server)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keystrokes", type=int, default=300, help="per typist")
    parser.add_argument("--typists", default="1,20")
    parser.add_argument(
        "--interval-ms", type=float, default=100.0, help="between one typist's keystrokes (0: no pause)"
    )
    parser.add_argument("--engines", default="embedded,hybrid")
    parser.add_argument("--deadline-ms", type=float, default=50.0, help="the hybrid engine's deadline")
    parser.add_argument("--lm-layers", type=int, default=2)
    parser.add_argument("--lm-prompt-tokens", type=int, default=64, help="[engines.lm] max_prompt_tokens")
    parser.add_argument("--lm-vocab", type=int, default=2000)
    args = parser.parse_args()
    widths = [int(part) for part in args.typists.split(",")]
    engines = [part.strip() for part in args.engines.split(",") if part.strip()]
    state = tempfile.mkdtemp(prefix="dawai-ghost-bench-")
    base = bench_env()
    base.update(
        {
            "DAWAI_LOG_LEVEL": "warning",
            "DAWAI_ACCESS_LOG": "false",
            "DAWAI_GHOST_FEEDBACK_PATH": os.path.join(state, "feedback.sqlite3"),
            # Every typist is 127.0.0.1, one client to the rate limits: 20 typists would be refused.
            "DAWAI_RATE_LIMIT_GHOST_TEXT": "unlimited",
        }
    )
    rows: list[dict[str, object]] = []
    cost: dict[str, float] | None = None
    for engine in engines:
        env = dict(base)
        if engine == "hybrid":
            folder = model_folder(state, args.lm_layers, args.lm_vocab)
            cost = model_cost(folder, held_out_lines(), args.lm_prompt_tokens)
            env.update(
                {
                    "DAWAI_CONFIG": lm_config(state, args.lm_prompt_tokens),
                    "DAWAI_GHOST_ENGINE": "hybrid",
                    "DAWAI_GHOST_LM_FOLDER": folder,
                    "DAWAI_GHOST_LM_DEADLINE_MS": f"{args.deadline_ms:g}",
                    "DAWAI_INFERENCE_THREADS": "1",
                }
            )
        elif engine != "embedded":
            parser.error(f"unknown engine {engine!r} (embedded, hybrid)")
        rows += serve_and_measure(env, engine, widths, args, floor=engine == engines[0])
    pace = f"a keystroke every {args.interval_ms:g} ms" if args.interval_ms else "no pause between keystrokes"
    print(f"ghost text over HTTP, one dawai serve worker ({os.cpu_count()} cores), {pace}")
    if cost is not None:
        print(
            f"hybrid: deadline {args.deadline_ms:g} ms; the generated model ({args.lm_layers} layers, "
            f"8x32 heads, vocabulary {args.lm_vocab}, {args.lm_prompt_tokens} prompt tokens) alone: "
            f"p50 {cost['p50_ms']} ms, p95 {cost['p95_ms']} ms per completion in process"
        )
    print(
        f"{'route':<22} {'engine':<9} {'typists':>7} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'req/s':>7}"
    )
    print("-" * 84)
    for row in rows:
        print(
            f"{row['route']:<22} {row['engine']:<9} {row['typists']:>7} {row['requests']:>8} "
            f"{row['p50_ms']:>8} {row['p95_ms']:>8} {row['p99_ms']:>8} {row['rps']:>7}"
        )
    for row in rows:
        model = row.get("model")
        if isinstance(model, dict):
            print(
                f"hybrid, {row['typists']} typist(s): the model merged into {model['merged']} answers "
                f"({model['late_hits']} of them late answers kept), missed the deadline {model['late']} "
                f"times, was busy {model['busy']}, cancelled {model['cancelled']}, failed {model['failed']}"
            )
    goals = {"embedded": GOAL_P95_MS, "hybrid": args.deadline_ms + HYBRID_MARGIN_MS}
    verdicts: dict[str, bool] = {}
    for row in rows:
        if row["route"] != "ghost_text/complete":
            continue
        engine, width = str(row["engine"]), str(row["typists"])
        verdicts[f"{engine}@{width}"] = float(row["p95_ms"]) <= goals[engine]  # type: ignore[arg-type]
    for key, ok in verdicts.items():
        engine, width = key.split("@")
        print(
            f"goal {engine} p95 <= {goals[engine]:g} ms with {width} typist(s): {'met' if ok else 'NOT met'}"
        )
    print(
        "JSON "
        + json.dumps(
            {
                "bench": "ghost_latency",
                "cores": os.cpu_count(),
                "deadline_ms": args.deadline_ms,
                "model_alone": cost,
                "rows": rows,
                "goal_met": verdicts,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
