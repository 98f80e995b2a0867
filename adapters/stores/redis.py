"""Redis stores, shared by every worker process and every replica.

Each class takes a ``redis.asyncio.Redis`` client built elsewhere (see ``redis_client``) with
``decode_responses`` left off, plus a key prefix; the client's owner closes it, so ``aclose()``
here does nothing. The ``redis`` package itself is imported only inside ``redis_client``.

Keys, with the default prefix ``dawai:``:

- ``dawai:summary:{project_id}``: a JSON string, expiring ``ttl_seconds`` after each put;
- ``dawai:ghost:{user_id}:stats``: a hash, feature -> "accepted dismissed shown updated"
  (time-decayed counts), ``dawai:ghost:{user_id}:recency``: the features by last update, and
  ``dawai:ghost:{user_id}:phrases``: accepted phrases by time (only when the operator keeps
  text). All three expire ``ttl_seconds`` after the user's last feedback;
- ``dawai:audio:{key}``: the audio bytes, expiring ``ttl_seconds`` after the put; with
  ``max_bytes``, ``dawai:audio-lru`` (a sorted set of the keys by last use) and
  ``dawai:audio-size`` (a hash: key -> bytes, and ``__total__``) keep the bound.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import msgspec

from dawai.adapters.stores.memory import DEFAULT_MAX_FEATURES, DEFAULT_MAX_PHRASES
from dawai.core.errors import NotConfigured
from dawai.core.ghost.learning import DEFAULT_HALF_LIFE
from dawai.core.models import FeatureStats, FeedbackEvent, UserFeedback

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


# One atomic step per batch of events: decay each feature's counts to the event's time, count
# the event, note the feature's recency, keep the phrase, trim past the limits, refresh expiries.
_ADD = """
local stats, recency, phrases = KEYS[1], KEYS[2], KEYS[3]
local half, max_features = tonumber(ARGV[1]), tonumber(ARGV[2])
local max_phrases, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local i = 5
while i <= #ARGV do
  local kind, at, count, phrase = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]
  for j = 1, count do
    local feature = ARGV[i + 3 + j]
    local accepted, dismissed, shown, updated = 0, 0, 0, at
    local old = redis.call('HGET', stats, feature)
    if old then
      local parts = {}
      for value in string.gmatch(old, '%S+') do parts[#parts + 1] = tonumber(value) end
      accepted, dismissed, shown, updated = parts[1], parts[2], parts[3], parts[4]
      local elapsed = math.max(at - updated, 0)
      local factor = 1
      if half > 0 then factor = 0.5 ^ (elapsed / half) end
      accepted, dismissed, shown = accepted * factor, dismissed * factor, shown * factor
      updated = math.max(at, updated)
    end
    if kind == 'accepted' then accepted = accepted + 1
    elseif kind == 'dismissed' then dismissed = dismissed + 1
    else shown = shown + 1 end
    local value = string.format('%.17g %.17g %.17g %.17g', accepted, dismissed, shown, updated)
    redis.call('HSET', stats, feature, value)
    redis.call('ZADD', recency, updated, feature)
  end
  if phrase ~= '' then redis.call('ZADD', phrases, at, phrase) end
  i = i + 4 + count
end
local excess = redis.call('ZCARD', recency) - max_features
if excess > 0 then
  local gone = redis.call('ZPOPMIN', recency, excess)
  for k = 1, #gone, 2 do redis.call('HDEL', stats, gone[k]) end
end
local extra = redis.call('ZCARD', phrases) - max_phrases
if extra > 0 then redis.call('ZPOPMIN', phrases, extra) end
if ttl > 0 then
  for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, ttl) end
