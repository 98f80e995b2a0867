"""Singing synthesis: the built-in voice's speed, phrase-cache hits over HTTP, and /health
while renders run, against a real ``dawai serve`` on 127.0.0.1.

    .venv/bin/python bench/synthesis.py [--seconds 30] [--hits 50] [--renders 4] [--jobs 5]
        [--processes 2] [--section all|builtin|diffsinger]

Rows (each beside a floor measured in the same run):

- the built-in voice, in process: seconds of audio per second of rendering (× real time)
  for a ``--seconds`` phrase, warm; the floor is the FFT work alone for the same frames;
- a cache hit for the same phrase over HTTP (``POST /diffsinger/synthesize``, the WAV
  read whole), p50 and p99; the floor is ``GET /health`` on the same server;
- ``GET /ai/api/voice/health`` p99 while ``--renders`` distinct renders run at once, and
  idle: before (the voice rendering in a thread of the server, ``processes = 0``) and after
  (in ``--processes`` worker processes, the default);
- the job API's overhead: a phrase rendered through ``POST /diffsinger/jobs``, its event
  stream and ``GET .../audio`` against ``POST /diffsinger/synthesize`` (each phrase its
  own, so both render), and a cached phrase both ways (the API's own cost alone).

Goals: ≥ 200× real time; a hit ≤ 5 ms; health p99 ≤ 20 ms during the renders. Prints a
table, then one line ``JSON {...}``.

``--section diffsinger`` (and ``all``, the default) also runs ``bench/synthesis_diffsinger.py``:
a voicebank of random-weight graphs sized like a real one, each stage's real-time factor, the
pipeline's overhead over the raw ``session.run`` time, and memory per loaded voice (its own
table and JSON line; ``--ds-seconds``, ``--ds-steps``, ``--ds-provider``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_processes import HOST, bench_env, free_port, stop, wait_healthy

from dawai.adapters.inference.builtin_voice import BuiltinVoice
from dawai.adapters.inference.formant import HOP, WIN
from dawai.core.models import SynthesisNote, SynthesisRequest
from dawai.core.singing import SingingLimits, prepare
from dawai.ports.singing import VoiceConfig

LYRICS = ["さ", "く", "ら", "la", "love", "sing", "ka", "ze", "の", "う", "た"]


def phrase(seconds: float, key_shift: int = 0) -> dict:
    notes, t, i = [], 0.0, 0
    while t < seconds - 1e-9:
        length = min([0.25, 0.5, 0.75][i % 3], seconds - t)
        notes.append(
            {
                "pitch": 57 + (i * 5) % 12,
                "start": round(t, 6),
                "duration": round(length, 6),
                "lyric": LYRICS[i % len(LYRICS)],
            }
        )
        t += length
        i += 1
    return {"notes": notes, "keyShift": key_shift}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


def voice_speed(seconds: float, runs: int = 5) -> tuple[float, float]:
    body = phrase(seconds)
    request = prepare(
        SynthesisRequest("default", tuple(SynthesisNote(**n) for n in body["notes"])), SingingLimits()
    )
    voice = BuiltinVoice(VoiceConfig(name="default"))
    voice.render(request)  # warm: the dictionaries, FFT plans
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        voice.render(request)
        times.append(time.perf_counter() - began)
    frames = round(seconds * 44100 / HOP) + 2
    block = np.random.default_rng(0).standard_normal((frames, WIN)).astype(np.float32)
    floor = []
    for _ in range(runs):
        began = time.perf_counter()
        np.fft.irfft(np.fft.rfft(block, axis=1), n=WIN, axis=1)
        floor.append(time.perf_counter() - began)
    return seconds / statistics.median(times), seconds / statistics.median(floor)


def _server(args: argparse.Namespace, processes: int, tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``dawai serve`` with the built-in voice in ``processes`` worker processes (0: threads)."""
    config = tmp / f"voice-{processes}.toml"
    config.write_text(f"[voices.default]\noptions = {{ processes = {processes} }}\n")
    port = free_port()
    env = bench_env()
    env["DAWAI_RATE_LIMIT_SYNTHESIS"] = "1000000/minute"  # the bench measures speed, not the limit
    env.update({
        "DAWAI_LOG_LEVEL": "warning", "DAWAI_ACCESS_LOG": "false", "DAWAI_SING_RENDERS": str(args.renders),
        "DAWAI_SING_JOBS_PER_CLIENT": "1000", "DAWAI_CONFIG": str(config),
    })  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(port)], env=env
    )
    wait_healthy(port, server)
    return server, f"http://{HOST}:{port}"


