"""The offline agent (model "local"): what each command, in English and Japanese, turns
into, what it does not understand, and (hypothesis) that its plans always pass the
validator and are the same for the same request."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.core.agent import AgentContext, Dropped, PlanValidator
from dawai.core.agent.offline import OfflinePlan, OfflinePlanner
from dawai.core.agent.offline.reading import split_commands
from dawai.core.music import all_keys
from dawai.core.settings import AgentSettings

PROJECT = {"id": "song-1", "tempo": 120, "key": "C major", "timeSignature": "4/4"}
TRACKS = [
    {
        "id": "t1",
        "name": "Drums",
        "type": "drums",
        "notes": [{"id": "d1", "pitch": 36, "time": 0.03, "duration": 0.2, "velocity": 0.9}],
    },
    {
        "id": "t2",
        "name": "Bass",
        "type": "midi",
        "notes": [
            {"id": "b1", "pitch": 40, "time": 0.0, "duration": 0.5, "velocity": 100},
            {"id": "b2", "pitch": 43, "time": 0.52, "duration": 0.4},
        ],
    },
    {"id": 3, "name": "Lead Vox", "type": "voice"},
]


def context(**changes: Any) -> AgentContext:
    raw = {"project": PROJECT, "tracks": TRACKS, **changes}
    return msgspec.convert(raw, AgentContext)


def plan(
    prompt: str,
    ctx: AgentContext | None = None,
    limits: AgentSettings | None = None,
    current: str | None = None,
) -> OfflinePlan:
    return OfflinePlanner(limits or AgentSettings()).plan(prompt, ctx or context(), current)


def kinds(result: OfflinePlan) -> list[str]:
    return [a["type"] for a in result.actions]


def assert_valid(result: OfflinePlan, ctx: AgentContext, limits: AgentSettings | None = None) -> None:
    """Every action passes a fresh validator unchanged (ids included)."""
    validator = PlanValidator(
        ctx, limits or AgentSettings(), new_id=lambda p: pytest.fail("an id was missing")
    )
    for index, action in enumerate(result.actions):
        checked = validator.check(action, index)
        assert not isinstance(checked, Dropped), checked


# -- project settings -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "params"),
    [
        ("set the tempo to 90", {"tempo": 90.0}),
        ("128 bpm", {"tempo": 128.0}),
        ("テンポを95にして", {"tempo": 95.0}),
        ("change the key to F#m", {"key": "F# minor"}),
        ("set key to a minor", {"key": "A minor"}),
        ("キーをイ短調にして", {"key": "A minor"}),
        ("キーをBbに", {"key": "Bb major"}),
        ("time signature 6/8", {"timeSignature": "6/8"}),
        ("4分の3拍子にして", {"timeSignature": "3/4"}),
        ("set tempo to 100, key to D major and time signature to 3/4", None),
    ],
)
def test_project_settings(prompt: str, params: dict[str, Any] | None) -> None:
    result = plan(prompt)
    assert result.understood and not result.error
    merged: dict[str, Any] = {}
    for action in result.actions:
        assert action["type"] == "updateProject"
        merged.update(action["params"])
    assert merged == (params or {"tempo": 100.0, "key": "D major", "timeSignature": "3/4"})


def test_a_tempo_out_of_range_is_refused_with_a_reason() -> None:
    result = plan("set the tempo to 500")
    assert result.actions == [] and not result.understood
    assert "20-300" in result.error


# -- adding -----------------------------------------------------------------------------


def test_adding_an_empty_track_of_each_type() -> None:
    result = plan("add a drum track, add an audio track and add a vocal track called Choir")
    assert [(a["params"]["trackType"], a["params"]["name"]) for a in result.actions] == [
        ("drums", "Drums"),
        ("audio", "Audio"),
        ("voice", "Choir"),
    ]
    ids = [a["params"]["id"] for a in result.actions]
    assert len(set(ids)) == 3 and not set(ids) & {"t1", "t2", "3"}


def test_an_8_bar_bassline_in_a_minor_is_generated_on_a_new_track() -> None:
    ctx = context()
    result = plan("add an 8-bar bassline in A minor", ctx)
    assert kinds(result) == ["addTrack", "addNotes"]
    track, notes = result.actions
    assert track["params"]["instrument"] == "bass"
    assert notes["params"]["trackId"] == track["params"]["id"]
    body = notes["params"]["notes"]
    assert body and "A minor" in notes["description"]
    assert max(n["time"] + n["duration"] for n in body) <= 8 * 2.0 + 1e-6  # 8 bars at 120 BPM
    assert all(0 <= n["velocity"] <= 1 and n["duration"] > 0 for n in body)
    assert len({n["id"] for n in body}) == len(body)
    assert_valid(result, ctx)


def test_japanese_drums_for_four_bars() -> None:
    result = plan("ドラムを4小節追加して")
    assert kinds(result) == ["addTrack", "addNotes"]
    assert result.actions[0]["params"] == {"id": "track-4", "name": "ドラム", "trackType": "drums"}
    assert max(n["time"] for n in result.actions[1]["params"]["notes"]) < 8.0
    assert "追加しました" in result.summary and "ベース" in result.next_steps


def test_a_jazz_piano_chord_progression() -> None:
    result = plan("add a jazz piano chord progression")
    track, notes = result.actions
    assert track["params"]["instrument"] == "piano"
    assert "jazz" in notes["description"] and "chord progression" in notes["description"]


def test_tempo_set_earlier_in_the_prompt_is_the_one_parts_are_written_at() -> None:
    result = plan("set tempo to 60 and add drums")
    assert kinds(result) == ["updateProject", "addTrack", "addNotes"]
    notes = result.actions[2]["params"]["notes"]
    assert 8.0 < max(n["time"] + n["duration"] for n in notes) <= 16.0  # 4 bars at 60 BPM


def test_a_part_added_to_an_existing_track_starts_after_its_last_note() -> None:
    result = plan("add 4 bars of bass to the bass track")
    assert kinds(result) == ["addNotes"]
    notes = result.actions[0]["params"]["notes"]
    assert result.actions[0]["params"]["trackId"] == "t2"
    assert min(n["time"] for n in notes) >= 2.0  # bar 2 at 120 BPM
    assert not {n["id"] for n in notes} & {"b1", "b2", "d1"}


def test_a_part_can_start_at_a_named_bar() -> None:
    result = plan("add a melody at bar 5")
    assert min(n["time"] for n in result.actions[1]["params"]["notes"]) >= 8.0


def test_a_huge_part_is_split_into_actions_the_limits_allow() -> None:
    limits = AgentSettings(max_notes_per_action=20)
    result = plan("add 8 bars of drums", limits=limits)
    assert kinds(result)[0] == "addTrack" and len(result.actions) > 2
    assert all(len(a["params"]["notes"]) <= 20 for a in result.actions[1:])


# -- note edits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "shift"),
    [
        ("transpose the bass up an octave", 12),
        ("transpose the bass down 3 semitones", -3),
        ("transpose bass by +5", 5),
        ("ベースを半音上げて", 1),
        ("ベースを全音下げて", -2),
        ("ベースを1オクターブ下げて", -12),
        ("transpose the bass to D major", 2),
    ],
)
def test_transpose(prompt: str, shift: int) -> None:
    result = plan(prompt)
    assert kinds(result) == ["updateNotes"]
    assert result.actions[0]["params"]["trackId"] == "t2"
    assert [n["pitch"] for n in result.actions[0]["params"]["notes"]] == [40 + shift, 43 + shift]


def test_transposing_beyond_midi_is_refused() -> None:
    result = plan("transpose the bass up 8 octaves")
    assert result.actions == [] and "0-127" in result.error


def test_the_current_track_is_the_default_target() -> None:
    result = plan("半音上げて", current="t2")
    assert result.actions[0]["params"]["trackId"] == "t2"
    assert "移調しました" in result.summary


def test_a_command_without_a_track_and_no_default_asks_which() -> None:
    result = plan("transpose up 2 semitones")
    assert result.actions == [] and "Which track" in result.error


def test_quantise_to_sixteenths_and_eighths() -> None:
    sixteenth = plan("quantize the drums to 1/16").actions[0]["params"]["notes"][0]
    assert sixteenth["time"] == 0.0 and sixteenth["duration"] == pytest.approx(0.25)
    eighth = plan("ベースを8分でクオンタイズして").actions[0]["params"]["notes"]
    assert [(n["id"], n["time"], n["duration"]) for n in eighth] == [("b2", 0.5, 0.5)]  # b1 is on the grid


@pytest.mark.parametrize(
    ("prompt", "factor"), [("double the bass", 2), ("halve the bass", 0.5), ("ベースを倍速にして", 0.5)]
)
def test_double_and_halve(prompt: str, factor: float) -> None:
    notes = plan(prompt).actions[0]["params"]["notes"]
    assert [n["time"] for n in notes] == [0.0, pytest.approx(0.52 * factor)]
    assert [n["duration"] for n in notes] == [0.5 * factor, pytest.approx(0.4 * factor)]
    assert notes[0]["velocity"] == pytest.approx(100 / 127, abs=1e-4)


# -- mixer, deleting, effects ---------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "params"),
    [
        ("set the volume of the drums to 80", {"trackId": "t1", "volume": 80.0}),
        ("ベースの音量を65%にして", {"trackId": "t2", "volume": 65.0}),
        ("pan the bass left 30", {"trackId": "t2", "pan": -30.0}),
        ("ドラムを右にパンして", {"trackId": "t1", "pan": 50.0}),
        ("pan track 2 to the center", {"trackId": "t2", "pan": 0.0}),
        ("mute the drums", {"trackId": "t1", "muted": True}),
        ("ドラムのミュートを解除して", {"trackId": "t1", "muted": False}),
        ("solo lead vox", {"trackId": "3", "solo": True}),
        ("ボーカルをソロにして", {"trackId": "3", "solo": True}),
        ("unsolo the vocals", {"trackId": "3", "solo": False}),
        ("rename the bass to Sub Bass", {"trackId": "t2", "name": "Sub Bass"}),
    ],
)
def test_track_settings(prompt: str, params: dict[str, Any]) -> None:
    result = plan(prompt)
    assert [a["params"] for a in result.actions] == [params], result.error


def test_several_tracks_share_the_verb() -> None:
    assert [a["params"] for a in plan("mute the drums and the bass").actions] == [
        {"trackId": "t1", "muted": True},
        {"trackId": "t2", "muted": True},
    ]
    assert [a["params"]["trackId"] for a in plan("ドラムとベースをミュートして").actions] == ["t1", "t2"]


def test_delete_a_track_and_its_notes() -> None:
    assert plan("delete the drums").actions == [
        {"type": "deleteTrack", "params": {"trackId": "t1"}, "description": "Delete track Drums"}
    ]
    assert plan("ベーストラックを削除して").actions[0]["params"] == {"trackId": "t2"}
    cleared = plan("clear the bass").actions
    assert cleared[0]["type"] == "deleteNotes" and cleared[0]["params"]["noteIds"] == ["b1", "b2"]


def test_a_deleted_track_cannot_be_used_later_in_the_plan() -> None:
    result = plan("delete the drums and then mute the drums")
    assert kinds(result) == ["deleteTrack"]
    assert "Which track" in result.error


def test_removing_an_effect_is_not_understood_rather_than_added() -> None:
    result = plan("remove the reverb from the bass")
    assert result.actions == [] and "claude-3-sonnet" in result.error


@pytest.mark.parametrize(
    ("prompt", "effect"),
    [
        ("add reverb to the bass", "reverb"),
        ("put a dotted delay on the drums", "delay"),
        ("ベースにコンプをかけて", "compressor"),
        ("ドラムにEQをかけて明るくして", "eq"),
        ("add some chorus to the bass", "chorus"),
        ("ベースを歪ませて", "distortion"),
    ],
)
def test_effects(prompt: str, effect: str) -> None:
    result = plan(prompt)
    assert kinds(result) == ["applyEffect"]
    assert result.actions[0]["params"]["effect"] == effect
    assert result.actions[0]["params"]["settings"]


def test_delay_time_follows_the_tempo_and_mix_a_percentage() -> None:
    settings_ = plan("add 40% delay to the bass").actions[0]["params"]["settings"]
    assert settings_["time"] == 0.5 and settings_["mix"] == 0.4


def test_an_added_track_can_be_referred_to_as_it() -> None:
    result = plan("add a piano track and add reverb to it")
    assert kinds(result) == ["addTrack", "applyEffect"]
    assert result.actions[1]["params"]["trackId"] == result.actions[0]["params"]["id"]


# -- what it does not understand --------------------------------------------------------


@pytest.mark.parametrize("prompt", ["make it sound like Radiohead", "もっとエモくして"])
def test_not_understood_suggests_a_provider_model(prompt: str) -> None:
    result = plan(prompt)
    assert not result.understood and result.actions == []
    assert "claude-3-sonnet" in result.error
    japanese = prompt.startswith("もっと")
    assert ("理解できませんでした" in result.error) == japanese


def test_a_prompt_partly_understood_keeps_what_it_understood() -> None:
    result = plan("set tempo to 90 and make it sound like Radiohead")
    assert result.understood and kinds(result) == ["updateProject"]
    assert "Radiohead" in result.error and "claude-3-sonnet" in result.error


# -- properties -------------------------------------------------------------------------

KEYS = [k.name for k in all_keys()]
JA_KEYS = [k.japanese_name for k in all_keys() if k.japanese_name]
PARTS_EN = ["drums", "bassline", "chord progression", "melody", "harmony", "jazz piano chords", "funky bass"]
PARTS_JA = ["ドラム", "ベース", "コード進行", "メロディ", "ハーモニー"]


@st.composite
def prompts(draw: st.DrawFn) -> str:
    tempo = draw(st.integers(20, 300))
    bars = draw(st.integers(1, 16))
    if draw(st.booleans()):
        key = draw(st.sampled_from(KEYS))
        part = draw(st.sampled_from(PARTS_EN))
        pieces = [
            f"set tempo to {tempo}",
            f"change the key to {key}",
            f"add a {bars}-bar {part} in {key}",
            f"transpose it up {draw(st.integers(0, 12))} semitones",
            f"quantize it to 1/{draw(st.sampled_from([4, 8, 16, 32]))}",
            f"pan it left {draw(st.integers(0, 100))}",
            "double it",
            "mute the drums",
            "add reverb to it",
        ]
        joiner = " and "
    else:
        key = draw(st.sampled_from(JA_KEYS))
        part = draw(st.sampled_from(PARTS_JA))
        pieces = [
            f"テンポを{tempo}にして",
            f"キーを{key}に",
            f"{part}を{bars}小節追加して",
            "それを半音上げて",
            "それを16分でクオンタイズして",
            f"それの音量を{draw(st.integers(0, 100))}に",
            "ドラムをミュートして",
            "それにリバーブをかけて",
        ]
        joiner = "、"
    chosen = draw(st.lists(st.sampled_from(pieces), min_size=1, max_size=5))
    return joiner.join(chosen)


@settings(max_examples=60, deadline=None)
@given(prompt=prompts(), tempo=st.integers(20, 300), signature=st.sampled_from(["4/4", "3/4", "6/8", "7/8"]))
def test_plans_always_pass_the_validator_and_are_deterministic(
    prompt: str, tempo: int, signature: str
) -> None:
    ctx = context(project={**PROJECT, "tempo": tempo, "timeSignature": signature})
    first = plan(prompt, ctx)
    assert first == plan(prompt, ctx)
    assert first.dropped == []
    assert_valid(first, ctx)
    if first.actions:
        assert first.summary
        assert first.understood


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=60))
def test_any_text_gives_a_valid_plan_or_a_reason(prompt: str) -> None:
    ctx = context()
    result = plan(prompt, ctx)
    assert_valid(result, ctx)
    assert result.actions or result.error


def test_all_tracks_becomes_one_command_per_track() -> None:
    assert [a["params"] for a in plan("mute all tracks").actions] == [
        {"trackId": "t1", "muted": True},
        {"trackId": "t2", "muted": True},
        {"trackId": "3", "muted": True},
    ]
    # transposing everything leaves drums (their pitches are instruments) and empty tracks alone
    result = plan("transpose everything up 2")
    assert [a["params"]["trackId"] for a in result.actions] == ["t2"] and not result.error
    assert [a["params"]["trackId"] for a in plan("全トラックにリバーブをかけて").actions] == ["t1", "t2", "3"]


def test_a_command_longer_than_a_sentence_is_refused_and_the_rest_still_done() -> None:
    # One command's patterns cost up to its length squared: 8,000 characters were seconds.
    for filler in (" " * 8000, "名前を" * 2600, "1" * 8000, "ﷺ" * 400):  # ﷺ: 18 characters after NFKC
        result = plan(f"mute the drums, x{filler}x")
        assert [a["params"] for a in result.actions] == [{"trackId": "t1", "muted": True}], filler[:3]
        assert "up to 300 characters" in result.error or "300文字まで" in result.error


def test_a_plan_reads_no_more_commands_than_it_may_hold_actions() -> None:
    limits = AgentSettings(max_actions=4)
    result = plan("mute all tracks, solo all tracks, " + "unmute the bass, " * 500, limits=limits)
    assert kinds(result) == ["updateTrack"] * 3 + ["updateTrack"]
    assert result.dropped == []  # never written, so never dropped
    assert "reads 4 commands a prompt" in result.error and len(result.error) < 1000
    many = plan("x, " * 2000)
    assert many.error.count("did not understand") == 19 and "(+45)" in many.error and len(many.error) < 3000


_OLD_SPLIT = re.compile(
    r"[,;!?\n、。，．！？]+|\.(?!\d)|\s+(?:and\s+then|and\s+also|and|then|also|plus|&)\s+"
    r"|(?:そして|それから|その後|あとは|次に)|(?<=して)(?=\S)|(?<=したら)",
    re.IGNORECASE,
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from([" ", "  ", "\t", "and", "then", "mute", ",", "x", "And", "&", "して"]), max_size=20
    )
)
def test_commands_split_where_they_did_before_the_spaces_were_read_once(words: list[str]) -> None:
    text = " ".join(words)
    old = [part.strip() for part in _OLD_SPLIT.split(text) if part and part.strip()]
    assert split_commands(text) == old
