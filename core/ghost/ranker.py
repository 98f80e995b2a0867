"""Merging the engines' candidates into the few the editor shows."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dawai.core.models import CompletionCandidate

__all__ = ["rank"]

Rescore = Callable[[CompletionCandidate], float]


def rank(
    groups: Iterable[Iterable[CompletionCandidate]],
    limit: int,
    rescore: Rescore | None = None,
) -> list[CompletionCandidate]:
    """The best ``limit`` candidates of all ``groups``: one per text (the best-scored copy,
    keeping its kind), none empty, spaces only or spanning lines, each scored by
    ``rescore(candidate)`` (default: its own score) and kept within 0..1, best first
    (ties: the shorter text, then by text, so the order is stable)."""
    best: dict[str, CompletionCandidate] = {}
    for group in groups:
        for candidate in group:
            text = candidate.text
            if not text.strip() or "\n" in text or "\r" in text:
                continue
            score = rescore(candidate) if rescore is not None else candidate.score
            score = round(min(max(score, 0.0), 1.0), 4)
            old = best.get(text)
            if old is None or score > old.score:
                best[text] = CompletionCandidate(text, score, candidate.kind)
    ordered = sorted(best.values(), key=lambda c: (-c.score, len(c.text), c.text))
    return ordered[: max(limit, 0)]
