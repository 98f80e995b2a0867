"""The typed-ahead cache (dawai.core.ghost.typeahead)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.ghost.typeahead import TypeaheadCache
from dawai.core.models import CompletionCandidate

SHOWN = [CompletionCandidate("city lights", 0.5, "phrase"), CompletionCandidate("cold", 0.3, "lyric")]


def test_typing_the_start_of_a_candidate_gives_the_rest():
    cache = TypeaheadCache()
    cache.put("scope", "through the ", "", SHOWN)
    assert cache.get("scope", "through the c", "") == [
        CompletionCandidate("ity lights", 0.5, "phrase"),
        CompletionCandidate("old", 0.3, "lyric"),
    ]
    assert cache.get("scope", "through the cit", "") == [CompletionCandidate("y lights", 0.5, "phrase")]
    assert cache.hits == 2


@pytest.mark.parametrize(
    ("before", "after", "scope"),
    [
        ("through the x", "", "scope"),
        ("through the c", "!", "scope"),
        ("through the c", "", "other"),
        ("through the city lights", "", "scope"),
    ],
)
def test_anything_else_is_a_miss(before, after, scope):
    cache = TypeaheadCache()
    cache.put("scope", "through the ", "", SHOWN)
    assert cache.get(scope, before, after) is None


@given(st.integers(1, 20), st.integers(1, 60))
def test_bounded(size, puts):
    cache = TypeaheadCache(size)
    for index in range(puts):
        cache.put("s", f"line {index}", "", SHOWN)
    assert len(cache) == min(size, puts)


def test_forgetting_a_user_drops_their_answers():
    cache = TypeaheadCache()
    cache.put(("u1", "en"), "a ", "", SHOWN)
    cache.put(("u2", "en"), "a ", "", SHOWN)
    cache.forget("u1")
    assert cache.get(("u1", "en"), "a c", "") is None
    assert cache.get(("u2", "en"), "a c", "") is not None


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        TypeaheadCache(0)
