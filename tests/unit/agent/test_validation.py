"""The Act stage's validator: what it keeps, what it drops and why, and (hypothesis) that
nothing it keeps breaks a rule, whatever the model wrote."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.core.agent import ACTION_TYPES, AgentContext, Dropped, PlanValidator, describe_dropped, to_wire
from dawai.core.music import parse_key
from dawai.core.settings import AgentSettings

CONTEXT = msgspec.convert(
    {
        "project": {"id": "p1", "tempo": 120, "timeSignature": "4/4"},
        "tracks": [
            {"id": "t1", "name": "Piano", "type": "midi", "notes": [{"id": "n1"}, {"id": "n2"}]},
            {"id": 7, "name": "Loop", "type": "audio"},
        ],
    },
    AgentContext,
)


def ids() -> Any:
    counters: dict[str, itertools.count[int]] = {}
    return lambda prefix: f"{prefix}-{next(counters.setdefault(prefix, itertools.count(1)))}"


def validator(limits: AgentSettings | None = None) -> PlanValidator:
    return PlanValidator(CONTEXT, limits or AgentSettings(), new_id=ids())


def note(**fields: Any) -> dict[str, Any]:
    return {"pitch": 60, "time": 0.0, "duration": 0.5, "velocity": 0.8, **fields}


def check(*actions: Any, limits: AgentSettings | None = None) -> list[Any]:
    v = validator(limits)
    return [v.check(a, i) for i, a in enumerate(actions)]


def test_a_track_added_earlier_in_the_plan_can_be_used_and_gets_an_id():
    added, notes = check(
        {"type": "addTrack", "params": {"name": "Bass", "trackType": "midi"}, "description": "bass"},
        {"type": "addNotes", "params": {"trackId": "track-1", "notes": [note(), note(time=0.5)]}},
    )
    assert to_wire(added) == {
        "type": "addTrack",
        "params": {"name": "Bass", "trackType": "midi", "id": "track-1"},
        "description": "bass",
    }
    assert [n["id"] for n in to_wire(notes)["params"]["notes"]] == ["note-1", "note-2"]


def test_the_models_track_id_is_kept_when_free_and_refused_when_taken():
    ok, taken = check(
        {"type": "addTrack", "params": {"name": "Bass", "trackType": "midi", "id": "bass"}},
        {"type": "addTrack", "params": {"name": "Again", "trackType": "midi", "id": "t1"}},
    )
    assert to_wire(ok)["params"]["id"] == "bass"
    assert isinstance(taken, Dropped) and "already used" in taken.reason


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ({"type": "explode", "params": {}}, "unknown action type 'explode'"),
        ("addTrack", "must be an object"),
        ({"type": "addTrack", "params": {"name": "X", "trackType": "synth"}}, "params.trackType"),
        (
            {"type": "updateTrack", "params": {"trackId": "t1", "volume": 101}},
            "params.volume: Expected `float` <= 100",
        ),
        ({"type": "updateTrack", "params": {"trackId": "t1", "pan": -101}}, "params.pan"),
        ({"type": "updateTrack", "params": {"trackId": "t1"}}, "changes nothing"),
        ({"type": "updateTrack", "params": {"trackId": "nope", "muted": True}}, "unknown track 'nope'"),
        ({"type": "deleteTrack", "params": {}}, "missing required field `trackId`"),
        ({"type": "addNotes", "params": {"trackId": "t1", "notes": [note(pitch=128)]}}, "notes[0].pitch"),
        ({"type": "addNotes", "params": {"trackId": "t1", "notes": [note(time=-1)]}}, "notes[0].time"),
        ({"type": "addNotes", "params": {"trackId": "t1", "notes": [note(duration=0)]}}, "notes[0].duration"),
        (
            {"type": "addNotes", "params": {"trackId": "t1", "notes": [note(velocity=1.5)]}},
            "notes[0].velocity",
        ),
        ({"type": "addNotes", "params": {"trackId": "t1", "notes": [note(pitch="C4")]}}, "notes[0].pitch"),
        ({"type": "addNotes", "params": {"trackId": "t1", "notes": []}}, "empty"),
        ({"type": "addNotes", "params": {"trackId": "t1", "notes": [note(id="n1")]}}, "already used"),
        ({"type": "addNotes", "params": {"trackId": "7", "notes": [note()]}}, "audio track"),
        ({"type": "updateNotes", "params": {"trackId": "t1", "notes": [note(id="zz")]}}, "no note 'zz'"),
        ({"type": "updateNotes", "params": {"trackId": "t1", "notes": [note()]}}, "has no id"),
        ({"type": "deleteNotes", "params": {"trackId": "t1", "noteIds": ["n1", "n1"]}}, "twice"),
        ({"type": "deleteNotes", "params": {"trackId": "t1", "noteIds": ["n9"]}}, "no note 'n9'"),
        ({"type": "applyEffect", "params": {"trackId": "t1", "effect": "flanger"}}, "params.effect"),
        ({"type": "updateProject", "params": {"tempo": 301}}, "params.tempo"),
        ({"type": "updateProject", "params": {"tempo": 19.9}}, "params.tempo"),
        ({"type": "updateProject", "params": {"key": "H major"}}, "is not a key"),
        ({"type": "updateProject", "params": {"timeSignature": "4/3"}}, "timeSignature '4/3'"),
        ({"type": "updateProject", "params": {"timeSignature": "four"}}, "not like '4/4'"),
        ({"type": "updateProject", "params": {}}, "changes nothing"),
    ],
)
def test_an_invalid_action_is_dropped_with_its_reason(action, reason):
    (result,) = check(action)
    assert isinstance(result, Dropped), result
    assert reason in result.reason


def test_values_come_back_in_the_contracts_form():
    project, effect, flat = check(
        {"type": "updateProject", "params": {"key": "f#m", "timeSignature": " 6 / 8 ", "tempo": 90}},
        {
            "type": "applyEffect",
            "params": {"trackId": "t1", "effect": "delay", "settings": {"feedback": 0.4}},
        },
        {"type": "updateTrack", "trackId": 7, "solo": True},  # params written flat, a numeric id
    )
    assert to_wire(project)["params"] == {"tempo": 90.0, "key": "F# minor", "timeSignature": "6/8"}
    assert to_wire(effect)["params"] == {"trackId": "t1", "effect": "delay", "settings": {"feedback": 0.4}}
    assert isinstance(flat, Dropped)  # a number is not a track id string: dropped, not guessed


def test_a_deleted_track_and_its_notes_are_gone_for_later_actions():
    _, update, notes = check(
        {"type": "deleteTrack", "params": {"trackId": "t1"}},
        {"type": "updateTrack", "params": {"trackId": "t1", "muted": True}},
        {"type": "addTrack", "params": {"name": "Again", "trackType": "midi", "id": "t1"}},
    )
    assert isinstance(update, Dropped) and "deleted earlier" in update.reason
    assert isinstance(notes, Dropped) and "already used" in notes.reason


def test_limits_on_actions_and_notes():
    limits = AgentSettings(max_actions=2, max_notes_per_action=3, max_plan_notes=4)
    results = check(
        {"type": "addNotes", "params": {"trackId": "t1", "notes": [note(), note(), note(), note()]}},
        {"type": "addNotes", "params": {"trackId": "t1", "notes": [note(), note(), note()]}},
        {"type": "addNotes", "params": {"trackId": "t1", "notes": [note(), note()]}},
        {"type": "updateTrack", "params": {"trackId": "t1", "muted": True}},
        {"type": "updateTrack", "params": {"trackId": "t1", "solo": True}},
        limits=limits,
    )
    assert "one action may carry 3" in results[0].reason
    assert not isinstance(results[1], Dropped)
    assert "more than 4 notes" in results[2].reason
    assert not isinstance(results[3], Dropped)
    assert "more than 2 actions" in results[4].reason
    error = describe_dropped([r for r in results if isinstance(r, Dropped)], len(results))
    assert error.startswith("Dropped 3 of 5 actions: action 1 (addNotes):")


# --- property: nothing invalid gets through -------------------------------------------

TRACK_IDS = ["t1", "7", "x", "track-1", "track-2", "bass"]
NOTE_IDS = ["n1", "n2", "n3", "note-1", None]
numbers = st.one_of(
    st.integers(-300, 400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, 127, 128]),
)
anything = st.one_of(numbers, st.text(max_size=6), st.booleans(), st.none())
notes = st.lists(
    st.fixed_dictionaries(
        {
            "pitch": st.one_of(st.integers(-5, 135), anything),
            "time": numbers,
            "duration": numbers,
            "velocity": numbers,
        },
        optional={"id": st.sampled_from(NOTE_IDS)},
    ),
    max_size=5,
)
params = st.fixed_dictionaries(
    {},
    optional={
        "trackId": st.one_of(st.sampled_from(TRACK_IDS), anything),
        "name": st.one_of(st.text(max_size=5), anything),
        "trackType": st.sampled_from(["midi", "drums", "audio", "voice", "synth"]),
        "id": st.sampled_from([*TRACK_IDS, None]),
        "volume": numbers,
        "pan": numbers,
        "muted": anything,
        "solo": st.booleans(),
        "notes": notes,
        "noteIds": st.lists(st.sampled_from([i for i in NOTE_IDS if i]), max_size=3),
        "effect": st.sampled_from(["reverb", "delay", "eq", "flanger"]),
        "settings": st.dictionaries(st.sampled_from(["mix", "decay", "9bad"]), numbers, max_size=2),
        "tempo": numbers,
        "key": st.sampled_from(["A minor", "F#m", "ハ長調", "H", "", "Bb"]),
        "timeSignature": st.sampled_from(["4/4", "6/8", "7/3", "0/4", "x"]),
    },
)
actions = st.fixed_dictionaries(
    {
        "type": st.sampled_from([*ACTION_TYPES, "bogus"]),
        "params": params,
    },
    optional={"description": st.one_of(st.text(max_size=10), st.integers())},
)


class Oracle:
    """The contract's rules written again, plainly, to judge what the validator kept."""

    def __init__(self) -> None:
        self.tracks = {"t1": ("midi", {"n1", "n2"}), "7": ("audio", set())}
        self.used = set(self.tracks)

    def judge(self, action: dict[str, Any]) -> None:
        kind, p = action["type"], action["params"]
        assert isinstance(action["description"], str)
        in_range = lambda v, lo, hi: isinstance(v, int | float) and not isinstance(v, bool) and lo <= v <= hi  # noqa: E731
        if kind == "addTrack":
            assert (
                p["trackType"] in ("midi", "drums", "audio", "voice")
                and isinstance(p["name"], str)
                and p["name"]
            )
            assert p["id"] not in self.used
            self.used.add(p["id"])
            self.tracks[p["id"]] = (p["trackType"], set())
            return
        if kind == "updateProject":
            assert p, "changes something"
            if "tempo" in p:
                assert in_range(p["tempo"], 20, 300)
            if "key" in p:
                assert parse_key(p["key"]).name == p["key"]
            if "timeSignature" in p:
                top, bottom = map(int, p["timeSignature"].split("/"))
                assert 1 <= top <= 32 and bottom in (1, 2, 4, 8, 16, 32)
            return
        assert p["trackId"] in self.tracks, p
        track_type, note_ids = self.tracks[p["trackId"]]
        if kind == "deleteTrack":
            del self.tracks[p["trackId"]]
        elif kind == "updateTrack":
            assert set(p) - {"trackId"}
            assert "volume" not in p or in_range(p["volume"], 0, 100)
            assert "pan" not in p or in_range(p["pan"], -100, 100)
            assert all(isinstance(p[k], bool) for k in ("muted", "solo") if k in p)
        elif kind in ("addNotes", "updateNotes"):
            assert p["notes"]
            for n in p["notes"]:
                assert isinstance(n["pitch"], int) and 0 <= n["pitch"] <= 127
                assert in_range(n["time"], 0, 36_000) and math.isfinite(n["time"])
                assert in_range(n["duration"], 0, 3600) and n["duration"] > 0
                assert in_range(n["velocity"], 0, 1)
                assert isinstance(n["id"], str)
            ids = [n["id"] for n in p["notes"]]
            assert len(set(ids)) == len(ids)
            if kind == "addNotes":
                assert track_type != "audio"
                every = set().union(*(t[1] for t in self.tracks.values()))
                assert not set(ids) & every
                note_ids.update(ids)
            else:
                assert set(ids) <= note_ids
        elif kind == "deleteNotes":
            assert (
                p["noteIds"] and set(p["noteIds"]) <= note_ids and len(set(p["noteIds"])) == len(p["noteIds"])
            )
            note_ids.difference_update(p["noteIds"])
        else:
            assert kind == "applyEffect"
            assert p["effect"] in ("reverb", "delay", "eq", "compressor", "chorus", "distortion")
            assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,31}", k) for k in p["settings"])


@settings(max_examples=400, deadline=None)
@given(st.lists(actions, max_size=8))
def test_nothing_invalid_gets_through(plan):
    v = validator(AgentSettings(max_actions=5, max_notes_per_action=4, max_plan_notes=10))
    oracle = Oracle()
    kept = 0
    for index, raw in enumerate(plan):
        result = v.check(raw, index)
        if isinstance(result, Dropped):
            assert result.reason and result.index == index
            continue
        kept += 1
        oracle.judge(msgspec.json.decode(msgspec.json.encode(to_wire(result))))
    assert kept <= 5


def test_a_dropped_actions_reason_does_not_quote_a_huge_value_whole():
    # msgspec quotes a bad enum value in full: a model's 100,000-character trackType.
    (result,) = check({"type": "addTrack", "params": {"name": "x", "trackType": "z" * 100_000}})
    assert isinstance(result, Dropped)
    assert result.reason.startswith("params.trackType: Invalid enum value 'zzz") and len(result.reason) < 250
