"""The text completion (ghost text) port."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from dawai.core.models import CompletionCandidate, CompletionQuery, TextAnalysis

__all__ = ["TextCompleter"]


@runtime_checkable
class TextCompleter(Protocol):
    """Suggests what to insert at the cursor in lyrics, chord charts and notes."""

    name: str

    async def complete(self, query: CompletionQuery) -> list[CompletionCandidate]: ...

    async def analyze(self, text: str) -> TextAnalysis: ...
