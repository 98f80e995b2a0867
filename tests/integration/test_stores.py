"""The store adapters: one behavioural suite run against the memory and the Redis stores.

Redis tests use ``DAWAI_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``) under a
fresh key prefix per test, and delete their keys afterwards. Without a reachable server they
skip, or fail when ``CI`` is set. Each test drives its coroutines with one ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from dawai.adapters.stores import (
    MemoryAudioCache,
    MemoryFeedbackStore,
    MemorySummaryStore,
    RedisAudioCache,
    RedisFeedbackStore,
    RedisSummaryStore,
    SqliteFeedbackStore,
    redis_client,
)
from dawai.core.errors import NotConfigured
from dawai.core.models import FeedbackEvent
from dawai.ports import AudioCache, FeedbackStore, SummaryStore

T = TypeVar("T")


class Stores:
    """Builds one backend's stores inside the running event loop."""

    def __init__(self, client: Any | None, prefix: str, sqlite_path: str | None = None) -> None:
        self.client, self.prefix, self.sqlite_path = client, prefix, sqlite_path

    def summary(self) -> SummaryStore:
        if self.client is None:
            return MemorySummaryStore()
        return RedisSummaryStore(self.client, prefix=self.prefix)

    def feedback(self, **bounds: Any) -> FeedbackStore:
        if self.sqlite_path is not None:
            return SqliteFeedbackStore(self.sqlite_path, **bounds)
        if self.client is None:
            return MemoryFeedbackStore(**bounds)
        return RedisFeedbackStore(self.client, prefix=self.prefix, **bounds)

    def audio(self, **bounds: int) -> AudioCache:
        if self.client is None:
            return MemoryAudioCache(**bounds)
        return RedisAudioCache(self.client, prefix=self.prefix, **bounds)


@dataclass
class Backend:
    """``run(scenario)`` awaits ``scenario(stores)`` in a fresh event loop (and Redis client)."""

    name: str
    url: str | None = None
    prefix: str = ""
    sqlite_path: str | None = None

    def run(self, scenario: Callable[[Stores], Awaitable[T]]) -> T:
        async def main() -> T:
            client = redis_client(self.url) if self.url else None
            try:
                return await scenario(Stores(client, self.prefix, self.sqlite_path))
            finally:
                if client is not None:
                    await client.aclose()

        return asyncio.run(main())


async def _delete_prefix(url: str, prefix: str) -> None:
    client = redis_client(url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=500):
            await client.unlink(key)
    finally:
        await client.aclose()


@pytest.fixture
def redis_backend(redis_url: str) -> Iterator[Backend]:
    backend = Backend("redis", redis_url, f"dawai-test:{uuid.uuid4().hex}:")
    yield backend
    asyncio.run(_delete_prefix(redis_url, backend.prefix))


@pytest.fixture
def memory_backend() -> Backend:
    return Backend("memory")


@pytest.fixture
def sqlite_backend(tmp_path) -> Backend:
    return Backend("sqlite", sqlite_path=str(tmp_path / "state" / "feedback.sqlite3"))


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


