"""Redis stores, shared by every worker process and every replica.

Each class takes a ``redis.asyncio.Redis`` client built elsewhere (see ``redis_client``) with
``decode_responses`` left off, plus a key prefix; the client's owner closes it, so ``aclose()``
here does nothing. The ``redis`` package itself is imported only inside ``redis_client``.

Keys, with the default prefix ``dawai:``:

- ``dawai:summary:{project_id}``: a JSON string, expiring ``ttl_seconds`` after each put;
- ``dawai:feedback:{user_id}``: a hash with fields ``a:{candidate}`` (accepts) and
  ``r:{candidate}`` (rejects), and ``dawai:feedback-recency:{user_id}``: a sorted set of the
  user's candidates scored by a per-user counter of recordings. Both expire ``ttl_seconds``
  after the user's last recording;
- ``dawai:audio:{key}``: the audio bytes, expiring ``ttl_seconds`` after the put.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import msgspec

from dawai.adapters.stores.memory import DEFAULT_MAX_CANDIDATES, acceptance_weight
from dawai.core.errors import NotConfigured

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisAudioCache", "RedisFeedbackStore", "RedisSummaryStore", "redis_client"]

DAY = 24 * 60 * 60
DEFAULT_PREFIX = "dawai:"


def redis_client(url: str, *, connect_timeout: float = 5.0) -> Redis:
    """A ``redis.asyncio.Redis`` for ``url`` that returns bytes; connects on first use."""
    try:
        import redis.asyncio as aioredis
    except ImportError as exc:
        raise NotConfigured(
            "redis_url is set but the redis package is missing: install dawai-backend[redis]"
        ) from exc
    return aioredis.Redis.from_url(url, socket_connect_timeout=connect_timeout)


# redis-py types its replies as ``bytes | str`` (``decode_responses`` is a runtime switch);
# ``_checked`` refuses a client that decodes, so the replies here are bytes and are cast so.
def _checked(client: Redis) -> Redis:
    if client.get_connection_kwargs().get("decode_responses"):
        raise ValueError("the Redis stores need a client with decode_responses=False")
    return client


def _ttl(ttl_seconds: int | None) -> int | None:
    if ttl_seconds is not None and ttl_seconds < 1:
        raise ValueError(f"ttl_seconds must be at least 1 or None, not {ttl_seconds}")
    return ttl_seconds


class RedisSummaryStore:
    """Project summaries as JSON strings, one key per project."""

    def __init__(
        self, client: Redis, *, prefix: str = DEFAULT_PREFIX, ttl_seconds: int | None = 30 * DAY
    ) -> None:
        self._client = _checked(client)
        self._prefix = f"{prefix}summary:"
        self._ttl = _ttl(ttl_seconds)

    def key(self, project_id: str) -> str:
        return self._prefix + project_id

    async def get(self, project_id: str) -> dict[str, Any] | None:
        raw = await self._client.get(self.key(project_id))
        return None if raw is None else msgspec.json.decode(raw, type=dict[str, Any])

    async def put(self, project_id: str, summary: dict[str, Any]) -> None:
        await self._client.set(self.key(project_id), msgspec.json.encode(summary), ex=self._ttl)

    async def aclose(self) -> None:
        """The client's owner closes it."""


# One atomic step per recording: count it, move the candidate to the newest end of the
# recency set, forget the oldest candidates past the limit, and refresh both expiries.
_RECORD = """
local counts, recency = KEYS[1], KEYS[2]
local candidate, field, limit, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('HINCRBY', counts, field .. candidate, 1)
local newest = redis.call('ZRANGE', recency, -1, -1, 'WITHSCORES')
local clock = newest[2] and tonumber(newest[2]) + 1 or 1
redis.call('ZADD', recency, clock, candidate)
local excess = redis.call('ZCARD', recency) - limit
if excess > 0 then
  local gone = redis.call('ZPOPMIN', recency, excess)
  for i = 1, #gone, 2 do
    redis.call('HDEL', counts, 'a:' .. gone[i], 'r:' .. gone[i])
  end
end
if ttl > 0 then
  redis.call('EXPIRE', counts, ttl)
  redis.call('EXPIRE', recency, ttl)
end
return 0
"""


class RedisFeedbackStore:
    """Accept/reject counts per user and candidate text, in one hash per user.

    Bound: a user keeps at most ``max_candidates`` candidates. A Lua script records each
    accept or reject and, in the same atomic step, drops the candidates recorded least
    recently beyond the limit; a user who stops sending feedback expires after ``ttl_seconds``.
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int | None = 90 * DAY,
        max_candidates: int = DEFAULT_MAX_CANDIDATES,
    ) -> None:
        if max_candidates < 1:
            raise ValueError(f"max_candidates must be at least 1, not {max_candidates}")
        self._client = _checked(client)
        self._prefix = prefix
        self._ttl = _ttl(ttl_seconds)
        self._max_candidates = max_candidates
        self._record = client.register_script(_RECORD)

    def keys(self, user_id: str) -> tuple[str, str]:
        """The user's counts hash and recency sorted set."""
        return f"{self._prefix}feedback:{user_id}", f"{self._prefix}feedback-recency:{user_id}"

    async def record(self, user_id: str, candidate: str, accepted: bool) -> None:
        field = "a:" if accepted else "r:"
        args: list[str | int] = [candidate, field, self._max_candidates, self._ttl or 0]
        await self._record(keys=list(self.keys(user_id)), args=args)

    async def weights(self, user_id: str) -> dict[str, float]:
        fields = cast("dict[bytes, bytes]", await self._client.hgetall(self.keys(user_id)[0]))
        counts: dict[str, list[int]] = {}
        for name, value in fields.items():
            kind, candidate = name[:2], name[2:].decode()
            counts.setdefault(candidate, [0, 0])[0 if kind == b"a:" else 1] = int(value)
        return {candidate: acceptance_weight(a, r) for candidate, (a, r) in counts.items()}

    async def forget(self, user_id: str) -> bool:
        return bool(await self._client.unlink(*self.keys(user_id)))

    async def aclose(self) -> None:
        """The client's owner closes it."""


class RedisAudioCache:
    """Rendered audio, one key per entry, each expiring ``ttl_seconds`` after it was put.

    Total size is bounded by the expiry and by the server's ``maxmemory`` policy, not here.
    ``clear()`` walks the prefix with SCAN (never KEYS), ``scan_batch`` keys at a time, and
    reports the audio bytes freed (STRLEN of each value, as the memory cache counts them).
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int | None = DAY,
        scan_batch: int = 500,
    ) -> None:
        self._client = _checked(client)
        self._prefix = f"{prefix}audio:"
        self._ttl = _ttl(ttl_seconds)
        self._scan_batch = scan_batch

    def key(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        return cast("bytes | None", await self._client.get(self.key(key)))

    async def put(self, key: str, data: bytes) -> None:
        await self._client.set(self.key(key), bytes(data), ex=self._ttl)

    async def clear(self) -> tuple[int, int]:
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self._prefix) + "*"
        entries = freed = 0
        cursor = 0
        while True:
            cursor, found = await self._client.scan(cursor, match=pattern, count=self._scan_batch)
            batch = list(dict.fromkeys(found))  # SCAN may return a key twice
            if batch:
                async with self._client.pipeline(transaction=True) as pipe:
                    for name in batch:
                        pipe.strlen(name)
                    pipe.unlink(*batch)
                    *sizes, deleted = await pipe.execute()
                entries += deleted
                freed += sum(sizes)
            if cursor == 0:
                return entries, freed

    async def aclose(self) -> None:
        """The client's owner closes it."""
