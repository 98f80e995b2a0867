"""The ranker that merges engines' candidates (dawai.core.ghost.ranker)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dawai.core.ghost.ranker import rank
from dawai.core.models import CompletionCandidate

candidates = st.builds(
    CompletionCandidate,
    st.text(alphabet="ab \n", max_size=4),
    st.floats(min_value=0, max_value=2, allow_nan=False),
    st.sampled_from(["lyric", "chord", "term", "phrase"]),
)
groups = st.lists(st.lists(candidates, max_size=8), max_size=4)


@given(groups, st.integers(0, 6), st.floats(min_value=0, max_value=3, allow_nan=False))
def test_ranked_is_bounded_unique_sorted_and_from_the_input(found, limit, factor):
    ranked = rank(found, limit, lambda c: c.score * factor)
    texts = [c.text for c in ranked]
    assert len(ranked) <= limit
    assert len(set(texts)) == len(texts)
    assert all(c.text.strip() and "\n" not in c.text for c in ranked)
    assert all(0.0 <= c.score <= 1.0 for c in ranked)
    assert [c.score for c in ranked] == sorted((c.score for c in ranked), reverse=True)
    given_texts = {c.text for group in found for c in group}
    assert set(texts) <= given_texts


@given(groups)
def test_the_best_copy_of_a_text_is_kept(found):
    ranked = {c.text: c.score for c in rank(found, 100)}
    for group in found:
        for c in group:
            if c.text in ranked:
                assert ranked[c.text] >= round(min(c.score, 1.0), 4)


def test_boost_reorders():
    a, b = CompletionCandidate("a", 0.5, "lyric"), CompletionCandidate("b", 0.4, "lyric")
    assert [c.text for c in rank([[a, b]], 2)] == ["a", "b"]
    assert [c.text for c in rank([[a, b]], 2, lambda c: c.score * (2.0 if c.text == "b" else 1.0))] == [
        "b",
        "a",
    ]
