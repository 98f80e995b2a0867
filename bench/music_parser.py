"""``bench/music.py --section parser``: the streamed plan reader and the streaming agent.

- Cost per byte of scanning a plan (``core/agent/incremental.py``) and decoding each action
  as it completes, for 1-, 16- and 256-byte pieces, against one ``msgspec`` decode of the
  whole plan (the floor, in the same run), at two plan sizes: linear when the per-byte cost
  does not grow with the plan (``linearity``: large over small). Beside it a platform
  floor per piece size: a ``feed`` with no state machine (the bytes check, the incremental
  UTF-8 decoder's branch, one compiled-regex ``search`` over the piece, an empty list back),
  fed the same pieces the same way, so the report shows how much of the 1-byte figure any
  Python-level incremental parser pays, and the scanner's cost over it (``over floor``);
  and, per plan, one match of the scanner's own skipping pattern over each action
  (``re``), what a scanner built on ``re`` pays per byte however large its pieces. Times
  are this process's CPU time, the best of several runs.
- Time from an action's closing brace leaving a provider to its SSE frame being ready,
  through ``AgentService.stream`` (gateway, ``EventStream``, scanner, validator, frame
  encoder) in one process, at 1 and 50 concurrent streaming agents (32-byte pieces, 10 ms
  apart per stream, a fast model): p50 and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import gc
import json
import re
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec


def _plan_text(actions: int, notes: int) -> str:
    plan = {
        "actions": [
            {
                "type": "addNotes",
                "params": {
                    "trackId": "t1",
                    "notes": [
                        {
                            "id": None,
                            "pitch": 40 + n % 40,
                            "time": n * 0.25,
                            "duration": 0.25,
                            "velocity": 0.8,
                        }
                        for n in range(notes)
                    ],
                },
                "description": f'フレーズ {a}: a "quoted" {{brace}} line',
            }
            for a in range(actions)
        ],
        "summary": "A test plan",
        "nextSteps": "Listen",
    }
    return json.dumps(plan)


def _best(run: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` runs, in this process's CPU time (on a shared machine,
    time spent waiting for a core is not the code's)."""
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def _scan_cost(text: str, piece: int, repeats: int) -> float:
    from dawai.core.agent.incremental import ActionScanner

    decode = msgspec.json.Decoder().decode
    pieces = [text[i : i + piece] for i in range(0, len(text), piece)]

    def run() -> None:
        scanner = ActionScanner()
        for chunk in pieces:
            for element in scanner.feed(chunk):
                decode(element)
        scanner.finish()

    return _best(run, repeats)


class _FloorScanner:
    """The per-piece work any incremental parser does in Python, and nothing else."""

    _pattern = re.compile(r"[{}\[\]\"',:]")

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, piece: str | bytes) -> list[str]:
        text = self._utf8.decode(piece) if isinstance(piece, bytes) else piece
        out: list[str] = []
        if text:
            self._pattern.search(text)
        return out

    def finish(self) -> None:
        self._utf8.decode(b"", final=True)


def _decode_cost(text: str, repeats: int) -> float:
    """One msgspec decode of the whole plan, per byte: ten decodes a run, so a run is long
    enough to time and the first one's cold caches do not count."""
    decode = msgspec.json.Decoder().decode

    def run() -> None:
        for _ in range(10):
            decode(text)

    return _best(run, repeats) / 10 / len(text)


def _skip_cost(text: str, repeats: int) -> float:
    """One match of the scanner's own skipping pattern over each action, from just inside
    its opening brace to its closing one: what any scanner built on ``re`` pays per byte
    however large its pieces (the plan's bytes between actions are not matched)."""
    from dawai.core.agent.incremental import _run_and_closes  # the pattern itself, for its cost

    # Deep enough to take a whole action (params, notes, a note) in one match.
    match = re.compile(_run_and_closes(4, 1, last=True), re.DOTALL).match
    starts = [m.start() + 1 for m in re.finditer(r'\{"type"', text)]

    def run() -> None:
        for start in starts:
            match(text, start)

    return _best(run, repeats)


def _floor_cost(text: str, piece: int, repeats: int) -> float:
    decode = msgspec.json.Decoder().decode
    pieces = [text[i : i + piece] for i in range(0, len(text), piece)]

    def run() -> None:
        scanner = _FloorScanner()
        for chunk in pieces:
            for element in scanner.feed(chunk):
                decode(element)
        scanner.finish()

    return _best(run, repeats)


# A fast model: a 32-byte piece every 10 ms (about 800 tokens a second) per stream.
PACE = 0.01


def closing_braces(text: str) -> list[int]:
    """Where each element of the plan's ``actions`` ends (the index of its ``}``)."""
    closes, depth, in_string, escape = [], 0, False, False
    for i, ch in enumerate(text):
        if in_string:
            escape, in_string = (False, in_string) if escape else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 2 and ch == "}":
                closes.append(i)
    return closes


