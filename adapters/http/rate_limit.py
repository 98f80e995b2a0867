"""Rate limits per client and route class, with the ``limits`` library's moving window.

- Each route's class (``RateClass``: ``chat``, ``synthesis``, ``ghost_text``, ``other``,
  ``unlimited``) comes from its route set (``PathRules``); each class has one limit in
  ``limits`` notation (``rate_limits.chat = "30/minute"``; ``"unlimited"`` for none).
- A client is its token's name (the token guard sets it), else its address
  (``ClientAddress``): ``t:<name>`` or ``ip:<address>``, counted per class.
- Storage: in memory (this process; ``RingWindows``), or Redis when ``DAWAI_REDIS_URL`` is
  set, through ``limits``' Redis storage, whose moving window is one Lua script per hit, so
  every worker and instance sharing the Redis counts in one window, exactly.
- When Redis fails (a connection refused, a timeout, any error), hits are counted in this
  process's memory instead, ``rate_limit_storage_unavailable`` is logged once, ``/health``
  says ``fallback: true`` and ``degraded``; Redis is tried again ``rate_limits.redis_retry``
  seconds later. A request is never refused, or failed, because the storage is away.
- A refused request gets a 429 problem with ``Retry-After`` (seconds until the oldest hit
  in the window leaves it), ``RateLimit-Policy`` and ``RateLimit`` (the IETF httpapi draft's
  structured fields: ``"chat";q=30;w=60`` and ``"chat";r=0;t=12``); a request let through gets
  ``RateLimit-Policy``.
"""

from __future__ import annotations

import bisect
import math
import time
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from limits import RateLimitItem, parse_many
from limits.aio.storage import MovingWindowSupport, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from dawai.adapters.http.auth import client_key
from dawai.adapters.http.problems import send_problem
from dawai.adapters.http.route_rules import PathRules
from dawai.adapters.http.route_set import RATE_OPT, RateClass

__all__ = [
    "UNLIMITED",
    "RateLimitGuard",
    "RateLimits",
    "RateRules",
    "RingWindows",
    "parse_limit",
]

log = structlog.get_logger("dawai.rate_limits")
UNLIMITED = "unlimited"


def parse_limit(text: str) -> RateLimitItem | None:
    """One limit in ``limits`` notation (``10/minute``, ``100 per hour``), or None for
    ``unlimited``. Raises ``ValueError`` for anything else, several limits included."""
    text = text.strip()
    if text.lower() == UNLIMITED:
        return None
    items = parse_many(text)  # raises ValueError on bad notation
    if len(items) != 1:
        raise ValueError(f"one limit per route class, not {len(items)}")
    return items[0]


class RateRules(PathRules[RateClass]):
    """The ``RateClass`` of each path: its route set's; the docs unlimited; unknown paths
    (404s) ``other``."""

    def __init__(self, by_path: Mapping[str, RateClass], open_prefixes: tuple[str, ...] = ()) -> None:
        super().__init__(
            by_path, default=RateClass.OTHER, open_value=RateClass.UNLIMITED, open_prefixes=open_prefixes
        )

    @classmethod
    def of_routes(cls, routes: Any, open_prefixes: tuple[str, ...] = ()) -> RateRules:
        return cls(PathRules.read(routes, RATE_OPT, RateClass.OTHER), open_prefixes)


