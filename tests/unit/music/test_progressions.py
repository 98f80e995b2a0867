"""The named progressions: real, distinct, tagged, and spelled in every key."""

from __future__ import annotations

import pytest

from dawai.core.music import (
    PROGRESSIONS,
    Mode,
    MusicParseError,
    all_keys,
    find_progression,
    parse_key,
    parse_progression,
    progressions_for,
)
from dawai.core.music.progressions import GENRES, SECTIONS, Progression

Shape = tuple[tuple[int, frozenset[int], float], ...]


def _shape(progression: Progression) -> Shape:
    """The progression with the key taken out: each chord as its root's distance from the first
    chord's root and its pitch classes relative to that, with its length; repeated chords merged."""
    merged: list[tuple[frozenset[int], int, float]] = []
    for chord, length in progression.timed(parse_key("C")):
        if merged and merged[-1][0] == chord.pitch_classes and merged[-1][1] == chord.root.pc:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + length)
        else:
            merged.append((chord.pitch_classes, chord.root.pc, length))
    first = merged[0][1]
    return tuple(
        ((root - first) % 12, frozenset((pc - first) % 12 for pc in classes), length)
        for classes, root, length in merged
    )


def _rotations(shape: Shape) -> set[Shape]:
    found = set()
    for start in range(len(shape)):
        rotated = shape[start:] + shape[:start]
        first = rotated[0][0]
        found.add(
            tuple(
                ((root - first) % 12, frozenset((pc - first) % 12 for pc in classes), length)
                for root, classes, length in rotated
            )
        )
    return found


def test_no_two_progressions_are_the_same_in_another_key():
    shapes = [_shape(progression) for progression in PROGRESSIONS]
    assert len(set(shapes)) == len(shapes)


# Loops that are rotations of each other but that musicians name apart, because where the
# phrase starts is the point: 小室進行 is the '50s loop begun on vi.
SAME_LOOP_NAMED_APART = {frozenset({"fifties", "komuro"})}


def test_no_loop_is_a_rotation_of_another():
    loops = [progression for progression in PROGRESSIONS if progression.loops]
    rotated = set()
    for index, a in enumerate(loops):
        for b in loops[index + 1 :]:
            if _shape(b) in _rotations(_shape(a)):
                rotated.add(frozenset({a.id, b.id}))
    assert rotated == SAME_LOOP_NAMED_APART


def test_ids_and_names_are_unique_and_tags_known():
    assert len({p.id for p in PROGRESSIONS}) == len(PROGRESSIONS)
    assert len({p.name for p in PROGRESSIONS}) == len(PROGRESSIONS)
    japanese = [p.name_ja for p in PROGRESSIONS if p.name_ja]
    assert len(set(japanese)) == len(japanese)
    for progression in PROGRESSIONS:
        assert progression.genres and progression.genres <= GENRES, progression.id
        assert progression.sections and progression.sections <= SECTIONS, progression.id
        assert 0 < progression.weight <= 1 and progression.bars > 0


@pytest.mark.parametrize(
    ("name", "numerals"),
    [("王道進行", "IVmaj7 V7 iii7 vi"), ("小室進行", "vi IV V I"), ("カノン進行", "I V vi iii IV I IV V"),
     ("丸サ進行", "IVmaj7 III7 vi7 v7 I7"), ("Just the Two of Us", "IVmaj7 III7 vi7 v7 I7"),
     ("ii-V-I", "ii7 V7 Imaj7"), ("12-bar blues", "I7 IV7 I7 V7 IV7 I7 V7"),
     ("Andalusian cadence", "i bVII bVI V"), ("axis", "I V vi IV"), ("循環コード", "Imaj7 vi7 ii7 V7")],
)  # fmt: skip
def test_the_well_known_ones_are_there(name, numerals):
    progression = find_progression(name)
    assert progression is not None
    assert " ".join(progression.numerals) == numerals


def test_the_twelve_bar_blues_is_twelve_bars():
    blues = find_progression("twelve_bar_blues")
    assert blues is not None and blues.bars == 12
    assert [str(chord) for chord in blues.chords(parse_key("A"))] == [
        "A7",
        "D7",
        "A7",
        "E7",
        "D7",
        "A7",
        "E7",
    ]


@pytest.mark.parametrize("key", all_keys(), ids=str)
def test_every_progression_is_spelled_in_every_key(key):
    for progression in PROGRESSIONS:
        chords = progression.chords(key)
        assert len(chords) == len(progression.steps)
        assert chords[0].pitch_classes == frozenset(
            (pc + key.pitch_class) % 12 for pc in progression.chords(parse_key("C"))[0].pitch_classes
        )


def test_progressions_in_their_own_mode_start_or_end_at_home():
    """A loop or a cadence in its mode returns to (or starts from) the tonic chord, apart from
    the ones whose point is to avoid it, each named here."""
    away = {"royal_road", "deceptive_cadence"}
    for progression in PROGRESSIONS:
        key = parse_key("C " + progression.mode.value)
        roots = [chord.root.pc for chord in progression.chords(key)]
        assert (0 in (roots[0], roots[-1])) != (progression.id in away), progression.id


def test_choosing_by_context():
    jpop = progressions_for(genre="jpop")
    assert jpop[0].id == "royal_road" and all("jpop" in p.genres for p in jpop)
    endings = progressions_for(section="ending", mode=Mode.MAJOR)
    assert endings and all("ending" in p.sections and p.mode is Mode.MAJOR for p in endings)
    assert [p.weight for p in endings] == sorted((p.weight for p in endings), reverse=True)
    assert progressions_for(genre="polka") == ()


@pytest.mark.parametrize(
    "text", ["I–V–vi–IV", "I-V-vi-IV", "I V vi IV", "I | V | vi | IV", "I, V, vi, IV", "I→V→vi→IV"]
)
def test_progressions_are_read_with_any_separator(text):
    assert [str(n) for n in parse_progression(text)] == ["I", "V", "vi", "IV"]


def test_a_progression_that_cannot_be_read_names_the_text():
    with pytest.raises(MusicParseError):
        parse_progression("")
    with pytest.raises(MusicParseError) as error:
        parse_progression("I V H")
    assert "'H'" in error.value.detail
