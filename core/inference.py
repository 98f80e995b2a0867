"""Building voices and ghost-text engines from the catalog, each with its narrow config.

A factory registered through ``register_voices`` or ``register_text_completers`` gets a
``VoiceConfig`` or an ``EngineConfig``: its folder, the execution provider, the thread
count and its own options table, never the settings tree (which holds secrets).
"""

from __future__ import annotations

import os

from dawai.core.catalog import Catalog, CompleterEntry, VoiceEntry
from dawai.core.errors import NotConfigured
from dawai.core.settings import Settings
from dawai.ports.completion import EngineConfig, TextCompleter
from dawai.ports.singing import SingingSynthesizer, VoiceConfig

__all__ = ["build_completer", "build_voice", "engine_config", "voice_config"]


def voice_config(entry: VoiceEntry, settings: Settings) -> VoiceConfig:
    """The config ``entry``'s factory receives: the folder is ``[voices.<name>] folder``,
    else the plugin's, else ``inference.voices_dir``/<name>, else ``None``."""
    table = settings.voices.get(entry.name)
    voices_dir = settings.inference.voices_dir
    folder = (table.folder if table else None) or entry.folder
    if folder is None and voices_dir:
        folder = os.path.join(voices_dir, entry.name)
    return VoiceConfig(
        name=entry.name,
        folder=folder,
        execution_provider=settings.inference.execution_provider,
        threads=settings.inference.threads,
        options=dict(table.options) if table else {},
    )


def engine_config(entry: CompleterEntry, settings: Settings) -> EngineConfig:
    """The config ``entry``'s factory receives: the folder is ``[engines.<name>] folder``,
    else the plugin's, else ``None``."""
    table = settings.engines.get(entry.name)
    return EngineConfig(
        name=entry.name,
        folder=(table.folder if table else None) or entry.folder,
        execution_provider=settings.inference.execution_provider,
        threads=settings.inference.threads,
        options=dict(table.options) if table else {},
    )


def _missing(kind: str, name: str, known: list[str]) -> NotConfigured:
    return NotConfigured(f"{kind} '{name}' is not registered (known: {', '.join(sorted(known)) or 'none'}).")


def build_voice(catalog: Catalog, settings: Settings, name: str) -> SingingSynthesizer:
    """A new instance of the voice registered as ``name`` (the caller owns and closes it)."""
    entry = catalog.voices.get(name)
    if entry is None:
        raise _missing("Voice", name, list(catalog.voices))
    return entry.factory(voice_config(entry, settings))


def build_completer(catalog: Catalog, settings: Settings, name: str | None = None) -> TextCompleter:
    """A new instance of the ghost-text engine ``name`` (default ``inference.ghost_text_engine``)."""
    name = settings.inference.ghost_text_engine if name is None else name
    entry = catalog.completers.get(name)
    if entry is None:
        raise _missing("Ghost-text engine", name, list(catalog.completers))
    return entry.factory(engine_config(entry, settings))
