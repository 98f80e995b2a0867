"""Notes a model wrote: kept when usable, mended where they can be, dropped with a reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.core.errors import UpstreamError
from dawai.core.generation import PartRequest, PartType
from dawai.core.generation.repair import GRID, MAX_MODEL_NOTES, NOTES_SCHEMA, repair_notes
from dawai.core.music import GM_DRUMS, parse_key

A_MINOR = parse_key("A minor")
MELODY = PartRequest(PartType.MELODY, A_MINOR, 120, 2, 0)  # 8 beats, half a second each
DRUMS = PartRequest(PartType.DRUM_PATTERN, A_MINOR, 120, 2, 0)


def note(pitch=69, start=0, length=1, velocity=90):
    return {"pitch": pitch, "startBeat": start, "durationBeats": length, "velocity": velocity}


def reply(*notes, description="A line.", suggestions="Try more."):
    return {"notes": list(notes), "description": description, "suggestions": suggestions}


def test_good_notes_pass_unchanged_in_seconds():
    repaired = repair_notes(reply(note(69, 0, 1, 90), note(72, 1.5, 0.5, 100)), MELODY)
    assert [(n.pitch, n.start, n.duration, n.velocity) for n in repaired.notes] == [
        (69, 0.0, 0.5, 90),
        (72, 0.75, 0.25, 100),
    ]
    assert repaired.changes == ()
    assert (repaired.description, repaired.suggestions) == ("A line.", "Try more.")


def test_out_of_range_values_are_mended_and_said():
    repaired = repair_notes(
        reply(note(130, 0), note(-5, 1), note(69, 2, velocity=0), note(69, 3, velocity=0.5), note(69, 4.01)),
        MELODY,
    )
    assert [n.pitch for n in repaired.notes] == [118, 7, 69, 69, 69]
    assert [n.velocity for n in repaired.notes][2:4] == [1, 64]
    assert repaired.notes[4].start == 2.0
    said = " ".join(repaired.changes)
    assert "2 pitches moved by octaves" in said
    assert "1 velocity clamped" in said and "1 velocity written 0-1 scaled" in said
    assert "1 note quantised" in said


def test_impossible_notes_are_dropped_with_reasons():
    repaired = repair_notes(
        reply(
            note(69, 0, 0),  # no length
            note(69, 0, -1),
            note(69, -2),  # before the part
            note(69, 8),  # after bar 2
            note(400, 1),  # too far out
            {"pitch": "C4", "startBeat": 0, "durationBeats": 1, "velocity": 90},
            "not a note",
            note(69, 1),
            note(69, 1),  # the same again
            note(71, 7, 4),  # runs past the end: cut
        ),
        MELODY,
    )
    assert [(n.pitch, n.start, n.duration) for n in repaired.notes] == [(69, 0.5, 0.5), (71, 3.5, 0.5)]
    said = " ".join(repaired.changes)
    for reason in (
        "2 notes dropped (no length)",
        "1 note dropped (starting before the part)",
        "1 note dropped (starting after bar 2)",
        "too far outside 0-127",
        "2 notes dropped (not a note",
        "same pitch and start",
        "1 note cut at the end of bar 2",
    ):
        assert reason in said, (reason, said)


def test_drums_outside_the_gm_map_are_dropped():
    repaired = repair_notes(reply(note(36, 0), note(20, 1), note(100, 2)), DRUMS)
    assert [n.pitch for n in repaired.notes] == [36]
    assert "2 notes dropped (not a General MIDI drum (35-81))" in repaired.changes


def test_notes_outside_the_key_are_kept_and_counted():
    repaired = repair_notes(reply(note(69, 0), note(70, 1)), MELODY)
    assert len(repaired.notes) == 2
    assert "1 of the notes are outside A minor (kept as written)." in repaired.changes


def test_notes_past_the_cap_are_dropped():
    many = [note(60 + i % 12, (i % 32) / 4, 0.25) for i in range(MAX_MODEL_NOTES + 10)]
    repaired = repair_notes(reply(*many), PartRequest(PartType.MELODY, A_MINOR, 120, 64, 0))
    assert f"10 notes dropped (past the first {MAX_MODEL_NOTES} notes)" in repaired.changes


@pytest.mark.parametrize("value", [None, "prose", [], {"notes": "none"}, {"description": "x"}])
def test_a_reply_without_a_notes_list_is_an_upstream_error(value):
    with pytest.raises(UpstreamError, match="no list of notes"):
        repair_notes(value, MELODY)


def test_a_reply_with_no_usable_note_is_an_upstream_error():
    with pytest.raises(UpstreamError, match="None of the model's notes could be used"):
        repair_notes(reply(note(69, 0, 0)), MELODY)


def _walk(schema, depth=1):
    yield schema, depth
    for child in (schema.get("properties") or {}).values():
        yield from _walk(child, depth + 1)
    if "items" in schema:
        yield from _walk(schema["items"], depth + 1)


def test_the_schema_is_in_the_subset_every_provider_accepts():
    assert NOTES_SCHEMA["type"] == "object"
    for node, depth in _walk(NOTES_SCHEMA):
        assert depth <= 10
        assert not {"oneOf", "default", "discriminator", "$ref"} & set(node)
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert set(node["required"]) == set(node["properties"])


numbers = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
)
junk_notes = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"pitch": numbers, "startBeat": numbers, "durationBeats": numbers, "velocity": numbers}
        ),
        numbers,
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(notes=junk_notes, drums=st.booleans(), bars=st.integers(1, 64), tempo=st.floats(20, 300))
def test_whatever_a_model_writes_what_comes_out_is_valid(notes, drums, bars, tempo):
    request = PartRequest(PartType.DRUM_PATTERN if drums else PartType.MELODY, A_MINOR, tempo, bars, 0)
    try:
        repaired = repair_notes({"notes": notes}, request)
    except UpstreamError:
        return
    end = bars * 4 * 60 / tempo
    for out in repaired.notes:
        assert 0 <= out.pitch <= 127 and 1 <= out.velocity <= 127
        assert out.start >= 0 and out.duration > 0 and out.start + out.duration <= end + 1e-6
        assert (out.start / (60 / tempo)) / GRID == pytest.approx(
            round((out.start / (60 / tempo)) / GRID), abs=1e-3
        )
        if drums:
            assert out.pitch in GM_DRUMS