def health_while_rendering(
    base: str, args: argparse.Namespace, shift: int
) -> tuple[list[float], list[float]]:
    """``GET /ai/api/voice/health`` latencies idle, then while ``--renders`` renders run."""
    with httpx.Client(base_url=base, timeout=300) as client:
        assert (
            client.post("/diffsinger/synthesize", json=phrase(2.0, key_shift=shift)).status_code == 200
        )  # warm
        idle = []
        for _ in range(100):
            began = time.perf_counter()
            client.get("/ai/api/voice/health")
            idle.append((time.perf_counter() - began) * 1000)

        def render(k: int) -> None:
            with httpx.Client(base_url=base, timeout=300) as own:
                own.post("/diffsinger/synthesize", json=phrase(4 * args.seconds, key_shift=k))

        workers = [threading.Thread(target=render, args=(shift + i + 1,)) for i in range(args.renders)]
        for worker in workers:
            worker.start()
        busy = []
        while any(w.is_alive() for w in workers):
            began = time.perf_counter()
            client.get("/ai/api/voice/health")
            busy.append((time.perf_counter() - began) * 1000)
            time.sleep(0.005)
        for worker in workers:
            worker.join()
    return idle, busy


def _by_job(client: httpx.Client, body: dict) -> tuple[float, bytes]:
    """A render through the job API: create, follow the event stream to its end, fetch."""
    began = time.perf_counter()
    created = client.post("/diffsinger/jobs", json=body)
    assert created.status_code == 202, created.text[:300]
    url = created.headers["location"]
    if created.json()["state"] != "done":
        with client.stream("GET", url + "/events") as events:
            for line in events.iter_lines():
                if line == "data: [DONE]":
                    break
    wav = client.get(url + "/audio")
    assert wav.status_code == 200, wav.text[:300]
    return (time.perf_counter() - began) * 1000, wav.content