class RingWindows(Storage, MovingWindowSupport):
    """In-memory moving windows for ``limits``' ``MovingWindowRateLimiter``: per key, the
    times of its hits still in the window, oldest first, in an array of floats (8 bytes a
    hit, never more than its limit). A hit first drops the times that have left the window
    (one C-level bisect and cut), then is let in when fewer than ``limit`` remain. Exact
    within one event loop: nothing awaits inside a hit.

    ``limits``' own asyncio memory storage starts an expiry task on each hit that moves
    to a thread once per key; this keeps at most ``max_keys`` keys instead, dropping
    those whose newest hit has left its window when full, then the oldest-added."""

    STORAGE_SCHEME = ["dawai+ring"]  # noqa: RUF012 - limits declares it so

    def __init__(self, max_keys: int = 20_000, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.max_keys, self.clock = max_keys, clock
        self._rings: dict[str, tuple[array[float], float]] = {}

    def _times(self, key: str, expiry: int, now: float) -> array[float]:
        """The key's hit times inside the window ending ``now``."""
        entry = self._rings.get(key)
        if entry is None:
            if len(self._rings) >= self.max_keys:
                self._evict(now)
            entry = self._rings[key] = (array("d"), float(expiry))
        times = entry[0]
        cut = bisect.bisect_right(times, now - expiry)
        if cut:
            del times[:cut]
        return times

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = self.clock()
        times = self._times(key, expiry, now)
        if len(times) + amount > limit:
            return False
        if times and now < times[-1]:  # the clock stepped back: keep the times in order
            now = times[-1]
        times.extend([now] * amount)
        return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """(the oldest hit still in the window, how many hits are in it)."""
        now = self.clock()
        if key not in self._rings:
            return now, 0
        times = self._times(key, expiry, now)
        return (times[0], len(times)) if times else (now, 0)

    def _evict(self, now: float) -> None:
        stale = [k for k, (times, expiry) in self._rings.items() if not times or times[-1] <= now - expiry]
        for key in stale:
            del self._rings[key]
        if len(self._rings) >= self.max_keys:
            for key in list(self._rings)[: max(1, self.max_keys // 10)]:
                del self._rings[key]

    def __len__(self) -> int:
        return len(self._rings)

    # The rest of limits' storage interface: only the moving window is kept here.
    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        raise NotImplementedError("RingWindows keeps moving windows only")

    async def get(self, key: str) -> int:
        raise NotImplementedError("RingWindows keeps moving windows only")

    async def get_expiry(self, key: str) -> float:
        raise NotImplementedError("RingWindows keeps moving windows only")

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        count = len(self._rings)
        self._rings.clear()
        return count

    async def clear(self, key: str) -> None:
        self._rings.pop(key, None)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


class RateLimits:
    """The limits of each class, counted in memory or in Redis (with memory behind it)."""

    def __init__(
        self,
        limits: Mapping[RateClass, RateLimitItem | None],
        *,
        redis_url: str | None = None,
        key_prefix: str = "dawai:rl",
        redis_retry: float = 5.0,
        redis_timeout: float = 1.0,
    ) -> None:
        self.items: dict[RateClass, RateLimitItem] = {
            c: item for c, item in limits.items() if item is not None and c is not RateClass.UNLIMITED
        }
        self.policies: dict[RateClass, bytes] = {
            c: _policy(c, item).encode() for c, item in self.items.items()
        }
        self.memory = MovingWindowRateLimiter(RingWindows())
        self.storage = "redis" if redis_url else "memory"
        self.redis_retry = redis_retry
        self._redis_storage: Any = None
        self.redis: MovingWindowRateLimiter | None = None
        if redis_url:
            from limits.aio.storage import RedisStorage

            self._redis_storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                key_prefix=key_prefix,
                wrap_exceptions=True,
                socket_timeout=redis_timeout,
                socket_connect_timeout=redis_timeout,
            )
            self.redis = MovingWindowRateLimiter(self._redis_storage)
        self.fallback = False
        self._retry_at = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.items)

    def limited(self, rate_class: RateClass) -> bool:
        return rate_class in self.items

    async def _limiter_hit(
        self, item: RateLimitItem, ids: tuple[str, str]
    ) -> tuple[bool, MovingWindowRateLimiter]:
        if self.redis is not None and (not self.fallback or time.monotonic() >= self._retry_at):
            try:
                allowed = await self.redis.hit(item, *ids)
            except Exception as exc:  # any failure of the storage: count here instead
                if not self.fallback:
                    log.warning(
                        "rate_limit_storage_unavailable",
                        error_type=type(exc).__name__,
                        fallback="memory, per process",
                        retry_seconds=self.redis_retry,
                    )
                self.fallback = True
                self._retry_at = time.monotonic() + self.redis_retry
            else:
                if self.fallback:
                    log.warning("rate_limit_storage_restored", storage="redis")
                    self.fallback = False
                return allowed, self.redis
        return await self.memory.hit(item, *ids), self.memory

    async def hit(self, rate_class: RateClass, client: str) -> Verdict:
        item = self.items.get(rate_class)
        if item is None:
            return Verdict(True)
        ids = (rate_class.setting, client)
        allowed, limiter = await self._limiter_hit(item, ids)
        if allowed:
            return Verdict(True)
        try:
            stats = await limiter.get_window_stats(item, *ids)
            wait = stats.reset_time - time.time()
        except Exception:  # the storage went away between the two calls: a whole window
            wait = item.get_expiry()
        return Verdict(False, max(1, math.ceil(wait)))

    def state(self) -> dict[str, Any]:
        return {"storage": self.storage, "fallback": self.fallback}

    async def aclose(self) -> None:
        if self._redis_storage is not None:
            try:
                await self._redis_storage.bridge.storage.aclose()
            except Exception:  # closing a connection that is gone
                log.debug("rate_limit_storage_close_failed")


def _policy(rate_class: RateClass, item: RateLimitItem) -> str:
    return f'"{rate_class.setting}";q={item.amount};w={item.get_expiry()}'


class RateLimitGuard:
    """The ASGI middleware: inside the token guard, so a token's name is known."""

    def __init__(
        self,
        app: Any,
        limits: RateLimits,
        rules: RateRules,
        on_refusal: Callable[[RateClass], None] = lambda rate_class: None,
    ) -> None:
        self.app, self.limits, self.rules = app, limits, rules
        self.on_refusal = on_refusal

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rate_class = self.rules.for_scope(scope)
        if not self.limits.limited(rate_class):
            await self.app(scope, receive, send)
            return
        client = client_key(scope)
        verdict = await self.limits.hit(rate_class, client)
        policy = (b"ratelimit-policy", self.limits.policies[rate_class])
        if not verdict.allowed:
            self.on_refusal(rate_class)
            retry = str(verdict.retry_after).encode()
            headers = (
                (b"retry-after", retry),
                policy,
                (b"ratelimit", f'"{rate_class.setting}";r=0;t={verdict.retry_after}'.encode()),
            )
            detail = (
                f"Too many {rate_class.setting} requests from this client; "
                f"try again in {verdict.retry_after} s."
            )
            await send_problem(send, scope, 429, "Rate limited", detail, headers)
            return

        async def send_with_policy(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), policy]
            await send(message)

        await self.app(scope, receive, send_with_policy)
