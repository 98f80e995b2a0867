"""``SlotCounter``: against a model of its counts, for any order of takes and give-backs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.adapters.http.concurrency import SlotCounter, slot_counters
from dawai.adapters.http.route_set import Slot
from dawai.core.settings import LimitSettings

CLIENTS = ("ip:192.0.2.1", "ip:192.0.2.2", "t:alice", "t:bob")
steps = st.lists(st.tuples(st.booleans(), st.sampled_from(CLIENTS)), max_size=80)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(total=st.integers(0, 6), per_client=st.integers(0, 4), steps=steps)
def test_counts_follow_the_model_and_never_pass_a_cap(total, per_client, steps):
    counter = SlotCounter("streams", total, per_client)
    held = dict.fromkeys(CLIENTS, 0)
    for take, client in steps:
        if take:
            fits = (not total or sum(held.values()) < total) and (not per_client or held[client] < per_client)
            assert counter.try_acquire(client) is fits
            held[client] += fits
        elif held[client]:  # only a slot that was taken is given back
            counter.release(client)
            held[client] -= 1
        assert counter.in_use == sum(held.values())
        assert all(counter.held_by(c) == n for c, n in held.items())
        # Only clients holding a slot are kept: memory is bounded by the caps.
        assert counter.clients == sum(1 for n in held.values() if n)
        assert not total or counter.in_use <= total
        assert not per_client or max(held.values()) <= per_client


def test_refusal_names_the_cap_that_was_met():
    counter = SlotCounter("renders", 2, 1)
    assert counter.try_acquire("a") and not counter.try_acquire("a")
    assert "limits.renders_per_client" in counter.refusal()
    assert counter.try_acquire("b") and not counter.try_acquire("c")
    assert "limits.renders)" in counter.refusal()


def test_a_kind_without_caps_has_no_counter():
    counters = slot_counters(LimitSettings(streams=0, streams_per_client=0))
    assert Slot.STREAM not in counters and Slot.RENDER in counters
