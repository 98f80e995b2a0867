"""Merging the engines' candidates into the few the editor shows."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dawai.core.models import CompletionCandidate

__all__ = ["rank"]

Boost = Callable[[CompletionCandidate], float]


def rank(
    groups: Iterable[Iterable[CompletionCandidate]], limit: int, boost: Boost | None = None
) -> list[CompletionCandidate]:
    """The best ``limit`` candidates of all ``groups``: one per text (the best-scored copy,
    keeping its kind), none empty, spaces only or spanning lines, each score multiplied by
    ``boost(candidate)`` and kept within 0..1, best first (ties: the shorter text, then by
    text, so the order is stable)."""
    best: dict[str, CompletionCandidate] = {}
    for group in groups:
        for candidate in group:
            text = candidate.text
            if not text.strip() or "\n" in text or "\r" in text:
                continue
            score = candidate.score * (boost(candidate) if boost is not None else 1.0)
            score = round(min(max(score, 0.0), 1.0), 4)
            old = best.get(text)
            if old is None or score > old.score:
                best[text] = CompletionCandidate(text, score, candidate.kind)
    ordered = sorted(best.values(), key=lambda c: (-c.score, len(c.text), c.text))
    return ordered[: max(limit, 0)]
