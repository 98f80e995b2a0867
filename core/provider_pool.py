"""Provider instances (SDK clients with their connection pools), built once and reused.

Memory stays bounded whatever keys clients send:

- A provider registered with ``keys_per_request=True`` (every built-in one) is built once
  per (provider, base URL) and shard, with no key, and each request gets a view of it
  (``KeyedProvider.with_key``) that sends its own key over the shared connections. Base
  URLs come from settings only, so the number of instances is fixed by the config:
  providers x base URLs x ``llm.client_shards``, whatever the number of keys.
- Any other provider gets instances per (provider, key, base URL). At most
  ``llm.client_cache_size`` key sets are kept (the shared sets above are not among
  them: keys sent to such a provider never evict a built-in provider's clients); an
  evicted set is closed once streams that may still use it have had
  ``reliability.total_timeout`` to finish, and at once when more than
  ``client_cache_size`` sets are waiting to close. So at most
  ``2 x client_cache_size x client_shards`` such instances exist.

Each set spreads over ``shards`` instances (independent connection pools) used in turn,
since a client holding many connections spends CPU in proportion to its pool on every
request (docs/adr/0006 has the measurements). The pool's own index holds a hash of a key, never the key.
``on_first_build`` is called after a provider factory builds its first instance in this
process (its SDK has just loaded).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections import OrderedDict
from collections.abc import Callable
from typing import cast

from dawai.core.catalog import Catalog, ProviderEntry
from dawai.core.errors import NotConfigured
from dawai.core.settings import Settings
from dawai.ports.llm import KeyedProvider, LLMProvider, ProviderConfig

__all__ = ["ProviderPool"]

Index = tuple[str, str, str]


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
        # (provider, base URL) -> the shared instances of a keys_per_request provider;
        # (provider, key digest, base URL) -> one key's instances, least recently used first.
        self._shared: dict[tuple[str, str], list[LLMProvider]] = {}
        self._sets: OrderedDict[Index, list[LLMProvider]] = OrderedDict()
        self._turn = itertools.count()
        self._closing: set[asyncio.Task[None]] = set()
        # Sets waiting to be closed, by the task that will close them (oldest first).
        self._retired: dict[asyncio.Task[None], list[LLMProvider]] = {}

    def __len__(self) -> int:
        """Sets held: shared ones and per-key ones."""
        return len(self._shared) + len(self._sets)

    @property
    def instances(self) -> int:
        """Provider instances alive: in use or waiting to be closed."""
        groups = [*self._shared.values(), *self._sets.values(), *self._retired.values()]
        return sum(map(len, groups))

    def get(self, provider: str, api_key: str | None) -> LLMProvider:
        entry = self._catalog.providers[provider]
        endpoint = self._settings.providers.get(provider)
        base_url = (endpoint.base_url if endpoint else None) or entry.default_base_url
        if entry.keys_per_request:
            # A shared set: fixed by the config, never evicted by per-key ones.
            shared = self._shared.setdefault((provider, base_url or ""), [])
            return cast(KeyedProvider, self._pick(entry, shared, None, base_url)).with_key(api_key)
        digest = hashlib.sha256((api_key or "").encode()).hexdigest()
        return self._pick(entry, self._key_set((provider, digest, base_url or "")), api_key, base_url)

    def _key_set(self, index: Index) -> list[LLMProvider]:
        """One key's instances, now the most recently used set (a new set may evict)."""
        found = self._sets.get(index)
        if found is None:
            found = self._sets[index] = []
            self._evict()
        else:
            self._sets.move_to_end(index)
        return found

    def _pick(
        self, entry: ProviderEntry, instances: list[LLMProvider], api_key: str | None, base_url: str | None
    ) -> LLMProvider:
        """A new instance while the set has fewer than ``shards``, else the next in turn."""
        if len(instances) >= self._shards:
            return instances[next(self._turn) % len(instances)]
        instance = entry.factory(self._config(entry, api_key, base_url))
        if entry.keys_per_request and not isinstance(instance, KeyedProvider):  # checked once, here
            raise NotConfigured(
                f"Provider '{entry.name}' was registered with keys_per_request but has no with_key()."
            )
        instances.append(instance)
        if entry.factory not in self._factories_used:
            self._factories_used.add(entry.factory)
            if self._on_first_build is not None:
                self._on_first_build()
        return instance

    def _config(self, entry: ProviderEntry, api_key: str | None, base_url: str | None) -> ProviderConfig:
        endpoint = self._settings.providers.get(entry.name)
        reliability = self._settings.reliability
        return ProviderConfig(
            name=entry.name,
            api_key=api_key,
            base_url=base_url,
            connect_timeout=reliability.connect_timeout,
            pool_timeout=reliability.pool_timeout,
            read_timeout=reliability.total_timeout,
            stall_timeout=reliability.stall_timeout,
            limits=self._settings.upstream,
            options=dict(endpoint.options) if endpoint else {},
            ca_bundle=endpoint.ca_bundle if endpoint else None,
            verify=endpoint.verify if endpoint else True,
            transport=self._settings.llm.transport,
        )

    def _evict(self) -> None:
        while len(self._sets) > self._max:
            _, instances = self._sets.popitem(last=False)
            self._retire(instances)

    def _retire(self, instances: list[LLMProvider]) -> None:
        """Close ``instances`` after ``total_timeout`` (a stream may still use them), or at
        once for the oldest waiting sets when more than ``client_cache_size`` wait."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # built and dropped outside any loop: nothing is in flight
            return
        waiting = loop.create_task(self._close(instances, self._settings.reliability.total_timeout))
        self._retired[waiting] = instances
        while len(self._retired) > self._max:
            oldest = next(iter(self._retired))
            group = self._retired.pop(oldest)
            oldest.cancel()
            self._track(loop.create_task(self._close(group, 0.0)))
        self._track(waiting)

    async def _close(self, instances: list[LLMProvider], delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        task = asyncio.current_task()
        if task is not None:
            self._retired.pop(task, None)
        for instance in instances:
            await instance.aclose()

    def _track(self, task: asyncio.Task[None]) -> None:
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        for task in list(self._closing):
            task.cancel()
        groups = [*self._shared.values(), *self._sets.values(), *self._retired.values()]
        self._shared, self._sets, self._retired = {}, OrderedDict(), {}
        for group in groups:
            for instance in group:
                await instance.aclose()
