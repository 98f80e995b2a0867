"""Ghost-text quality on held-out lines we wrote (``bench/data/ghost_heldout_*.txt``, never
read by the engine): top-3 prefix-match rate and keystroke savings per language, and the rise
in simulated acceptance after replaying 200 feedback events for one user (none for another).

- **Prefix match**: each line cut after every word (English) or every two characters
  (Japanese); a cut matches when one of the top 3 candidates is what the line goes on with
  (English: up to a word boundary).
- **Keystroke savings**: each line typed one character at a time; whenever a top-3 candidate
  is what the line goes on with and saves at least two characters, it is taken with one key
  (Tab). Savings = 1 - keys pressed / characters in the lines.
- **Learning**: the first half of the cuts is shown to user A with 5 candidates: the one that
  matches is accepted, those ranked above it dismissed, until 200 events are sent. Simulated
  acceptance is the top-1 match rate (the editor shows one grey suggestion), for A before and
  after and for B, who sent nothing: on the cuts the feedback came from (a songwriter
  writing the same chorus again) and on the other half, never replayed.

    .venv/bin/python bench/ghost_quality.py

Prints tables, then one line ``JSON {...}``. Goals: prefix match >= 25%, savings >= 10%.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dawai.adapters.inference.pronunciation import DictionaryPronouncer
from dawai.adapters.stores import MemoryFeedbackStore
from dawai.core.ghost.engine import EmbeddedCompleter
from dawai.core.ghost.service import GhostTextService
from dawai.core.ghost.text import utf16_length
from dawai.core.models import CompletionQuery

DATA = Path(__file__).resolve().parent / "data"
GOAL_MATCH, GOAL_SAVINGS = 0.25, 0.10
EVENTS = 200


def lines_of(language: str) -> list[str]:
    text = (DATA / f"ghost_heldout_{language}.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip() and not line.startswith("#")]


def cuts(line: str, language: str) -> list[int]:
    if language == "ja":
        return list(range(2, len(line), 2))
    return [index + 1 for index, char in enumerate(line) if char == " " and index + 1 < len(line)]


def matches(candidate: str, rest: str, language: str) -> bool:
    if not candidate.strip() or not rest.startswith(candidate):
        return False
    if language == "ja":
        return True
    following = rest[len(candidate) : len(candidate) + 1]
    return following in ("", " ", ",", ".", "!", "?")


class Bench:
    def __init__(self) -> None:
        pronouncer = DictionaryPronouncer()
        pronouncer.load()
        self.engine = EmbeddedCompleter(pronouncer)
        self.clock = 1_000_000.0
        self.service = GhostTextService([self.engine], MemoryFeedbackStore(), now=lambda: self.clock)

    async def top(self, text: str, language: str, n: int = 3, user: str | None = None) -> list[str]:
        query = CompletionQuery(text, utf16_length(text), language, {}, n, user)
        return [c.text for c in (await self.service.complete(query)).candidates]

    async def prefix_match(self, language: str) -> tuple[int, int]:
        hits = total = 0
        for line in lines_of(language):
            for cut in cuts(line, language):
                total += 1
                found = await self.top(line[:cut], language)
                hits += any(matches(c, line[cut:], language) for c in found)
        return hits, total

    async def savings(self, language: str) -> tuple[int, int]:
        keys = chars = 0
        for line in lines_of(language):
            chars += len(line)
            position = 0
            while position < len(line):
                found = await self.top(line[:position], language) if position else []
                usable = [c for c in found if matches(c, line[position:], language) and len(c) >= 2]
                if usable:
                    position += len(max(usable, key=len))
                else:
                    position += 1
                keys += 1
        return keys, chars

    async def learning(self) -> dict[str, float]:
        items = [
            (line, cut, language)
            for language in ("en", "ja")
            for line in lines_of(language)
            for cut in cuts(line, language)
        ]
        train, test = items[0::2], items[1::2]

        async def top1(user: str, cases: list[tuple[str, int, str]] | None = None) -> float:
            cases = test if cases is None else cases
            hits = 0
            for line, cut, language in cases:
                found = await self.top(line[:cut], language, n=1, user=user)
                hits += bool(found) and matches(found[0], line[cut:], language)
            return hits / len(cases)

        before_a, before_b = await top1("user-a"), await top1("user-b")
        sent = 0
        replayed: list[tuple[str, int, str]] = []
        for line, cut, language in train:
            if sent >= EVENTS:
                break
            replayed.append((line, cut, language))
            shown = await self.top(line[:cut], language, n=5, user="user-a")
            for candidate in shown:
                if sent >= EVENTS:
                    break
                self.clock += 30.0  # half a minute between keystrokes that get feedback
                if matches(candidate, line[cut:], language):
                    await self.service.feedback("user-a", line[:cut], candidate, "accepted")
                    sent += 1
                    break
                await self.service.feedback("user-a", line[:cut], candidate, "dismissed")
                sent += 1
        self.service.cache.forget("user-a")
        seen_before = await top1("user-b", replayed)  # B sent nothing: the engine's own answer
        return {
            "events": sent,
            "replayed_cuts": len(replayed),
            "replayed_top1_before": seen_before,
            "replayed_top1_after_a": await top1("user-a", replayed),
            "replayed_top1_b": await top1("user-b", replayed),
            "top1_before_a": before_a,
            "top1_after_a": await top1("user-a"),
            "top1_before_b": before_b,
            "top1_after_b": await top1("user-b"),
        }


async def main() -> int:
    started = time.perf_counter()
    bench = Bench()
    per_language = {}
    for language in ("en", "ja"):
        hits, total = await bench.prefix_match(language)
        keys, chars = await bench.savings(language)
        per_language[language] = {
            "lines": len(lines_of(language)),
            "cuts": total,
            "top3_prefix_match": round(hits / total, 4),
            "keystroke_savings": round(1 - keys / chars, 4),
        }
    learned = await bench.learning()
    print("ghost-text quality on held-out lines (embedded engine)")
    print(f"{'language':<9} {'lines':>6} {'cuts':>6} {'top-3 prefix match':>19} {'keystroke savings':>18}")
    print("-" * 62)
    for language, row in per_language.items():
        print(
            f"{language:<9} {row['lines']:>6} {row['cuts']:>6} {row['top3_prefix_match']:>18.1%} "
            f"{row['keystroke_savings']:>17.1%}"
        )
    print()
    print(f"simulated acceptance (top-1 match), after {learned['events']} events for user A")
    print(f"{'user, cuts':<44} {'before':>8} {'after':>8}")
    rows = [
        ("A, the cuts the feedback came from", "replayed_top1_before", "replayed_top1_after_a"),
        ("B, the same cuts (sent nothing)", "replayed_top1_before", "replayed_top1_b"),
        ("A, the other half (not replayed)", "top1_before_a", "top1_after_a"),
        ("B, the other half", "top1_before_b", "top1_after_b"),
    ]
    for name, before, after in rows:
        print(f"{name:<44} {learned[before]:>8.1%} {learned[after]:>8.1%}")
    goals = {
        language: {
            "prefix_match": row["top3_prefix_match"] >= GOAL_MATCH,
            "savings": row["keystroke_savings"] >= GOAL_SAVINGS,
        }
        for language, row in per_language.items()
    }
    for language, met in goals.items():
        print(
            f"goals {language}: prefix match >= {GOAL_MATCH:.0%} "
            f"{'met' if met['prefix_match'] else 'NOT met'}, "
            f"savings >= {GOAL_SAVINGS:.0%} {'met' if met['savings'] else 'NOT met'}"
        )
    result = {
        "bench": "ghost_quality",
        "languages": per_language,
        "learning": {k: round(v, 4) if isinstance(v, float) else v for k, v in learned.items()},
        "goals_met": goals,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print("JSON " + json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
