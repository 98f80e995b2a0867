"""The General MIDI Level 1 percussion map."""

from __future__ import annotations

import pytest

from dawai.core.music import GM_DRUM_CHANNEL, GM_DRUMS, MusicParseError, drum_name, drum_note


def test_the_map_covers_notes_35_to_81_once_each():
    assert sorted(GM_DRUMS) == list(range(35, 82))
    assert len(set(GM_DRUMS.values())) == 47
    assert GM_DRUM_CHANNEL == 9  # channel 10 counted from one


@pytest.mark.parametrize(
    ("note", "name"),
    [(35, "Acoustic Bass Drum"), (36, "Bass Drum 1"), (38, "Acoustic Snare"), (42, "Closed Hi-Hat"),
     (46, "Open Hi-Hat"), (49, "Crash Cymbal 1"), (51, "Ride Cymbal 1"), (56, "Cowbell"),
     (70, "Maracas"), (81, "Open Triangle")],
)  # fmt: skip
def test_gm_names(note, name):
    assert drum_name(note) == name and drum_note(name) == note


def test_every_gm_name_reads_back_in_any_case():
    for note, name in GM_DRUMS.items():
        assert drum_note(name.upper()) == note and drum_note(name.replace("-", " ")) == note


@pytest.mark.parametrize(
    ("name", "note"),
    [("kick", 36), ("snare", 38), ("hi-hat", 42), ("hihat", 42), ("open hat", 46), ("crash", 49),
     ("ride", 51), ("rim", 37), ("clap", 39), ("floor tom", 43), ("high tom", 50), ("キック", 36),
     ("スネア", 38), ("ハイハット", 42), ("クラッシュ", 49), ("タム", 45)],
)  # fmt: skip
def test_the_names_drummers_use(name, note):
    assert drum_note(name) == note


def test_unknown_drums():
    with pytest.raises(MusicParseError) as error:
        drum_note("didgeridoo")
    assert "'didgeridoo'" in error.value.detail
    with pytest.raises(ValueError):
        drum_name(34)
