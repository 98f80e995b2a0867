"""Music benchmarks, in sections: ``--section keys``, ``--section generate``,
``--section parser`` (default: all of them, one after another).

**parser**: the streamed plan reader's cost per byte for 1-, 16- and 256-byte pieces
against one msgspec decode of the whole plan, beside a platform floor per piece size (a
``feed`` that only decodes and runs one compiled-regex search, no state machine), and the time
from an action's closing brace upstream to its SSE frame at 1 and 50 concurrent streaming
agents (``bench/music_parser.py``).

**keys**: key-estimation accuracy of the three profile sets side by side
(``dawai.core.music.key_estimation``; duration-weighted histograms), on

- generated material in all 24 keys (``bench/key_material.py``): diatonic phrases
  (goal >= 95%), the same with borrowed chords, secondary dominants and chromatic passing
  tones (goal >= 85%), and, for comparison without a goal, diatonic chords in any order;
- the 29 named progressions of ``core/music`` voiced in every key of their mode;
- real, human-written music from music21's corpus: the Bach chorales, labelled by the key
  signature and the final bass note, and the Essen folk songs, labelled by their encoders'
  tonic and the longer third above it (the rules are in ``bench/key_material.py``; goal
  >= 90%). Needs ``pip install -e '.[bench]'``; without music21 those rows say so and are
  skipped.

A floor in the same run: the most-sounding pitch class taken as the tonic, major or minor by
which third above it sounds longer. An estimate counts when tonic and mode are both right.
The section ends with the profile set ADR 25's rule chooses from these figures.

**generate**: the embedded generator (``model: "local"``), 16 bars of each part type, p50
and p95 of the time per part in process (``write_part``, the seed, key and style changing
each time; goal p95 <= 5 ms) and over HTTP, ``POST /api/generate`` to a real ``dawai serve``
on 127.0.0.1 through one kept-alive connection, as JSON and (melody) as MIDI (goal p95 <=
15 ms). The floor, in the same run on the same connection: ``GET /health``. In process, a
first pass over the same parts fills the caches (each key and style's progressions, each
loop's voicings: 24 keys x 10 styles) and is reported as ``cold``; the server is warmed
the same way.

    .venv/bin/python bench/music.py [--section keys] [--per-key 20] [--corpus-limit N]
    .venv/bin/python bench/music.py --section generate [--runs 200]
    .venv/bin/python bench/music.py --section parser [--quick]

Prints a table per section, then one line ``JSON {...}`` with every section's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import http.client
import statistics

from key_material import Note, Piece, bach_chorales, essen_folksongs, generated_pieces
from music_parser import parser_section
from server_processes import HOST, bench_env, free_port, stop, wait_healthy

from dawai.core.generation import STYLES, PartRequest, PartType, write_part
from dawai.core.music import (
    DEFAULT_PROFILE,
    KEY_PROFILES,
    PROGRESSIONS,
    Key,
    Mode,
    all_keys,
    estimate_key,
    pitch_class_histogram,
    voice_lead,
)

PROFILES = tuple(KEY_PROFILES)
GOALS = {"diatonic": 0.95, "borrowed": 0.85, "bach_chorales": 0.90, "essen_folksongs": 0.90}
REAL = ("bach_chorales", "essen_folksongs")
GENERATED_GOALS = ("diatonic", "borrowed")


def floor_estimate(notes: Sequence[Note]) -> Key | None:
    """The floor: the longest-sounding pitch class as the tonic, the longer third its mode."""
    histogram = pitch_class_histogram(notes)
    if max(histogram) <= 0:
        return None
    tonic = max(range(12), key=lambda pc: histogram[pc])
    minor = histogram[(tonic + 3) % 12] > histogram[(tonic + 4) % 12]
    return Key.canonical(tonic, Mode.MINOR if minor else Mode.MAJOR)


def _accuracy(pieces: Sequence[Piece], estimate: Callable[[Sequence[Note]], Key | None]) -> float:
    right = sum(1 for piece in pieces if estimate(piece.notes) == piece.key)
    return right / len(pieces) if pieces else 0.0


def _progression_pieces() -> list[Piece]:
    pieces = []
    for progression in PROGRESSIONS:
        for key in all_keys():
            if key.mode is not progression.mode:
                continue
            timed = progression.timed(key)
            chords = [chord for chord, _ in timed]
            notes, start = [], 0.0
            for (chord, bars), voicing in zip(timed, voice_lead(chords), strict=True):
                length = bars * 4.0
                notes.append(Note(36 + chord.bass_note.pc, start, length))
                notes += [Note(pitch, start, length) for pitch in voicing]
                start += length
            pieces.append(Piece(f"{progression.name} in {key}", key, tuple(notes)))
    return pieces


def keys_section(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    per_key = args.per_key
    sets: list[tuple[str, str, list[Piece]]] = [
        ("diatonic", "generated: diatonic phrases", generated_pieces("diatonic", per_key)),
        ("borrowed", "generated: borrowed chords + passing tones", generated_pieces("borrowed", per_key)),
        ("shuffled", "generated: diatonic chords in any order", generated_pieces("shuffled", per_key)),
        ("progressions", "core/music named progressions, all keys", _progression_pieces()),
    ]
    notes = []
    for name, label, read in (
        ("bach_chorales", "real: Bach chorales (music21 corpus)", bach_chorales),
        ("essen_folksongs", "real: Essen folk songs (music21 corpus)", essen_folksongs),
    ):
        try:
            corpus = read(args.corpus_limit)
        except ImportError:
            notes.append(f"{label}: music21 is not installed (pip install -e '.[bench]'), row skipped")
            continue
        sets.append((name, label, list(corpus.pieces)))
        notes.append(f"{label}: {corpus.files} read, {corpus.left_out} left out by its labelling rule")
    rows = []
    for name, label, pieces in sets:
        accuracy = {profile: _accuracy(pieces, lambda n, p=profile: _key(n, p)) for profile in PROFILES}
        rows.append(
            {
                "set": name,
                "label": label,
                "pieces": len(pieces),
                "accuracy": accuracy,
                "floor": _accuracy(pieces, floor_estimate),
                "goal": GOALS.get(name),
            }
        )
    width = max(len(row["label"]) for row in rows)
    print(f"keys: accuracy (tonic and mode right), default profile now {DEFAULT_PROFILE}")
    heads = " ".join(f"{profile:>18}" for profile in PROFILES)
    print(f"{'material':<{width}} {'pieces':>6} {heads} {'floor':>7} {'goal':>6}")
    for row in rows:
        figures = " ".join(f"{row['accuracy'][p]:>18.1%}" for p in PROFILES)
        goal = f"{row['goal']:.0%}" if row["goal"] else "-"
        print(f"{row['label']:<{width}} {row['pieces']:>6} {figures} {row['floor']:>7.1%} {goal:>6}")
    for note in notes:
        print(note)
    by_set = {row["set"]: row for row in rows}
    meets = {
        profile: all(by_set[name]["accuracy"][profile] >= GOALS[name] for name in GENERATED_GOALS)
        for profile in PROFILES
    }
    chosen = _choose(by_set, meets)
    print(
        "meets the generated-material goals: "
        + ", ".join(f"{p} {'yes' if ok else 'no'}" for p, ok in meets.items())
    )
    print(f"the rule (docs/adr/0025) chooses: {chosen}")
    return {
        "rows": rows,
        "meets_generated_goals": meets,
        "chosen": chosen,
        "default_profile": DEFAULT_PROFILE,
        "notes": notes,
        "seconds": round(time.perf_counter() - started, 2),
    }


def _choose(by_set: dict[str, dict[str, Any]], meets: dict[str, bool]) -> str | None:
    """ADR 25's rule: among the sets meeting the generated-material goals, the highest mean
    accuracy over the real-music rows (each corpus weighing the same); within one point of
    the best, the named progressions decide."""
    real = [by_set[name] for name in REAL if name in by_set]
    candidates = [profile for profile in PROFILES if meets[profile]]
    if not real or not candidates:
        return None
    mean = {p: sum(row["accuracy"][p] for row in real) / len(real) for p in candidates}
    best = max(mean.values())
    close = [p for p in candidates if mean[p] >= best - 0.01]
    if "progressions" in by_set:
        return max(close, key=lambda p: (by_set["progressions"]["accuracy"][p], mean[p]))
    return max(close, key=mean.__getitem__)


def _key(notes: Sequence[Note], profile: str) -> Key | None:
    found = estimate_key(notes, profile)
    return found.key if found else None


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 3),
    }


def _in_process(runs: int) -> dict[str, dict[str, float]]:
    """Each type timed over ``runs`` parts, keys and styles going round; first a pass that
    fills the caches (each key and style's progressions, each loop's voicings), timed on
    its own as ``cold``."""
    keys, styles = all_keys(), sorted(STYLES)

    def timed(part: PartType, run: int) -> float:
        request = PartRequest(part, keys[run % 24], 120.0, 16, run)
        style = STYLES[styles[run % len(styles)]]
        started = time.perf_counter()
        write_part(request, style)
        return time.perf_counter() - started

    figures = {}
    for part in PartType:
        cold = [timed(part, run) for run in range(runs)]
        warm = [timed(part, run) for run in range(runs)]
        figures[part.value] = {**_percentiles(warm), "cold_p50_ms": _percentiles(cold)["p50_ms"]}
    return figures


def _timed(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
) -> float:
    started = time.perf_counter()
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: {response.status}")
    return elapsed


def _over_http(runs: int) -> dict[str, dict[str, float]]:
    port = free_port()
    env = {**bench_env(), "DAWAI_LOG_LEVEL": "warning", "DAWAI_ACCESS_LOG": "false"}
    server = subprocess.Popen(
        [sys.executable, "-m", "dawai.bootstrap.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port, server)
        connection = http.client.HTTPConnection(HOST, port, timeout=10)
        json_headers = {"content-type": "application/json"}
        keys = [str(key) for key in all_keys()]

        def body(part: str, run: int) -> bytes:
            fields = {
                "prompt": "",
                "model": "local",
                "type": part,
                "key": keys[run % 24],
                "bars": 16,
                "seed": run,
            }
            return json.dumps(fields).encode()

        cases: dict[str, Callable[[int], float]] = {
            "floor: GET /health": lambda run: _timed(connection, "GET", "/health", None, {}),
        }
        for part in PartType:
            cases[part.value] = lambda run, p=part.value: _timed(
                connection, "POST", "/api/generate", body(p, run), json_headers
            )
        cases["melody as MIDI"] = lambda run: _timed(
            connection, "POST", "/api/generate", body("melody", run), {**json_headers, "accept": "audio/midi"}
        )
        for case in cases.values():  # warm up: imports, caches (every key), the connection
            for run in range(24):
                case(run)
        figures = {}
        for name, case in cases.items():
            figures[name] = _percentiles([case(run) for run in range(runs)])
        connection.close()
        return figures
    finally:
        stop(server)


def generate_section(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    local = _in_process(args.runs)
    http_figures = _over_http(max(20, args.runs // 2))
    print(
        f"generate: 16 bars of each type, model local; in process {args.runs} parts each, over HTTP "
        f"{max(20, args.runs // 2)} requests each on one kept-alive connection"
    )
    print(f"{'part':<20} {'in process p50':>15} {'p95':>8} {'cold p50':>9} {'HTTP p50':>10} {'p95':>8}")
    floor = http_figures.pop("floor: GET /health")
    for name, figures in http_figures.items():
        inner = local.get(name)
        left = (
            f"{inner['p50_ms']:>13.2f}ms {inner['p95_ms']:>6.2f}ms {inner['cold_p50_ms']:>7.2f}ms"
            if inner
            else f"{'-':>15} {'-':>8} {'-':>9}"
        )
        print(f"{name:<20} {left} {figures['p50_ms']:>8.2f}ms {figures['p95_ms']:>6.2f}ms")
    print(
        f"{'floor: GET /health':<20} {'-':>15} {'-':>8} {floor['p50_ms']:>8.2f}ms {floor['p95_ms']:>6.2f}ms"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    worst_local = max(figures["p95_ms"] for figures in local.values())
    worst_http = max(figures["p95_ms"] for figures in http_figures.values())
    print(
        f"goals: in process p95 <= 5 ms: {'yes' if worst_local <= 5 else 'no'} (worst {worst_local:.2f} ms); "
        f"over HTTP p95 <= 15 ms: {'yes' if worst_http <= 15 else 'no'} (worst {worst_http:.2f} ms)"
    )
    return {
        "in_process": local,
        "http": http_figures,
        "floor": floor,
        "goals_met": {"in_process": worst_local <= 5, "http": worst_http <= 15},
        "load_average": round(os.getloadavg()[0], 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


# Each section: a function of the parsed arguments that prints its table and returns its figures.
SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "keys": keys_section,
    "generate": generate_section,
    "parser": parser_section,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", choices=sorted(SECTIONS), action="append", help="default: every section")
    parser.add_argument("--per-key", type=int, default=20, help="keys: generated pieces per key and set")
    parser.add_argument(
        "--corpus-limit", type=int, default=None, help="keys: at most this many pieces a corpus"
    )
    parser.add_argument("--runs", type=int, default=200, help="generate: parts of each type timed in process")
    parser.add_argument("--quick", action="store_true", help="parser: fewer repeats")
    args = parser.parse_args()
    figures = {}
    for name in args.section or list(SECTIONS):
        figures[name] = SECTIONS[name](args)
        print()
    print("JSON " + json.dumps(figures))


if __name__ == "__main__":
    main()
