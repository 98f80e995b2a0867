"""The rhyme scheme's letters: partners are looked for among the lines just before, so a
stanza of thousands of lines costs thousands of comparisons, not millions."""

from __future__ import annotations

from typing import Any

import pytest

from dawai.core.ghost import rhyme
from dawai.core.ghost.rhyme import PARTNER_WINDOW, line_sound, scheme_letters


def sounds(*lines: str) -> list[rhyme.LineSound]:
    return [line_sound(line, "en", None) for line in lines]


def test_a_line_takes_the_letter_of_the_first_partner_in_the_window():
    assert scheme_letters(sounds("the night", "so bright", "a cat", "a hat")) == "AABB"
    far = sounds("the night", *(f"word{i}x{'q' * i}" for i in range(PARTNER_WINDOW)), "so bright")
    letters = scheme_letters(far)
    assert letters[0] == "A" and letters[-1] not in ("A", "-")  # its partner is too far back


def test_a_long_stanza_compares_each_line_with_the_window_only(monkeypatch: pytest.MonkeyPatch):
    calls = 0
    real = rhyme.rhyme_between

    def counted(a: Any, b: Any) -> float:
        nonlocal calls
        calls += 1
        return real(a, b)

    monkeypatch.setattr(rhyme, "rhyme_between", counted)
    lines = sounds(*(["love"] * 2000))  # the same word twice is no rhyme: every line is new
    scheme_letters(lines)
    assert calls <= len(lines) * PARTNER_WINDOW
