"""What plugins registered: providers, prompt strategies, voices and text completers.

Plugins push entries through ``register`` callbacks (see ``dawai.plugins.hookspecs``);
the catalog only holds them. Names are unique per kind: a second registration under a
taken name is refused and reported, never silently replacing the first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from dawai.ports.completion import CompleterFactory
from dawai.ports.llm import ProviderFactory
from dawai.ports.prompt import PromptStrategy
from dawai.ports.singing import VoiceFactory

__all__ = ["Catalog", "CompleterEntry", "ProviderEntry", "StrategyEntry", "VoiceEntry"]


class ProviderEntry(msgspec.Struct, frozen=True):
    """An LLM provider kind.

    ``prefixes`` route bare model ids (``claude-...``) here; ``models`` are ids this
    provider advertises in ``GET /api/models``; ``key_setting`` names the server setting
    that supplies its key (``None``: it needs no key). ``keys_per_request``: its instances
    are ``KeyedProvider``s, so one instance per base URL serves every key.
    """

    name: str
    factory: ProviderFactory
    prefixes: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    key_setting: str | None = None
    default_base_url: str | None = None
    description: str = ""
    keys_per_request: bool = False
    plugin: str = ""


class StrategyEntry(msgspec.Struct, frozen=True):
    name: str
    factory: Callable[[], PromptStrategy]
    description: str = ""
    plugin: str = ""


class VoiceEntry(msgspec.Struct, frozen=True):
    """A singing voice. ``factory`` takes a ``dawai.ports.VoiceConfig``; ``folder`` is
    where the plugin keeps its files (``None``: under ``inference.voices_dir``)."""

    name: str
    factory: VoiceFactory
    description: str = ""
    folder: str | None = None
    plugin: str = ""
    # Why the voice cannot work, when its plugin knew at registration (a broken voicebank):
    # reported by /health and /diffsinger/models from the start; its factory fails too.
    problem: str | None = None


class CompleterEntry(msgspec.Struct, frozen=True):
    """A ghost-text engine. ``factory`` takes a ``dawai.ports.EngineConfig``; ``folder``
    is where the plugin keeps its files (``None``: none)."""

    name: str
    factory: CompleterFactory
    description: str = ""
    folder: str | None = None
    plugin: str = ""


class Catalog:
    """Registered entries by kind and name, plus the problems met while registering."""

    def __init__(self) -> None:
        self.providers: dict[str, ProviderEntry] = {}
        self.strategies: dict[str, StrategyEntry] = {}
        self.voices: dict[str, VoiceEntry] = {}
        self.completers: dict[str, CompleterEntry] = {}
        # (plugin, what was refused and why)
        self.problems: list[tuple[str, str]] = []

    def _tables(self) -> dict[str, dict[str, Any]]:
        return {
            "providers": self.providers,
            "prompt_strategies": self.strategies,
            "voices": self.voices,
            "text_completers": self.completers,
        }

    def _add(self, table: dict[str, Any], kind: str, entry: Any) -> None:
        if not entry.name or "/" in entry.name:
            self.problems.append((entry.plugin, f"{kind} name {entry.name!r} is empty or has '/'"))
            return
        taken = table.get(entry.name)
        if taken is not None:
            self.problems.append(
                (entry.plugin, f"{kind} {entry.name!r} is already registered by {taken.plugin}")
            )
            return
        table[entry.name] = entry

    def drop(self, plugin: str) -> None:
        """Forget everything one plugin registered (it failed part-way)."""
        for table in self._tables().values():
            for name in [n for n, e in table.items() if e.plugin == plugin]:
                del table[name]

    def add_provider(self, entry: ProviderEntry) -> None:
        self._add(self.providers, "provider", entry)

    def add_strategy(self, entry: StrategyEntry) -> None:
        self._add(self.strategies, "prompt strategy", entry)

    def add_voice(self, entry: VoiceEntry) -> None:
        self._add(self.voices, "voice", entry)

    def add_completer(self, entry: CompleterEntry) -> None:
        self._add(self.completers, "text completer", entry)

    def registered_by(self, plugin: str) -> dict[str, list[str]]:
        """What one plugin registered, by kind (for ``dawai plugins`` and health)."""
        found = {
            kind: sorted(n for n, e in t.items() if e.plugin == plugin) for kind, t in self._tables().items()
        }
        return {kind: names for kind, names in found.items() if names}
