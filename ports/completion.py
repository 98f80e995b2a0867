"""The text completion (ghost text) port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from dawai.core.models import CompletionCandidate, CompletionQuery, TextAnalysis

__all__ = ["CompleterFactory", "EngineConfig", "Pronouncer", "TextCompleter"]


class EngineConfig(msgspec.Struct, frozen=True):
    """What a ghost-text engine's factory gets: its folder, where and how wide to run,
    its own options (``[engines.<name>] options``). Never a secret, never the settings."""

    name: str
    # ``[engines.<name>] folder``, else the folder the plugin registered, else None.
    folder: str | None = None
    execution_provider: Literal["auto", "cpu", "cuda"] = "cpu"
    threads: int = 0  # 0: the inference runtime chooses
    options: dict[str, Any] = {}


@runtime_checkable
class TextCompleter(Protocol):
    """Suggests what to insert at the cursor in lyrics, chord charts and notes."""

    name: str

    async def complete(self, query: CompletionQuery) -> list[CompletionCandidate]: ...

    async def analyze(self, text: str) -> TextAnalysis: ...


@runtime_checkable
class Pronouncer(Protocol):
    """How words sound, for syllable counts and rhymes. Synchronous and cheap per call (a
    dictionary look-up); whatever it loads, it loads once."""

    def english(self, word: str) -> tuple[str, ...] | None:
        """The ARPAbet phones of ``word`` (lower case) as CMUdict writes them (vowels with a
        stress digit), or None when the word is unknown."""
        ...

    def reading(self, text: str) -> str:
        """The reading of Japanese ``text`` in katakana (kana passes through; what cannot be
        read is left out)."""
        ...


CompleterFactory = Callable[[EngineConfig], TextCompleter]
