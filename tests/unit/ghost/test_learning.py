"""Learning from feedback: decayed counts, smoothed acceptance, the boost (dawai.core.ghost.learning)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.ghost.learning import (
    PRIOR,
    acceptance,
    accepted_phrase,
    boost,
    candidate_features,
    context_key,
    decay,
    infer_kind,
    rescore,
    updated,
)
from dawai.core.models import FeatureStats, FeedbackEvent

DAY = 86400.0
kinds = st.sampled_from(["shown", "accepted", "dismissed"])
events = st.lists(st.tuples(kinds, st.floats(0, 100 * DAY)), max_size=30)


def replay(items, half_life=14 * DAY):
    stats = None
    for kind, at in sorted(items, key=lambda item: item[1]):
        stats = updated(stats, FeedbackEvent(kind, ("f",), at), half_life)
    return stats


@given(events)
def test_counts_never_exceed_the_events(items):
    stats = replay(items)
    if stats is None:
        return
    assert stats.accepted <= sum(1 for kind, _ in items if kind == "accepted") + 1e-9
    assert stats.dismissed <= sum(1 for kind, _ in items if kind == "dismissed") + 1e-9
    assert min(stats.accepted, stats.dismissed, stats.shown) >= 0


@given(events, st.floats(0, 1000 * DAY))
def test_acceptance_stays_in_the_unit_interval_and_drifts_to_the_prior(items, later):
    stats = replay(items)
    if stats is None:
        return
    now = stats.updated + later
    value = acceptance(stats, now)
    assert 0 < value < 1
    assert abs(acceptance(stats, now + 3650 * DAY) - PRIOR) <= abs(value - PRIOR) + 1e-9


def test_half_life_halves_the_counts():
    stats = FeatureStats(4.0, 2.0, 8.0, 0.0)
    assert decay(stats, 14 * DAY) == FeatureStats(2.0, 1.0, 4.0, 14 * DAY)


@given(st.integers(0, 50), st.integers(0, 50))
def test_more_accepts_raise_acceptance_and_more_dismissals_lower_it(accepts, dismissals):
    base = FeatureStats(accepts, dismissals, 0, 0)
    assert acceptance(FeatureStats(accepts + 1, dismissals, 0, 0), 0) > acceptance(base, 0)
    assert acceptance(FeatureStats(accepts, dismissals + 1, 0, 0), 0) < acceptance(base, 0)


@given(
    st.dictionaries(
        st.sampled_from("abcd"),
        st.builds(FeatureStats, st.floats(0, 50), st.floats(0, 50), st.just(0.0), st.just(0.0)),
    )
)
def test_boost_is_bounded_and_one_for_the_unknown(known):
    value = boost(["a", "b", "z"], known, 0)
    assert 0.5 <= value <= 2.5
    assert boost(["z"], known, 0) == 1.0


def test_features_hash_the_text_with_the_salt():
    plain = candidate_features("city lights", "phrase")
    salted = candidate_features("city lights", "phrase", salt="deploy-1")
    assert "kind:phrase" in plain and "kind:phrase:words:2" in plain
    assert not any("city" in feature or "lights" in feature for feature in plain)
    assert plain != salted and plain[:2] == salted[:2]
    assert candidate_features(" City  Lights ", "phrase") == plain  # spacing and case folded


@pytest.mark.parametrize(
    ("candidate", "kind"),
    [("Am", "chord"), ("G | C |", "chord"), ("city lights", "phrase"), ("ty", "lyric"), ("I", "lyric")],
)
def test_kind_inferred(candidate, kind):
    assert infer_kind(candidate) == kind


def test_accepted_phrase_finishes_the_word():
    assert accepted_phrase("I walk through the ci", "ty lights") == "city lights"
    assert accepted_phrase("line one\nC G ", "Am") == "Am"
    assert accepted_phrase("夜空に光る", "星を見上げて") == "夜空に光る星を見上げて"


def test_an_accepted_text_outranks_what_the_corpus_prefers():
    text = candidate_features("bridge", "lyric", context="the")
    other = candidate_features("neon", "lyric", context="the")
    # six accepts of "bridge", six dismissals of "neon" after "the": the kind features saw both
    known = {f: FeatureStats(6, 6, 0, 0) for f in text[:2]}
    known |= {f: FeatureStats(6, 0, 0, 0) for f in text[2:]} | {
        f: FeatureStats(0, 6, 0, 0) for f in other[2:]
    }
    assert rescore(0.01, text, known, 0) > rescore(0.5, other, known, 0)
    elsewhere = candidate_features("bridge", "lyric", context="a")
    assert rescore(0.01, elsewhere, known, 0) < rescore(
        0.5, candidate_features("neon", "lyric", context="a"), known, 0
    )
    assert rescore(0.5, candidate_features("unseen", "chord"), known, 0) == 0.5


@pytest.mark.parametrize(
    ("before", "key"),
    [
        ("I walk through the ci", "the"),
        ("I walk through the ", "the"),
        ("one\ntwo", ""),
        ("", ""),
        ("夜空に光る", "光る"),
        ("Hold ME", "hold"),
    ],
)
def test_context_key(before, key):
    assert context_key(before) == key
