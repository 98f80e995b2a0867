"""The embedded generator: in range, in key, within the bars, the same for the same seed."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.core.generation import STYLES, PartRequest, PartType, key_tones, read_prompt, write_part
from dawai.core.generation.parts import DOWNBEAT_ACCENT, is_passing_tone
from dawai.core.music import GM_DRUMS, all_keys, parse_key, parse_time_signature
from dawai.core.music.drums import drum_note

KEYS = all_keys()
METERS = [parse_time_signature(t) for t in ("4/4", "3/4", "2/4", "5/4", "6/8", "7/8", "9/8", "12/8", "5/8")]
requests = st.builds(
    PartRequest,
    type=st.sampled_from(PartType),
    key=st.sampled_from(KEYS),
    tempo=st.floats(min_value=20, max_value=300, allow_nan=False),
    bars=st.integers(min_value=1, max_value=64),
    seed=st.integers(min_value=0, max_value=2**53 - 1),
    meter=st.sampled_from(METERS),
)
styles = st.sampled_from(sorted(STYLES))
MONOPHONIC = (PartType.BASSLINE, PartType.MELODY)


def assert_part_is_sound(request: PartRequest, style: str) -> None:
    part = write_part(request, STYLES[style])
    notes = part.notes
    assert notes, "a part has notes"
    end = request.bars * request.meter.quarters_per_bar * 60 / request.tempo
    for note in notes:
        assert 0 <= note.pitch <= 127
        assert 1 <= note.velocity <= 127 and isinstance(note.velocity, int)
        assert note.start >= 0 and note.duration > 0
        assert note.start + note.duration <= end + 1e-6
    assert list(notes) == sorted(notes, key=lambda n: (n.start, n.pitch))
    if request.type.is_drums:
        assert all(note.pitch in GM_DRUMS for note in notes)
        return
    allowed = key_tones(request.key)
    if request.type in MONOPHONIC:
        pitches = [note.pitch for note in notes]
        for index, pitch in enumerate(pitches):
            if pitch % 12 in allowed:
                continue
            previous = pitches[index - 1] if index else None
            following = pitches[index + 1] if index + 1 < len(pitches) else None
            assert is_passing_tone(previous, pitch, following, allowed), (index, pitches)
        for a, b in itertools.pairwise(notes):
            assert a.start + a.duration <= b.start + 1e-6, "a line never overlaps itself"
    else:
        assert all(note.pitch % 12 in allowed for note in notes)


@settings(max_examples=150, deadline=None)
@given(request=requests, style=styles)
def test_notes_are_in_range_in_key_and_within_the_bars(request, style):
    assert_part_is_sound(request, style)


@settings(max_examples=50, deadline=None)
@given(request=requests, style=styles)
def test_the_same_seed_gives_the_same_notes(request, style):
    assert write_part(request, STYLES[style]).notes == write_part(request, STYLES[style]).notes


@pytest.mark.parametrize("key", KEYS, ids=str)
@pytest.mark.parametrize("part", PartType)
def test_every_type_in_all_24_keys(key, part):
    for style in STYLES:
        assert_part_is_sound(PartRequest(part, key, 120, 8, 3), style)


def test_modal_keys_stay_in_their_mode():
    for text in ("D dorian", "G mixolydian", "E phrygian", "F lydian", "B locrian"):
        for part in PartType:
            assert_part_is_sound(PartRequest(part, parse_key(text), 100, 4, 11), "pop")


def test_other_seeds_give_other_takes():
    key = parse_key("C")
    takes = {
        write_part(PartRequest(PartType.MELODY, key, 120, 4, seed), STYLES["pop"]).notes for seed in range(8)
    }
    assert len(takes) > 4


def test_parts_with_one_seed_share_one_progression():
    key = parse_key("F#m")
    harmonies = {
        write_part(PartRequest(part, key, 120, 8, 5), STYLES["jpop"]).harmony.symbols for part in PartType
    }
    assert len(harmonies) == 1


def test_minor_keys_use_the_leading_tone_over_the_dominant():
    key = parse_key("A minor")
    found = False
    for seed in range(20):
        part = write_part(PartRequest(PartType.CHORD_PROGRESSION, key, 120, 4, seed), STYLES["pop"])
        found |= any(note.pitch % 12 == 8 for note in part.notes)  # G#
    assert found


def test_chromatic_passing_tones_appear_in_jazz_lines():
    key = parse_key("C")
    outside = 0
    for seed in range(10):
        for part in MONOPHONIC:
            notes = write_part(PartRequest(part, key, 160, 8, seed), STYLES["jazz"]).notes
            outside += sum(note.pitch % 12 not in key_tones(key) for note in notes)
    assert outside > 0


def test_styles_change_the_rhythm():
    key = parse_key("C")
    starts = {
        style: tuple(
            n.start
            for n in write_part(PartRequest(PartType.DRUM_PATTERN, key, 120, 2, 1), STYLES[style]).notes
        )
        for style in STYLES
    }
    assert len(set(starts.values())) == len(STYLES)


def test_swing_moves_the_off_beats():
    key = parse_key("C")
    notes = write_part(PartRequest(PartType.DRUM_PATTERN, key, 120, 1, 1), STYLES["jazz"]).notes
    ride = sorted({round(n.start / 0.5 % 1, 3) for n in notes if n.pitch == 51})
    assert ride == [0.0, 0.667]  # on the beat and two thirds through it


def test_drums_keep_a_backbeat_and_fill_at_phrase_ends():
    key = parse_key("C")
    notes = write_part(PartRequest(PartType.DRUM_PATTERN, key, 120, 4, 2), STYLES["rock"]).notes
    snares = {round(n.start / 0.5) for n in notes if n.pitch == 38 and n.start < 8}
    assert {1, 3, 5, 7, 9, 11} <= snares  # beats 2 and 4 of bars 1-3
    toms = [n for n in notes if n.pitch in (43, 47, 50)]
    assert toms and all(n.start >= 6 for n in toms)  # the fill is in bar 4


@pytest.mark.parametrize(
    ("prompt", "genre", "part", "key", "tempo", "bars"),
    [
        ("funky bassline in Am at 100 bpm, 8 bars", "funk", PartType.BASSLINE, "A minor", 100, 8),
        ("バラードのメロディを8小節、イ短調で", "ballad", PartType.MELODY, "A minor", None, 8),
        ("EDM chords in F# minor", "edm", PartType.CHORD_PROGRESSION, "F# minor", None, None),
        ("a kick and snare groove", "pop", PartType.DRUM_PATTERN, None, None, None),
        ("J-POPのコード Amで", "jpop", PartType.CHORD_PROGRESSION, "A minor", None, None),
        ("jazz walking bass in Bb", "jazz", PartType.BASSLINE, "Bb major", None, None),
        ("ボサノヴァのハーモニー", "bossa", PartType.HARMONY, None, None, None),
        ("hip-hop beat, 90 BPM", "hiphop", PartType.DRUM_PATTERN, None, 90, None),
        ("ロックのドラム 4小節 ホ短調", "rock", PartType.DRUM_PATTERN, "E minor", None, 4),
        ("something nice in Bossa style", "bossa", None, None, None, None),
    ],
)
def test_prompts_are_read_in_english_and_japanese(prompt, genre, part, key, tempo, bars):
    reading = read_prompt(prompt)
    assert reading.style.name == genre
    assert reading.type == part
    assert (reading.key.name if reading.key else None) == key
    assert reading.tempo == tempo and reading.bars == bars


# -- the meter ----------------------------------------------------------------------------


def bar_seconds(request: PartRequest) -> float:
    return request.meter.quarters_per_bar * 60 / request.tempo


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    part=st.sampled_from(PartType),
    key=st.sampled_from(KEYS),
    meter=st.sampled_from(METERS[1:]),
    bars=st.integers(min_value=1, max_value=12),
    seed=st.integers(min_value=0, max_value=2**31),
    style=styles,
)
def test_bars_and_accents_follow_the_meter(part, key, meter, bars, seed, style):
    request = PartRequest(part, key, 120.0, bars, seed, "", meter)
    assert_part_is_sound(request, style)
    notes = write_part(request, STYLES[style]).notes
    assert notes == write_part(request, STYLES[style]).notes
    length = bar_seconds(request)
    starts = [at * 60 / request.tempo for at in meter.group_starts]

    def place(t: float) -> tuple[int, float]:
        bar = int(t / length + 1e-9)
        return bar, t - bar * length

    # Every bar begins with a note on its downbeat (the kick, for drums).
    for bar in range(bars):
        on = [n for n in notes if abs(n.start - bar * length) < 1e-6]
        assert on, (bar, meter)
        if part.is_drums:
            assert any(n.pitch == drum_note("kick") for n in on), (bar, meter)
    if part.is_drums:
        return
    # A downbeat is louder than any note off the meter's group starts (passing tones aside).
    downbeats = [n.velocity for n in notes if place(n.start)[1] < 1e-6]
    off = [n.velocity for n in notes if all(abs(place(n.start)[1] - s) > 1e-6 for s in starts)]
    if downbeats and off:
        assert min(downbeats) >= max(off), (meter, downbeats, off)


def test_a_bar_of_six_eight_is_two_groups_of_three():
    request = PartRequest(PartType.CHORD_PROGRESSION, parse_key("D major"), 90.0, 2, 5, "", METERS[4])
    notes = write_part(request, STYLES["pop"]).notes
    quarter = 60 / 90
    struck = sorted({round(n.start / quarter, 6) for n in notes})
    assert struck[:2] == [0.0, 1.5] and 3.0 in struck  # bar 2 begins three quarters in
    assert all(n.velocity >= 80 + DOWNBEAT_ACCENT - 5 for n in notes if n.start == 0)


def test_a_prompt_is_read_as_far_as_a_prompt_may_reach_after_nfkc():
    # U+FDFA is 18 characters after NFKC: 4,000 of them were 72,000 characters to search.
    assert read_prompt("\ufdfa" * 100 + " in A minor").key == parse_key("A minor")
    assert read_prompt("\ufdfa" * 4000 + " in A minor").key is None
