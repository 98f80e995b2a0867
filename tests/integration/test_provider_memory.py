"""Memory stays bounded whatever keys clients send.

Thousands of requests, each with a key never seen before, through the real SDK adapters
against the loopback fake: the provider instances (SDK clients and their connection
pools) are counted, and the bytes the process holds after them are measured with
tracemalloc. Before keys went per request, each new key built and kept a client set.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import tracemalloc

import pytest

from dawai.core.chat import ChatInput
from dawai.core.models import Finish, TextDelta
from dawai.core.provider_pool import ProviderPool
from tests.conftest import ProviderPlugin, make_container, make_host, make_settings, upstream_env
from tests.fakes.providers import ScriptedProvider, ok_script, recording_factory

PROVIDERS = {"anthropic": "anthropic/fake", "openai": "openai/fake", "google": "google/fake"}
SHARDS = 2


@pytest.fixture
def container(upstream):
    upstream.reset()
    settings = make_settings(upstream_env(upstream, DAWAI_CLIENT_SHARDS=str(SHARDS)))
    return make_container(settings)


async def _chat(service, provider: str, key: str, stream: bool) -> None:
    chat = ChatInput(message="hi", model=PROVIDERS[provider], api_keys={provider: key})
    if stream:
        async for _ in service.stream(chat):
            pass
    else:
        await service.reply(chat)


CREDENTIAL_HEADERS = ("x-api-key", "authorization", "x-goog-api-key")


def _key_of(headers: dict[str, str]) -> str:
    """The one credential a request carried (whichever header its SDK puts it in)."""
    present = [headers[name] for name in CREDENTIAL_HEADERS if name in headers]
    assert len(present) == 1, present
    return present[0].removeprefix("Bearer ")


async def _many(service, upstream, provider: str, start: int, count: int) -> set[str]:
    """``count`` requests with new keys; the keys the fake saw (its own record of each
    request is dropped as it goes, so that only our side's memory is measured)."""
    seen: set[str] = set()
    for n in range(start, start + count, 8):
        await asyncio.gather(
            *(_chat(service, provider, f"sk-{provider}-{i:06d}", i % 2 == 0) for i in range(n, n + 8))
        )
        seen.update(_key_of(r.headers) for r in upstream.requests)
        upstream.reset()
    return seen


@pytest.mark.parametrize("provider", PROVIDERS)
def test_distinct_keys_share_one_set_of_clients(container, upstream, provider, caplog):
    # pytest keeps every log record it captures (the SDKs log each request): not ours to count.
    caplog.set_level(logging.WARNING)
    service = container.chat_service()
    pool: ProviderPool = container.provider_pool()

    async def main() -> tuple[int, int, int, set[str]]:
        await _many(service, upstream, provider, 0, 200)  # warm: SDK loaded, connections open
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        keys = await _many(service, upstream, provider, 200, 2000)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        instances, sets = pool.instances, len(pool)
        await pool.aclose()
        return instances, sets, grown, keys

    instances, sets, grown, keys = asyncio.run(main())
    assert (instances, sets) == (SHARDS, 1)  # not one set per key
    assert len(keys) == 2000  # each request carried its own key
    # Before: ~850 KB per key for Gemini, ~100 KB+ for the others, i.e. hundreds of MB.
    assert grown < 1_000_000, f"{grown} bytes held after 2,000 new keys"


def test_each_request_carries_its_own_key_and_only_it(container, upstream):
    service = container.chat_service()

    async def main() -> None:
        for provider in PROVIDERS:
            await asyncio.gather(*(_chat(service, provider, f"sk-own-{i}", i % 2 == 1) for i in range(6)))
        await container.provider_pool().aclose()

    asyncio.run(main())
    assert {r.provider for r in upstream.requests} == {"anthropic", "openai", "gemini"}
    # Exactly one credential header per request, always a request's own key.
    assert all(_key_of(r.headers).startswith("sk-own-") for r in upstream.requests)


def test_providers_without_per_request_keys_keep_a_bounded_number_of_clients(tmp_path):
    made, factory = recording_factory()

    config = tmp_path / "dawai.toml"
    config.write_text("[llm]\nclient_cache_size = 4\nclient_shards = 1\n")
    settings = make_settings({"DAWAI_CONFIG": str(config)})
    host = make_host(settings, ("plug", ProviderPlugin("plug", factory)))
    pool = ProviderPool(host.catalog, settings)

    async def main() -> list[int]:
        alive = []
        for i in range(1000):
            pool.get("plug", f"key-{i}")
            await asyncio.sleep(0)  # let early closes run
            alive.append(pool.instances)
        await pool.aclose()
        return alive

    alive = asyncio.run(main())
    assert max(alive) <= 2 * 4  # cached plus waiting to close, never one per key
    assert len(made) == 1000 and all(p.closed for p in made)


def test_new_keys_for_a_per_key_provider_never_evict_the_shared_clients(upstream, tmp_path):
    """Keys sent to a plugin provider without views churn its own cache only: a stream
    open on a shared (built-in) client goes on, and that client is never closed."""
    from dawai.core.settings import Settings

    made, factory = recording_factory()

    config = tmp_path / "dawai.toml"
    config.write_text("[llm]\nclient_cache_size = 1\nclient_shards = 1\n")
    settings: Settings = make_settings(upstream_env(upstream, DAWAI_CONFIG=str(config)))
    container = make_container(settings, ("plug", ProviderPlugin("plug", factory)))
    service, pool = container.chat_service(), container.provider_pool()

    async def main() -> tuple[list, bool, bool]:
        chat = ChatInput(message="hi", model="openai/fake+chunks=20+delay=0.01", api_keys={"openai": "sk-a"})
        client = pool.get("openai", "sk-a")._client  # the SDK client every openai view shares
        events = []
        async for event in service.stream(chat):
            events.append(event)
            if len(events) == 2:  # mid-stream: a flood of new keys for the other provider
                for i in range(50):
                    pool.get("plug", f"key-{i}")
                    await asyncio.sleep(0)
        await _chat(service, "openai", "sk-c", stream=False)
        same = pool.get("openai", "sk-d")._client is client
        closed = client.is_closed()
        await pool.aclose()
        return events, same, closed

    events, same, closed = asyncio.run(main())
    assert sum(isinstance(e, TextDelta) for e in events) == 20 and isinstance(events[-1], Finish)
    assert same and not closed  # never evicted, closed or rebuilt
    assert len(made) == 50 and sum(p.closed for p in made) == 50


def test_keys_per_request_without_with_key_is_not_configured():
    from dawai.core.errors import NotConfigured

    settings = make_settings({})
    plugin = ProviderPlugin("plug", lambda config: ScriptedProvider([ok_script("x")]), keys_per_request=True)
    pool = ProviderPool(make_host(settings, ("plug", plugin)).catalog, settings)
    with pytest.raises(NotConfigured, match="keys_per_request"):
        pool.get("plug", "k")
    assert pool.instances == 0  # nothing half-built is kept
