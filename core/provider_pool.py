"""SDK clients, built once per (provider, key, base URL) and reused.

Keys are held only inside the provider instances; the pool's own index uses a hash of
the key. Each credential set spreads over ``shards`` instances (independent connection
pools), since one client holding ~1,000 connections spends CPU in proportion to its pool
on every request (see docs/adr/0006). Least recently used sets are closed once streams
that may still be using them have had time to finish. ``on_first_build`` is called after
a provider factory builds its first instance in this process (its SDK has just loaded).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections import OrderedDict
from collections.abc import Callable

from dawai.core.catalog import Catalog
from dawai.core.settings import Settings
from dawai.ports.llm import LLMProvider, ProviderConfig

__all__ = ["ProviderPool"]


class ProviderPool:
    def __init__(
        self, catalog: Catalog, settings: Settings, on_first_build: Callable[[], None] | None = None
    ) -> None:
        self._catalog = catalog
        self._on_first_build = on_first_build
        self._factories_used: set[object] = set()
        self._settings = settings
        self._max = settings.llm.client_cache_size
        self._shards = settings.llm.client_shards
        self._sets: OrderedDict[tuple[str, str, str], list[LLMProvider]] = OrderedDict()
        self._turn = itertools.count()
        self._closing: set[asyncio.Task[None]] = set()
        self._retired: list[LLMProvider] = []

    def __len__(self) -> int:
        return len(self._sets)

    def get(self, provider: str, api_key: str | None) -> LLMProvider:
        entry = self._catalog.providers[provider]
        endpoint = self._settings.providers.get(provider)
        base_url = (endpoint.base_url if endpoint else None) or entry.default_base_url
        digest = hashlib.sha256((api_key or "").encode()).hexdigest()
        index = (provider, digest, base_url or "")
        instances = self._sets.get(index)
        if instances is None:
            instances = self._sets[index] = []
            self._evict()
        else:
            self._sets.move_to_end(index)
        if len(instances) < self._shards:
            reliability = self._settings.reliability
            config = ProviderConfig(
                name=provider,
                api_key=api_key,
                base_url=base_url,
                connect_timeout=reliability.connect_timeout,
                read_timeout=reliability.total_timeout,
                options=dict(endpoint.options) if endpoint else {},
            )
            instances.append(entry.factory(config))
            if entry.factory not in self._factories_used:
                self._factories_used.add(entry.factory)
                if self._on_first_build is not None:
                    self._on_first_build()
            return instances[-1]
        return instances[next(self._turn) % len(instances)]

    def _evict(self) -> None:
        while len(self._sets) > self._max:
            _, instances = self._sets.popitem(last=False)
            self._close_later(instances, self._settings.reliability.total_timeout)

    def _close_later(self, instances: list[LLMProvider], delay: float) -> None:
        self._retired.extend(instances)

        async def close() -> None:
            await asyncio.sleep(delay)
            for instance in instances:
                self._retired.remove(instance)
                await instance.aclose()

        try:
            task = asyncio.get_running_loop().create_task(close())
        except RuntimeError:  # no loop: nothing can be in flight either
            return
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        for task in list(self._closing):
            task.cancel()
        instances = [i for group in self._sets.values() for i in group] + self._retired
        self._sets, self._retired = OrderedDict(), []
        for instance in instances:
            await instance.aclose()