@pytest.fixture(params=["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def feedback_backend(request: pytest.FixtureRequest) -> Backend:
    return request.getfixturevalue(f"{request.param}_backend")


# --- the same behaviour from every backend -------------------------------------------------


def test_stores_implement_their_ports(backend: Backend):
    async def scenario(stores: Stores) -> None:
        assert isinstance(stores.summary(), SummaryStore)
        assert isinstance(stores.feedback(), FeedbackStore)
        assert isinstance(stores.audio(), AudioCache)

    backend.run(scenario)


def test_summary_round_trip_overwrite_and_missing(backend: Backend):
    first = {"title": "Étude №1", "tempo": 92.5, "tracks": [{"name": "bass", "notes": 48}], "ok": True}

    async def scenario(stores: Stores) -> None:
        store = stores.summary()
        assert await store.get("nope") is None
        await store.put("p1", first)
        assert await store.get("p1") == first
        await store.put("p1", {"title": "second"})
        assert await store.get("p1") == {"title": "second"}
        assert await store.get("p2") is None

    backend.run(scenario)


def test_summary_that_is_not_json_is_refused(backend: Backend):
    async def scenario(stores: Stores) -> None:
        store = stores.summary()
        with pytest.raises(TypeError):
            await store.put("p1", {"when": object()})
        assert await store.get("p1") is None

    backend.run(scenario)


def event(kind: str, feature: str, at: float, phrase: str | None = None) -> FeedbackEvent:
    return FeedbackEvent(kind, (feature,), at, phrase)  # type: ignore[arg-type]


def test_feedback_counts_per_user_and_feature(feedback_backend: Backend):
    async def scenario(stores: Stores) -> Any:
        store = stores.feedback(half_life=1e12)
        assert await store.profile("u1") is None
        await store.add("u1", [event("accepted", "kind:chord", 10.0), event("accepted", "kind:chord", 11.0)])
        await store.add("u1", [event("dismissed", "kind:chord", 12.0), event("shown", "kind:term", 12.0)])
        await store.add("u2", [event("dismissed", "kind:chord", 13.0)])
        return await store.profile("u1"), await store.profile("u2")

    mine, theirs = feedback_backend.run(scenario)
    chord = mine.features["kind:chord"]
    assert (chord.accepted, chord.dismissed, chord.shown) == pytest.approx((2, 1, 0))
    assert chord.updated == 12.0
    assert mine.features["kind:term"].shown == pytest.approx(1)
    assert theirs.features["kind:chord"].accepted == 0 and theirs.features["kind:chord"].dismissed == 1


def test_feedback_counts_decay_by_the_half_life(feedback_backend: Backend):
    async def scenario(stores: Stores) -> Any:
        store = stores.feedback(half_life=100.0)
        await store.add("u1", [event("accepted", "f", 0.0)])
        await store.add("u1", [event("accepted", "f", 100.0)])
        return await store.profile("u1")

    assert feedback_backend.run(scenario).features["f"].accepted == pytest.approx(1.5)


def test_feedback_counts_concurrent_adds(feedback_backend: Backend):
    async def scenario(stores: Stores) -> Any:
        store = stores.feedback(half_life=1e12)
        await asyncio.gather(*(store.add("u1", [event("accepted", "riff", 5.0)]) for _ in range(40)))
        return await store.profile("u1")

    assert feedback_backend.run(scenario).features["riff"].accepted == pytest.approx(40)


def test_feedback_keeps_the_most_recent_features_and_phrases(feedback_backend: Backend):
    async def scenario(stores: Stores) -> Any:
        store = stores.feedback(max_features=3, max_phrases=2)
        for at, feature in enumerate(("a", "b", "c")):
            await store.add("u1", [event("accepted", feature, float(at), phrase=f"phrase {feature}")])
        await store.add("u1", [event("dismissed", "a", 3.0, phrase="phrase a")])  # "b" is the oldest now
        for at, feature in enumerate(("d", "e"), start=4):
            await store.add("u1", [event("accepted", feature, float(at))])
        return await store.profile("u1")

    profile = feedback_backend.run(scenario)
    assert set(profile.features) == {"a", "d", "e"}
    assert profile.phrases == ("phrase c", "phrase a")


def test_forgetting_a_user_removes_everything_of_theirs_only(feedback_backend: Backend):
    async def scenario(stores: Stores) -> Any:
        store = stores.feedback()
        await store.add("u1", [event("accepted", "f", 1.0, phrase="city lights")])
        await store.add("u2", [event("accepted", "f", 1.0, phrase="neon night")])
        gone = await store.forget("u1")
        again = await store.forget("u1")
        return gone, again, await store.profile("u1"), await store.profile("u2")

    gone, again, mine, theirs = feedback_backend.run(scenario)
    assert (gone, again, mine) == (True, False, None)
    assert theirs.phrases == ("neon night",)


def test_sqlite_feedback_survives_a_new_store_on_the_same_file(sqlite_backend: Backend):
    async def scenario(stores: Stores) -> Any:
        first = stores.feedback()
        await first.add("u1", [event("accepted", "f", 1.0, phrase="city lights")])
        await first.aclose()
        second = stores.feedback()
        try:
            return await second.profile("u1")
        finally:
            await second.aclose()

    profile = sqlite_backend.run(scenario)
    assert profile.features["f"].accepted == pytest.approx(1) and profile.phrases == ("city lights",)


def test_audio_round_trip_overwrite_missing_and_clear(backend: Backend):
    async def scenario(stores: Stores) -> None:
        cache = stores.audio()
        assert await cache.clear() == (0, 0)
        assert await cache.get("k1") is None
        await cache.put("k1", b"\x00RIFF" * 10)
        await cache.put("k2", b"abc")
        await cache.put("k2", bytearray(b"abcd"))
        assert await cache.get("k1") == b"\x00RIFF" * 10
        assert await cache.get("k2") == b"abcd"
        assert await cache.clear() == (2, 54)
        assert await cache.get("k1") is None
        assert await cache.clear() == (0, 0)

    backend.run(scenario)


# --- memory bounds ----------------------------------------------------------------------------


def test_memory_summary_store_drops_the_least_recently_used():
    async def scenario() -> None:
        store = MemorySummaryStore(max_entries=2)
        await store.put("a", {"n": 1})
        await store.put("b", {"n": 2})
        assert await store.get("a") == {"n": 1}  # "b" is now the oldest
        await store.put("c", {"n": 3})
        assert [await store.get(k) for k in "abc"] == [{"n": 1}, None, {"n": 3}]

    asyncio.run(scenario())


def test_memory_summary_store_keeps_its_own_copy():
    async def scenario() -> None:
        store, summary = MemorySummaryStore(), {"tracks": ["drums"]}
        await store.put("p", summary)
        summary["tracks"].append("bass")
        assert await store.get("p") == {"tracks": ["drums"]}

    asyncio.run(scenario())


def test_memory_feedback_store_forgets_the_oldest_user():
    async def scenario() -> None:
        store = MemoryFeedbackStore(max_users=2)
        for user in ("u1", "u2", "u1", "u3"):
            await store.add(user, [event("accepted", "f", 1.0)])
        assert [await store.profile(u) is not None for u in ("u1", "u2", "u3")] == [True, False, True]

    asyncio.run(scenario())


def test_sqlite_feedback_store_forgets_the_least_recently_seen_user(tmp_path):
    async def scenario() -> None:
        store = SqliteFeedbackStore(str(tmp_path / "f.sqlite3"), max_users=2)
        for at, user in enumerate(("u1", "u2", "u1", "u3")):
            await store.add(user, [event("accepted", "f", float(at))])
        assert [await store.profile(u) is not None for u in ("u1", "u2", "u3")] == [True, False, True]
        await store.aclose()

    asyncio.run(scenario())


def test_audio_cache_is_a_byte_bounded_lru(backend: Backend):
    """Both backends: the least recently used entries go once the bytes pass the bound (in
    Redis, for every worker at once)."""

    async def scenario(stores: Stores) -> None:
        cache = stores.audio(max_bytes=10)
        await cache.put("a", b"1234")
        await cache.put("b", b"5678")
        assert await cache.get("a") == b"1234"  # "b" is now the oldest
        await cache.put("c", b"9012")
        assert [await cache.get(k) for k in "abc"] == [b"1234", None, b"9012"]
        if isinstance(cache, MemoryAudioCache):
            assert cache.total_bytes == 8
        await cache.put("c", b"90")  # a put replaces the entry and its byte count
        await cache.put("d", b"3456")  # 4 + 2 + 4 = 10 fits
        assert [await cache.get(k) for k in "acd"] == [b"1234", b"90", b"3456"]
        await cache.put("a", b"x" * 11)  # too large to keep: the old "a" goes too
        assert await cache.get("a") is None
        assert await cache.clear() == (2, 6)
        await cache.put("e", b"1234567890")  # after a clear the whole bound is free again
        assert await cache.get("e") == b"1234567890"

    backend.run(scenario)


@pytest.mark.parametrize(
    "build",
    [
        lambda: MemorySummaryStore(max_entries=0),
        lambda: MemoryFeedbackStore(max_features=0),
        lambda: MemoryFeedbackStore(max_phrases=0),
        lambda: MemoryFeedbackStore(max_users=0),
        lambda: SqliteFeedbackStore(":memory:", max_features=0),
        lambda: SqliteFeedbackStore(":memory:", max_users=0),
        lambda: MemoryAudioCache(max_bytes=0),
    ],
)
def test_memory_stores_refuse_empty_bounds(build: Callable[[], object]):
    with pytest.raises(ValueError, match="at least 1"):
        build()


# --- Redis specifics ---------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_keys_carry_a_ttl(redis_backend: Backend):
    async def scenario(stores: Stores) -> None:
        client, prefix = stores.client, stores.prefix
        summary = RedisSummaryStore(client, prefix=prefix)
        await summary.put("p1", {"a": 1})
        assert 29 * 86400 < await client.ttl(f"{prefix}summary:p1") <= 30 * 86400
        await RedisSummaryStore(client, prefix=prefix, ttl_seconds=None).put("p2", {})
        assert await client.ttl(f"{prefix}summary:p2") == -1

        feedback = RedisFeedbackStore(client, prefix=prefix, ttl_seconds=600)
        await feedback.add("u1", [event("accepted", "x", 1.0, phrase="x y")])
        for key in feedback.keys("u1"):
            assert 590 < await client.ttl(key) <= 600

        audio = RedisAudioCache(client, prefix=prefix, ttl_seconds=60)
        await audio.put("k", b"data")
        assert 50 < await client.ttl(f"{prefix}audio:k") <= 60

    redis_backend.run(scenario)


@pytest.mark.redis
def test_redis_audio_clear_scans_in_batches_and_stays_in_its_prefix(redis_backend: Backend):
    async def scenario(stores: Stores) -> None:
        client, prefix = stores.client, stores.prefix
        starred = RedisAudioCache(client, prefix=f"{prefix}x*:", scan_batch=3)
        neighbour = RedisAudioCache(client, prefix=f"{prefix}xy:")
        for i in range(25):
            await starred.put(f"k{i}", b"12345")
        await neighbour.put("k", b"kept")
        await RedisSummaryStore(client, prefix=f"{prefix}x*:").put("p", {"kept": True})
        assert await starred.clear() == (25, 125)
        assert await neighbour.get("k") == b"kept"
        assert await client.exists(f"{prefix}x*:summary:p") == 1

    redis_backend.run(scenario)


@pytest.mark.redis
def test_redis_stores_refuse_a_decoding_client(redis_url: str):
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    for store in (RedisSummaryStore, RedisFeedbackStore, RedisAudioCache):
        with pytest.raises(ValueError, match="decode_responses=False"):
            store(client)


def test_redis_client_without_the_package_names_the_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(NotConfigured, match=r"install dawai-backend\[redis\]"):
        redis_client("redis://127.0.0.1:6379/0")
