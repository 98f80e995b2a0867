"""The typed-ahead cache: when the user types the start of a shown candidate, the rest of
it (and of the other candidates that start the same way) comes back without asking the
engines again (Tabby and Continue do the same; docs/adr/0026)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Final

from dawai.core.models import CompletionCandidate

__all__ = ["TypeaheadCache"]

MAX_TYPED: Final = 48  # characters typed past a shown answer that are still looked up


class TypeaheadCache:
    """The last ``max_entries`` answers, keyed by what identifies the question (user,
    language, context, limit) and the text before and after the cursor."""

    def __init__(self, max_entries: int = 1024) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, not {max_entries}")
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[Hashable, str, str], tuple[CompletionCandidate, ...]] = OrderedDict()
        self.hits = 0

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, scope: Hashable, before: str, after: str, candidates: list[CompletionCandidate]) -> None:
        if not candidates:
            return
        key = (scope, before, after)
        self._entries[key] = tuple(candidates)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, user_id: str) -> None:
        """Drop the answers given to ``user_id`` (scopes whose first item it is)."""
        for key in [key for key in self._entries if isinstance(key[0], tuple) and key[0][:1] == (user_id,)]:
            del self._entries[key]

    def get(self, scope: Hashable, before: str, after: str) -> list[CompletionCandidate] | None:
        """The rest of an earlier answer's candidates when ``before`` is an earlier question's
        text plus the start of at least one of its candidates (the nearest earlier answer),
        else None."""
        for typed in range(1, min(MAX_TYPED, len(before)) + 1):
            key = (scope, before[:-typed], after)
            shown = self._entries.get(key)
            if shown is None:
                continue
            suffix = before[-typed:]
            rest = [
                CompletionCandidate(c.text[typed:], c.score, c.kind)
                for c in shown
                if c.text.startswith(suffix) and len(c.text) > typed
            ]
            if not rest:
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return rest
        return None