def job_overhead(base: str, args: argparse.Namespace) -> dict[str, list[float]]:
    """The same phrase length rendered by ``synthesize`` and by a job (each a phrase of its
    own, so both render), then a cached phrase both ways (the API's own cost alone)."""
    out: dict[str, list[float]] = {"sync": [], "job": [], "sync_hit": [], "job_hit": []}
    with httpx.Client(base_url=base, timeout=300) as client:
        for i in range(args.jobs):
            body = phrase(args.seconds, key_shift=-(2 * i + 1))
            began = time.perf_counter()
            assert client.post("/diffsinger/synthesize", json=body).status_code == 200
            out["sync"].append((time.perf_counter() - began) * 1000)
            ms, _ = _by_job(client, phrase(args.seconds, key_shift=-(2 * i + 2)))
            out["job"].append(ms)
        cached = phrase(args.seconds, key_shift=-1)  # rendered above
        for _ in range(args.hits):
            began = time.perf_counter()
            client.post("/diffsinger/synthesize", json=cached)
            out["sync_hit"].append((time.perf_counter() - began) * 1000)
            out["job_hit"].append(_by_job(client, cached)[0])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--hits", type=int, default=50)
    parser.add_argument("--renders", type=int, default=4)
    parser.add_argument("--section", choices=["all", "builtin", "diffsinger"], default="all")
    parser.add_argument("--ds-seconds", type=float, default=4.0)
    parser.add_argument("--ds-steps", type=int, default=4)
    parser.add_argument("--ds-provider", choices=["auto", "cpu", "cuda"], default="cpu")
    parser.add_argument("--jobs", type=int, default=5, help="renders each way for the job API's overhead")
    parser.add_argument("--processes", type=int, default=2, help="the voice's worker processes, after")
    args = parser.parse_args()
    if args.section in ("all", "diffsinger"):
        import synthesis_diffsinger

        synthesis_diffsinger.print_report(
            synthesis_diffsinger.run(args.ds_seconds, args.ds_steps, 3, args.ds_provider, 0)
        )
        if args.section == "diffsinger":
            return 0
        print()
    speed, fft_floor = voice_speed(args.seconds)

    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="dawai-bench-synthesis-"))
    busy: dict[str, list[float]] = {}
    idle: dict[str, list[float]] = {}
    # Before: the voice renders in a thread of the server; after: in worker processes.
    for label, processes in (("threads", 0), ("processes", args.processes)):
        server, base = _server(args, processes, tmp)
        try:
            idle[label], busy[label] = health_while_rendering(base, args, shift=10 if processes else 20)
            if processes:
                with httpx.Client(base_url=base, timeout=120) as client:
                    body = phrase(args.seconds)
                    miss = client.post("/diffsinger/synthesize", json=body)
                    assert miss.status_code == 200 and miss.headers["x-cache"] == "miss", miss.text[:300]
                    hits, floor = [], []
                    for _ in range(args.hits):
                        began = time.perf_counter()
                        response = client.post("/diffsinger/synthesize", json=body)
                        hits.append((time.perf_counter() - began) * 1000)
                        assert response.headers["x-cache"] == "hit"
                        began = time.perf_counter()
                        client.get("/health")
                        floor.append((time.perf_counter() - began) * 1000)
                jobs = job_overhead(base, args)
        finally:
            stop(server)
    p50, p99 = percentile(hits, 0.5), percentile(hits, 0.99)
    med = {k: statistics.median(v) for k, v in jobs.items()}
    render_overhead = med["job"] - med["sync"]
    hit_overhead = med["job_hit"] - med["sync_hit"]
    before, after = percentile(busy["threads"], 0.99), percentile(busy["processes"], 0.99)
    rows = [
        (f"built-in voice, {args.seconds:g}-s phrase (x realtime)", f"{speed:.0f}", f"{fft_floor:.0f} FFTs"),
        (f"cache hit, {args.seconds:g}-s phrase, p50 / p99 (ms)", f"{p50:.2f} / {p99:.2f}",
         f"{percentile(floor, 0.5):.2f} / {percentile(floor, 0.99):.2f} (/health)"),
        (f"voice health p99, {args.renders} renders, in threads (ms)", f"{before:.2f}",
         f"{percentile(idle['threads'], 0.99):.2f} (idle)"),
        (f"voice health p99, {args.renders} renders, {args.processes} processes (ms)", f"{after:.2f}",
         f"{percentile(idle['processes'], 0.99):.2f} (idle)"),
        (f"render by job vs synthesize, {args.seconds:g}-s, median (ms)", f"{med['job']:.1f}",
         f"{med['sync']:.1f} (synthesize); +{render_overhead:.1f}"),
        ("cached phrase by job vs synthesize, median (ms)", f"{med['job_hit']:.2f}",
         f"{med['sync_hit']:.2f} (synthesize); +{hit_overhead:.2f}"),
    ]  # fmt: skip
    counts = f"{len(busy['threads'])} / {len(busy['processes'])} health requests during the renders"
    print(f"singing synthesis ({os.cpu_count()} cores, {counts})")
    print(f"{'measure':<60} {'value':>16}  floor")
    print("-" * 104)
    for name, value, ref in rows:
        print(f"{name:<60} {value:>16}  {ref}")
    goals = {
        "speed_x_realtime>=200": speed >= 200,
        "cache_hit_p50_ms<=5": percentile(hits, 0.5) <= 5,
        "health_p99_ms<=20": after <= 20,
    }
    for goal, met in goals.items():
        print(f"goal {goal}: {'met' if met else 'NOT met'}")
    print("JSON " + json.dumps({
        "cores": os.cpu_count(),
        "phrase_seconds": args.seconds,
        "builtin_x_realtime": round(speed, 1),
        "fft_floor_x_realtime": round(fft_floor, 1),
        "cache_hit_p50_ms": round(percentile(hits, 0.5), 3),
        "cache_hit_p99_ms": round(percentile(hits, 0.99), 3),
        "health_floor_p50_ms": round(percentile(floor, 0.5), 3),
        "voice_health_p99_busy_threads_ms": round(before, 3),
        "voice_health_p99_busy_processes_ms": round(after, 3),
        "voice_health_p99_idle_ms": round(percentile(idle["processes"], 0.99), 3),
        "job_render_median_ms": round(med["job"], 2),
        "sync_render_median_ms": round(med["sync"], 2),
        "job_hit_median_ms": round(med["job_hit"], 3),
        "sync_hit_median_ms": round(med["sync_hit"], 3),
        "renders": args.renders,
        "processes": args.processes,
        "goals": goals,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