async def _latency(streams: int, actions: int, pace: float) -> list[float]:
    """Seconds from each action's closing brace leaving the provider to its frame."""
    from dawai.adapters.http.routes.agent import _agent_frames
    from dawai.adapters.stores import MemorySummaryStore
    from dawai.core.agent import AgentContext
    from dawai.core.agent.service import AgentActionEvent, AgentInput, AgentService
    from dawai.core.models import ChatEvent, Finish, LLMRequest, TextDelta
    from tests.conftest import scripted_gateway

    text = _plan_text(actions, 4)
    closes = closing_braces(text)  # where each action ends in the text
    piece = 32

    class Timed:
        name = "bench"

        def __init__(self) -> None:
            self.sent: dict[str, list[float]] = {}

        async def stream_json(self, request: LLMRequest, schema: dict[str, Any]) -> AsyncIterator[ChatEvent]:
            stamps = self.sent.setdefault(request.messages[-1].content, [])
            next_close = 0
            for start in range(0, len(text), piece):
                await asyncio.sleep(pace)
                end = start + piece
                while next_close < len(closes) and closes[next_close] < end:
                    stamps.append(time.perf_counter())  # this piece carries the closing brace
                    next_close += 1
                yield TextDelta(text[start:end])
            yield Finish("stop")

        async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
            raise NotImplementedError

        async def complete(self, request: LLMRequest) -> Any:
            raise NotImplementedError

        def stream(self, request: LLMRequest) -> Any:
            raise NotImplementedError

        async def aclose(self) -> None:
            return None

    provider = Timed()
    gateway, settings = scripted_gateway({"bench": provider})
    agent = AgentService(gateway=gateway, summaries=MemorySummaryStore(), settings=settings)
    context = msgspec.convert({"tracks": [{"id": "t1", "type": "midi"}]}, AgentContext)
    delays: list[float] = []

    async def one(index: int) -> None:
        prompt = f"go {index}"
        stream = await agent.stream(AgentInput(prompt=prompt, model="bench-1", context=context))
        seen: list[float] = []
        async for event in stream:
            if _agent_frames(event) and isinstance(event, AgentActionEvent):
                seen.append(time.perf_counter())
        delays.extend(b - a for a, b in zip(provider.sent[prompt], seen, strict=True))

    await asyncio.gather(*(one(i) for i in range(streams)))
    return delays


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def parser_section(args: argparse.Namespace) -> dict[str, Any]:
    repeats = 3 if getattr(args, "quick", False) else 7
    sizes = {"small": _plan_text(16, 16), "large": _plan_text(64, 16)}
    floor = {name: _decode_cost(text, repeats * 3) for name, text in sizes.items()}
    rows = []
    figures: dict[str, Any] = {"plan_bytes": {n: len(t) for n, t in sizes.items()}}
    head = f"{'plan':<6} {'bytes':>8} {'piece':>6} {'ns/byte':>9} {'x decode':>9}"
    print(head + f" {'floor ns/B':>10} {'floor x':>8} {'over floor':>10}")
    for name, text in sizes.items():
        whole = f"{name:<6} {len(text):>8} {'whole':>6} {floor[name] * 1e9:>9.2f} {1.0:>9.2f}"
        print(whole + "   (msgspec decode, the floor)")
        for piece in (1, 16, 256):
            cost = _scan_cost(text, piece, repeats) / len(text)
            ratio = cost / floor[name]
            base = _floor_cost(text, piece, repeats) / len(text)
            rows.append((name, piece, cost, ratio))
            line = f"{name:<6} {len(text):>8} {piece:>6} {cost * 1e9:>9.2f} {ratio:>9.2f}"
            print(line + f" {base * 1e9:>10.2f} {base / floor[name]:>8.2f} {cost / base:>9.2f}x")
            figures[f"{name}_{piece}_floor_ns_per_byte"] = round(base * 1e9, 3)
            figures[f"{name}_{piece}_floor_x_decode"] = round(base / floor[name], 2)
            figures[f"{name}_{piece}_over_floor"] = round(cost / base, 2)
            figures[f"{name}_{piece}_ns_per_byte"] = round(cost * 1e9, 3)
            figures[f"{name}_{piece}_x_decode"] = round(ratio, 2)
        figures[f"{name}_decode_ns_per_byte"] = round(floor[name] * 1e9, 3)
        skip = _skip_cost(text, repeats) / len(text)
        figures[f"{name}_re_skip_ns_per_byte"] = round(skip * 1e9, 3)
        figures[f"{name}_re_skip_x_decode"] = round(skip / floor[name], 2)
        print(
            f"{name:<6} {len(text):>8} {'re':>6} {skip * 1e9:>9.2f} {skip / floor[name]:>9.2f}"
            "   (one match of the scanner's skipping pattern over each action)"
        )
    for piece in (1, 16, 256):
        small = figures[f"small_{piece}_ns_per_byte"]
        large = figures[f"large_{piece}_ns_per_byte"]
        figures[f"linearity_{piece}"] = round(large / small, 2)
    print(
        "linearity (large/small ns per byte): "
        + ", ".join(f"{p} B: {figures[f'linearity_{p}']}" for p in (1, 16, 256))
    )
    print()
    print(f"{'streams':>7} {'actions':>8} {'p50 ms':>8} {'p99 ms':>8}   closing brace upstream -> SSE frame")
    for streams in (1, 50):
        delays = asyncio.run(_latency(streams, 8 if getattr(args, "quick", False) else 16, PACE))
        p50, p99 = _pct(delays, 0.5) * 1000, _pct(delays, 0.99) * 1000
        figures[f"brace_to_event_{streams}_p50_ms"] = round(p50, 3)
        figures[f"brace_to_event_{streams}_p99_ms"] = round(p99, 3)
        print(f"{streams:>7} {len(delays):>8} {p50:>8.3f} {p99:>8.3f}")
    return figures
