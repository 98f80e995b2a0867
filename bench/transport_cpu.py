"""What each ``llm.transport`` costs the client: CPU per stream and per reply, through the
real provider adapters and SDKs, A/B in one process.

Starts the loopback fake upstream (``tests/fakes/llm_upstream.py``) as its own process, so
its CPU is not counted, then for each provider builds one adapter per transport
(``dawai``: ``Http1Transport``; ``httpx``: httpx2's own under ``HttpxTransport``) and
alternates rounds between them: ``--streams`` streams of ``--chunks`` pieces, ``--concurrency``
at a time, then as many whole replies. Each round's process CPU time (user + system) is
divided by what it did; the table gives the median and the range over ``--rounds`` rounds.
Alternating in one process keeps this shared machine's drift out of the difference.

    .venv/bin/python bench/transport_cpu.py [--providers openai,anthropic,google]
        [--chunks 100] [--streams 400] [--concurrency 10] [--rounds 5]

Prints a table, then one line ``JSON {...}``. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server_processes import HOST, bench_env, start_fake, stop

TRANSPORTS = ("dawai", "httpx")


def _provider(name: str, base: str, transport: str) -> Any:
    from dawai.ports.llm import ProviderConfig

    if name == "anthropic":
        from dawai.adapters.providers.anthropic import AnthropicProvider as cls

        url = base
    elif name == "google":
        from dawai.adapters.providers.gemini import GeminiProvider as cls  # type: ignore[assignment]

        url = base
    else:
        from dawai.adapters.providers.openai import OpenAIProvider as cls  # type: ignore[assignment]

        url = base + "/v1"
    return cls(ProviderConfig(name, api_key="bench", base_url=url, transport=transport))


async def _round(provider: Any, model: str, streams: int, concurrency: int) -> tuple[float, float]:
    """CPU seconds per stream, then per reply."""
    from dawai.core.models import ChatMessage, LLMRequest, TextDelta

    request = LLMRequest(model=model, system="", messages=(ChatMessage("user", "hi"),), max_tokens=64)
    gate = asyncio.Semaphore(concurrency)
    pieces = 0

    async def one_stream() -> None:
        nonlocal pieces
        async with gate:
            async for event in provider.stream(request):
                pieces += isinstance(event, TextDelta)

    async def one_reply() -> None:
        async with gate:
            await provider.complete(request)

    gc.collect()
    start = time.process_time()
    await asyncio.gather(*(one_stream() for _ in range(streams)))
    streamed = time.process_time() - start
    start = time.process_time()
    await asyncio.gather(*(one_reply() for _ in range(streams)))
    replied = time.process_time() - start
    assert pieces >= streams, "streams came back empty"
    return streamed / streams, replied / streams


async def _measure(name: str, base: str, args: argparse.Namespace) -> dict[str, Any]:
    model = f"fake+chunks={args.chunks}+length={4 * args.chunks}"
    providers = {t: _provider(name, base, t) for t in TRANSPORTS}
    seen: dict[str, dict[str, list[float]]] = {t: {"stream": [], "reply": []} for t in TRANSPORTS}
    try:
        for provider in providers.values():  # warm up: SDK imports, pools, caches
            await _round(provider, model, max(20, args.concurrency), args.concurrency)
        for _ in range(args.rounds):
            for transport, provider in providers.items():
                stream, reply = await _round(provider, model, args.streams, args.concurrency)
                seen[transport]["stream"].append(stream * 1e6)
                seen[transport]["reply"].append(reply * 1e6)
    finally:
        for provider in providers.values():
            await provider.aclose()
    return {
        transport: {
            kind: {
                "median_us": round(statistics.median(values), 1),
                "min_us": round(min(values), 1),
                "max_us": round(max(values), 1),
            }
            for kind, values in kinds.items()
        }
        for transport, kinds in seen.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", default="openai,anthropic,google")
    parser.add_argument("--chunks", type=int, default=100)
    parser.add_argument("--streams", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    import logging

    logging.getLogger("httpx2").setLevel(logging.WARNING)  # as in dawai serve
    fake = None
    results: dict[str, Any] = {}
    try:
        fake, port = start_fake(bench_env())
        base = f"http://{HOST}:{port}"
        for name in args.providers.split(","):
            results[name] = asyncio.run(_measure(name, base, args))
    finally:
        stop(fake)
    print(
        f"client CPU per stream ({args.chunks} pieces) and per reply, {args.streams} each per round, "
        f"{args.concurrency} at a time, {args.rounds} rounds (median [min-max])"
    )
    head = f"{'provider':<10} {'transport':<9} | {'per stream':>24} | {'per reply':>22}"
    print(head)
    print("-" * len(head))
    for name, by in results.items():
        for transport, kinds in by.items():
            cells = [
                f"{k['median_us']:>7.0f} us [{k['min_us']:.0f}-{k['max_us']:.0f}]"
                for k in (kinds["stream"], kinds["reply"])
            ]
            print(f"{name:<10} {transport:<9} | {cells[0]:>24} | {cells[1]:>22}")
    print("JSON " + json.dumps({"chunks": args.chunks, "concurrency": args.concurrency, "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
