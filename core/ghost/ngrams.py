"""Small n-gram models: English words, Japanese characters.

Both count continuations of every context up to their order over the corpus lines and answer
with *stupid backoff* (Brants et al. 2007): the relative frequency in the longest context
seen, else 0.4 times the next shorter one's. Good enough to finish a word or a phrase in a
few microseconds; the counts are the whole model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Final

from dawai.core.ghost.text import words

__all__ = ["END", "CharNGrams", "WordNGrams"]

END: Final = "\n"  # the end of a line, as a word or a character
START: Final = "\x02"
BACKOFF: Final = 0.4


class _Table:
    """Context -> its continuations, most frequent first, with the context's total."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, ...] | str, Counter[str]] = {}
        self.ranked: dict[tuple[str, ...] | str, tuple[tuple[str, float], ...]] = {}

    def add(self, context: tuple[str, ...] | str, following: str) -> None:
        self._counts.setdefault(context, Counter())[following] += 1

    def freeze(self) -> None:
        for context, counter in self._counts.items():
            total = sum(counter.values())
            self.ranked[context] = tuple(
                (item, count / total)
                for item, count in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
            )
        self._counts.clear()


class WordNGrams:
    """Lower-case English words, ``order`` 3 (two words of context), lines as sentences."""

    def __init__(self, lines: Iterable[str], order: int = 3) -> None:
        self.order = order
        self._table = _Table()
        self.vocabulary: Counter[str] = Counter()
        for line in lines:
            tokens = words(line)
            if not tokens:
                continue
            self.vocabulary.update(tokens)
            padded = [START] * (order - 1) + tokens + [END]
            for index in range(order - 1, len(padded)):
                for size in range(order):
                    self._table.add(tuple(padded[index - size : index]), padded[index])
        self._table.freeze()
        self.prefixes: dict[str, tuple[str, ...]] = {}
        for word, _ in sorted(self.vocabulary.items(), key=lambda kv: (-kv[1], kv[0])):
            for size in range(1, min(len(word), 6) + 1):
                bucket = self.prefixes.setdefault(word[:size], ())
                if len(bucket) < 24:
                    self.prefixes[word[:size]] = (*bucket, word)

    def context(self, previous: list[str]) -> tuple[str, ...]:
        padded = [START] * (self.order - 1) + previous
        return tuple(padded[len(padded) - (self.order - 1) :])

    def next_words(self, previous: list[str], prefix: str = "", limit: int = 8) -> list[tuple[str, float]]:
        """The likeliest next words (``END`` for the line's end) after ``previous`` that start
        with ``prefix`` and are longer than it, with their backoff scores, best first."""
        context = self.context(previous)
        scores: dict[str, float] = {}
        weight = 1.0
        for size in range(len(context), -1, -1):
            for word, probability in self._table.ranked.get(context[len(context) - size :], ()):
                if word.startswith(prefix) and word != prefix and (prefix == "" or word != END):
                    score = weight * probability
                    if score > scores.get(word, 0.0):
                        scores[word] = score
            if len(scores) >= limit:
                break
            weight *= BACKOFF
        if len(scores) < limit and prefix:
            total = sum(self.vocabulary.values()) or 1
            for word in self.prefixes.get(prefix[:6], ()):
                if word.startswith(prefix) and word != prefix and word not in scores:
                    scores[word] = weight * self.vocabulary[word] / total
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def best_next(self, previous: list[str]) -> tuple[str, float] | None:
        found = self.next_words(previous, limit=1)
        return found[0] if found else None


class CharNGrams:
    """Characters (Japanese lines), ``order`` 5 (four characters of context)."""

    def __init__(self, lines: Iterable[str], order: int = 5) -> None:
        self.order = order
        self._table = _Table()
        for line in lines:
            line = line.strip()
            if not line:
                continue
            padded = START * (order - 1) + line + END
            for index in range(order - 1, len(padded)):
                for size in range(order):
                    self._table.add(padded[index - size : index], padded[index])
        self._table.freeze()

    def context(self, line_before: str) -> str:
        padded = START * (self.order - 1) + line_before
        return padded[len(padded) - (self.order - 1) :]

    def next_chars(self, line_before: str, limit: int = 6) -> list[tuple[str, float]]:
        """The likeliest next characters (``END`` for the line's end), best first."""
        context = self.context(line_before)
        scores: dict[str, float] = {}
        weight = 1.0
        for size in range(len(context), -1, -1):
            for char, probability in self._table.ranked.get(context[len(context) - size :], ()):
                score = weight * probability
                if score > scores.get(char, 0.0):
                    scores[char] = score
            if len(scores) >= limit:
                break
            weight *= BACKOFF
        return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def continuation(self, line_before: str, first: str, *, max_chars: int = 8, floor: float = 0.3) -> str:
        """``first`` and the characters the model is sure enough of after it (each at least
        ``floor`` likely), up to ``max_chars`` or the end of the line."""
        text = first
        while len(text) < max_chars:
            found = self.next_chars(line_before + text, limit=1)
            if not found:
                break
            char, score = found[0]
            if char == END or score < floor:
                break
            text += char
        return text
