"""MIDI files with lyric events read as a score: what mido writes comes back as the notes
and lyrics it holds (hypothesis: any tempo, resolution and monophonic line), tempo changes
on the conductor track, Shift-JIS and UTF-8 lyrics, karaoke marks, overlapping notes cut,
and files that are no score refused."""

from __future__ import annotations

import io

import mido
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.adapters.midi_score import MidiScoreError, lyric_text, read_midi_score

LYRICS = ("さ", "く", "ら", "la", "love", "ka", "の", "ー", "+")


def encoded(text: str, charset: str = "utf-8") -> str:
    """The text as mido hands a meta event's bytes over (Latin-1)."""
    return text.encode(charset).decode("latin-1")


def midi_bytes(
    notes: list[tuple[int, int, int, str | None]], *, tempo: int, tpb: int, charset: str = "utf-8"
) -> bytes:
    """A format-1 file: a conductor track, then (start tick, length, pitch, lyric) notes."""
    midi = mido.MidiFile(type=1, ticks_per_beat=tpb)
    conductor = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=tempo, time=0)])
    melody = mido.MidiTrack()
    now = 0
    for start, length, pitch, lyric in notes:
        if lyric is not None:
            melody.append(mido.MetaMessage("lyrics", text=encoded(lyric, charset), time=start - now))
            now = start
        melody.append(mido.Message("note_on", note=pitch, velocity=90, time=start - now))
        melody.append(mido.Message("note_off", note=pitch, velocity=0, time=length))
        now = start + length
    midi.tracks += [conductor, melody]
    out = io.BytesIO()
    midi.save(file=out)
    return out.getvalue()


@st.composite
def lines(draw: st.DrawFn) -> tuple[list[tuple[int, int, int, str | None]], int, int]:
    tpb = draw(st.sampled_from([96, 480, 960]))
    tempo = draw(st.integers(250_000, 1_500_000))
    notes, tick = [], draw(st.integers(0, 2000))
    for _ in range(draw(st.integers(1, 12))):
        length = draw(st.integers(1, 4000))
        notes.append((tick, length, draw(st.integers(0, 127)), draw(st.none() | st.sampled_from(LYRICS))))
        tick += length + draw(st.integers(0, 500))
    return notes, tempo, tpb


@settings(max_examples=60, deadline=None, derandomize=True)
@given(lines())
def test_a_written_line_reads_back_as_its_notes_and_lyrics(line):
    notes, tempo, tpb = line
    read = read_midi_score(midi_bytes(notes, tempo=tempo, tpb=tpb))
    assert len(read) == len(notes)
    for got, (start, length, pitch, lyric) in zip(read, notes, strict=True):
        assert got["pitch"] == pitch
        assert got["lyric"] == (lyric or "la")
        assert got["start"] == pytest.approx(mido.tick2second(start, tpb, tempo), abs=2e-6)
        assert got["duration"] == pytest.approx(mido.tick2second(length, tpb, tempo), abs=2e-6)


def test_tempo_changes_on_the_conductor_track_are_followed():
    midi = mido.MidiFile(type=1, ticks_per_beat=480)
    conductor = mido.MidiTrack([
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),  # 120 BPM for the first beat
        mido.MetaMessage("set_tempo", tempo=1_000_000, time=480),  # then 60 BPM
    ])  # fmt: skip
    melody = mido.MidiTrack([
        mido.MetaMessage("lyrics", text="la", time=0),
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_off", note=60, time=480),
        mido.MetaMessage("lyrics", text="li", time=0),
        mido.Message("note_on", note=62, velocity=80, time=0),
        mido.Message("note_on", note=62, velocity=0, time=480),  # a note-on at 0 ends it too
    ])  # fmt: skip
    midi.tracks += [conductor, melody]
    out = io.BytesIO()
    midi.save(file=out)
    assert read_midi_score(out.getvalue()) == [
        {"pitch": 60, "start": 0.0, "duration": 0.5, "lyric": "la"},
        {"pitch": 62, "start": 0.5, "duration": 1.0, "lyric": "li"},
    ]


def test_japanese_lyrics_in_shift_jis_or_utf8_and_karaoke_marks():
    for charset in ("cp932", "utf-8"):
        data = midi_bytes([(0, 480, 60, "さ"), (480, 480, 62, "く/"), (960, 480, 64, "ら\\")], tempo=500_000,
                          tpb=480, charset=charset)  # fmt: skip
        assert [n["lyric"] for n in read_midi_score(data)] == ["さ", "く", "ら"]
    assert lyric_text("hap-") == "hap" and lyric_text("-") == "-" and lyric_text(" love ") == "love"


def test_a_note_still_sounding_is_cut_where_the_next_begins():
    midi = mido.MidiFile(type=0, ticks_per_beat=480)
    midi.tracks.append(mido.MidiTrack([
        mido.Message("note_on", note=60, velocity=80, time=0),
        mido.Message("note_on", note=64, velocity=80, time=240),
        mido.Message("note_off", note=60, time=240),
        mido.Message("note_off", note=64, time=240),
    ]))  # fmt: skip
    out = io.BytesIO()
    midi.save(file=out)
    notes = read_midi_score(out.getvalue())
    assert [(n["pitch"], n["start"], n["duration"]) for n in notes] == [(60, 0.0, 0.25), (64, 0.25, 0.5)]


def test_files_that_are_no_score_are_refused():
    with pytest.raises(MidiScoreError, match="not a MIDI file"):
        read_midi_score(b"RIFF....WAVEfmt ")
    empty = mido.MidiFile(type=1)
    empty.tracks.append(mido.MidiTrack([mido.MetaMessage("lyrics", text="la", time=0)]))
    out = io.BytesIO()
    empty.save(file=out)
    with pytest.raises(MidiScoreError, match="no notes"):
        read_midi_score(out.getvalue())