end
return 0
"""


class RedisFeedbackStore:
    """Ghost-text feedback per user, shared by every worker: time-decayed counts per feature
    in one hash, their recency in a sorted set, the accepted phrases (when the operator keeps
    text) in another; a Lua script adds a batch of events atomically and trims past
    ``max_features`` and ``max_phrases``; a user who stops sending feedback expires after
    ``ttl_seconds``."""

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        ttl_seconds: int | None = 90 * DAY,
        max_features: int = DEFAULT_MAX_FEATURES,
        max_phrases: int = DEFAULT_MAX_PHRASES,
        half_life: float = DEFAULT_HALF_LIFE,
    ) -> None:
        for name, value in (("max_features", max_features), ("max_phrases", max_phrases)):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        self._client = _checked(client)
        self._prefix = prefix
        self._ttl = _ttl(ttl_seconds)
        self._max_features = max_features
        self._max_phrases = max_phrases
        self._half_life = half_life
        self._add = client.register_script(_ADD)

    def keys(self, user_id: str) -> tuple[str, str, str]:
        """The user's counts hash, feature recency set and phrase set."""
        base = f"{self._prefix}ghost:{user_id}:"
        return base + "stats", base + "recency", base + "phrases"

    async def add(self, user_id: str, events: Sequence[FeedbackEvent]) -> None:
        if not events:
            return
        args: list[str | int | float] = [
            self._half_life,
            self._max_features,
            self._max_phrases,
            self._ttl or 0,
        ]
        for event in events:
            args.extend((event.kind, event.at, len(event.features), event.phrase or ""))
            args.extend(event.features)
        await self._add(keys=list(self.keys(user_id)), args=args)

    async def profile(self, user_id: str) -> UserFeedback | None:
        stats, _, phrases = self.keys(user_id)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hgetall(stats)
            pipe.zrange(phrases, 0, -1)
            fields, kept = await pipe.execute()
        if not fields and not kept:
            return None
        features = {}
        for name, value in cast("dict[bytes, bytes]", fields).items():
            accepted, dismissed, shown, updated = (float(part) for part in value.split())
            features[name.decode()] = FeatureStats(accepted, dismissed, shown, updated)
        return UserFeedback(features, tuple(phrase.decode() for phrase in cast("list[bytes]", kept)))

    async def forget(self, user_id: str) -> bool:
        return bool(await self._client.unlink(*self.keys(user_id)))

    async def aclose(self) -> None:
        """The client's owner closes it."""


# A put: store the value, count its bytes, mark it newest, then drop the least recently
# used entries until the total fits. An entry that expired on its own still holds its
# recorded bytes until it comes up for eviction (its DEL then frees nothing).
_AUDIO_PUT = """
local value_key, lru, sizes = KEYS[1], KEYS[2], KEYS[3]
local name, data, max_bytes, ttl, prefix = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local size = string.len(data)
local old = tonumber(redis.call('HGET', sizes, name) or '0')
redis.call('HDEL', sizes, name)
redis.call('ZREM', lru, name)
if old > 0 then redis.call('HINCRBY', sizes, '__total__', 0 - old) end
redis.call('DEL', value_key)
if size > max_bytes then return 0 end
if ttl > 0 then redis.call('SET', value_key, data, 'EX', ttl) else redis.call('SET', value_key, data) end
local clock = redis.call('HINCRBY', sizes, '__clock__', 1)
redis.call('ZADD', lru, clock, name)
redis.call('HSET', sizes, name, size)
local total = redis.call('HINCRBY', sizes, '__total__', size)
while total > max_bytes do
  local oldest = redis.call('ZPOPMIN', lru, 1)
  if #oldest == 0 then break end
  local gone = oldest[1]
  local freed = tonumber(redis.call('HGET', sizes, gone) or '0')
  redis.call('HDEL', sizes, gone)
  redis.call('DEL', prefix .. gone)
  if freed > 0 then total = redis.call('HINCRBY', sizes, '__total__', 0 - freed) end
end
return 1
"""

# A get that marks the entry newest (when it is tracked).
_AUDIO_GET = """
local value = redis.call('GET', KEYS[1])
if value and redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('ZADD', KEYS[2], redis.call('HINCRBY', KEYS[3], '__clock__', 1), ARGV[1])
end
return value
"""


class RedisAudioCache:
    """Rendered audio, one key per entry, each expiring ``ttl_seconds`` after it was put.

    With ``max_bytes``, a least-recently-used bound on the total shared by every worker:
    each put and get is one atomic Lua script that keeps the recency set and the byte
    counts (an entry larger than the bound is not kept, as in the memory cache). Without
    it, total size is bounded by the expiry and the server's ``maxmemory`` policy.
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
        max_bytes: int | None = None,
    ) -> None:
        if max_bytes is not None and max_bytes < 1:
            raise ValueError(f"max_bytes must be at least 1 or None, not {max_bytes}")
        self._client = _checked(client)
        self._prefix = f"{prefix}audio:"
        self._lru = f"{prefix}audio-lru"
        self._sizes = f"{prefix}audio-size"
        self._ttl = _ttl(ttl_seconds)
        self._scan_batch = scan_batch
        self._max_bytes = max_bytes
        self._put = client.register_script(_AUDIO_PUT)
        self._get = client.register_script(_AUDIO_GET)

    def key(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        if self._max_bytes is None:
            return cast("bytes | None", await self._client.get(self.key(key)))
        return cast("bytes | None", await self._get(keys=[self.key(key), self._lru, self._sizes], args=[key]))

    async def put(self, key: str, data: bytes) -> None:
        if self._max_bytes is None:
            await self._client.set(self.key(key), bytes(data), ex=self._ttl)
            return
        args: list[str | int | bytes] = [key, bytes(data), self._max_bytes, self._ttl or 0, self._prefix]
        await self._put(keys=[self.key(key), self._lru, self._sizes], args=args)

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
                await self._client.unlink(self._lru, self._sizes)
                return entries, freed

    async def aclose(self) -> None:
        """The client's owner closes it."""
