"""Rate-limit overhead per request: the app's rate-limit middleware (RateLimitGuard over
``RateLimits``) in memory and on the real Redis, against a floor in the same run: the same
ASGI call with limits off.

Each request goes through the middleware to a handler that answers at once; clients
rotate over ``--clients`` addresses, so the window holds that many keys. The limit is
high enough that every hit is let in (the path every served request takes). Rounds of
the three variants alternate, and each figure is the median round.

    .venv/bin/python bench/rate_limit.py [--requests 20000] [--clients 1000] [--rounds 5]
        [--redis redis://127.0.0.1:6379/15]

Prints a table, then one line ``JSON {...}``. Goals: at most 50 µs per request over the
floor in memory, at most 1 ms with Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from typing import Any

from dawai.adapters.http.client_ip import CLIENT_IP
from dawai.adapters.http.rate_limit import RateLimitGuard, RateLimits, RateRules, parse_limit
from dawai.adapters.http.route_set import RateClass

PATH = "/api/models"


async def answer(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def sink(message: Any) -> None:
    return None


def _address(i: int) -> str:
    return f"10.0.{i // 256}.{i % 256}"


def scopes(clients: int) -> list[dict[str, Any]]:
    return [
        {
            "type": "http",
            "method": "GET",
            "path": PATH,
            "headers": [],
            "state": {CLIENT_IP: f"10.0.{i // 256}.{i % 256}"},
        }
        for i in range(clients)
    ]


async def per_request_us(app: Any, requests: int, clients: list[dict[str, Any]]) -> float:
    count = len(clients)
    started = time.perf_counter()
    for i in range(requests):
        await app(clients[i % count], None, sink)
    return (time.perf_counter() - started) / requests * 1e6


def guard(redis_url: str | None) -> tuple[RateLimitGuard, RateLimits]:
    limits = RateLimits(
        {RateClass.OTHER: parse_limit("100000000/minute")},
        redis_url=redis_url,
        key_prefix=f"bench:{uuid.uuid4().hex}",
    )
    return RateLimitGuard(answer, limits, RateRules({PATH: RateClass.OTHER})), limits


async def run(args: argparse.Namespace) -> dict[str, Any]:
    clients = scopes(args.clients)
    memory, _ = guard(None)
    variants: dict[str, Any] = {"floor (limits off)": answer, "memory": memory}
    redis_limits = None
    if args.redis:
        variants["redis"], redis_limits = guard(args.redis)
    # Warm up: every key created, connections open.
    for app in variants.values():
        await per_request_us(app, args.clients, clients)
    if redis_limits is not None and redis_limits.fallback:
        raise SystemExit(f"Redis at {args.redis} is not answering")
    rounds: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name, app in variants.items():
            n = args.requests if name != "redis" else max(1, args.requests // 10)
            rounds[name].append(await per_request_us(app, n, clients))
    if redis_limits is not None:
        await redis_limits.aclose()
    return {name: statistics.median(values) for name, values in rounds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15", help="'' to leave Redis out")
    args = parser.parse_args()
    medians = asyncio.run(run(args))
    floor = medians["floor (limits off)"]
    goals = {"memory": 50.0, "redis": 1000.0}
    print(f"rate-limit overhead per request ({args.clients} clients, median of {args.rounds} rounds)")
    print(f"{'variant':<22} {'µs/request':>12} {'over floor':>12} {'goal':>10}  ")
    print("-" * 64)
    result: dict[str, Any] = {"clients": args.clients, "floor_us": round(floor, 2)}
    for name, value in medians.items():
        over = value - floor
        goal = goals.get(name)
        verdict = "" if goal is None else ("met" if over <= goal else "NOT met")
        goal_text = "" if goal is None else f"≤ {goal:g}"
        print(f"{name:<22} {value:>12.2f} {over:>12.2f} {goal_text:>10}  {verdict}")
        if goal is not None:
            result[f"{name}_us"] = round(value, 2)
            result[f"{name}_overhead_us"] = round(over, 2)
            result[f"{name}_goal_met"] = over <= goal
    print("JSON " + json.dumps(result))


if __name__ == "__main__":
    main()
