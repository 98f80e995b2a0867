"""A Standard MIDI File with lyric events as a score to sing (``dawai sing song.mid``).

Read with ``mido``: every track merged in time order, ticks to seconds through the file's
own tempo map. Each note (a note-on with velocity, ended by its note-off or a note-on
with velocity 0) takes the lyric event (``lyrics`` meta, else ``text`` meta) at its start,
or the last one since the previous note began; a note with none is sung ``la``. The voice
sings one note at a time, so a note still sounding when the next begins is cut there.

Lyric bytes are read as UTF-8, else Shift-JIS (cp932, as Japanese karaoke files have
them), else Latin-1; karaoke marks are dropped (``/`` and ``\\`` line breaks, spaces, a
hyphen that joins syllables). Only the melody is taken: with ``track`` none, the track
with the most lyric events (ties: the first), or every track when none has lyrics.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

import mido

__all__ = ["MidiScoreError", "lyric_text", "midi_notes", "read_midi_score"]

DEFAULT_LYRIC = "la"
_MARKS = str.maketrans("", "", "/\\\r\n\t ")


class MidiScoreError(ValueError):
    """The file is not a MIDI file this can read, or holds no notes."""


def lyric_text(raw: str) -> str:
    """A lyric event's text as sung: its bytes decoded (mido hands them over as Latin-1),
    karaoke marks dropped. ``""`` when nothing is left."""
    data = raw.encode("latin-1", errors="replace")
    for charset in ("utf-8", "cp932"):
        try:
            text = data.decode(charset)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = raw
    text = text.translate(_MARKS)
    if len(text) > 1 and text.endswith("-"):
        text = text[:-1]  # "hap-" "py": the hyphen joins syllables, it is not a rest
    return text


def _melody_track(midi: mido.MidiFile) -> int | None:
    counts = [sum(m.type == "lyrics" for m in track) for track in midi.tracks]
    if not any(counts):
        counts = [sum(m.type == "text" for m in track) for track in midi.tracks]
    best = max(range(len(counts)), key=lambda i: (counts[i], -i), default=None)
    return best if best is not None and counts[best] else None


def _timed(midi: mido.MidiFile, track: int | None) -> Iterable[tuple[float, Any]]:
    """(seconds, message) of the chosen track (the tempo map from every track)."""
    tempo_map = mido.MidiFile(type=1, ticks_per_beat=midi.ticks_per_beat)
    for index, source in enumerate(midi.tracks):
        kept = mido.MidiTrack()
        pending = 0
        for message in source:
            pending += message.time
            if track is None or index == track or message.type == "set_tempo":
                kept.append(message.copy(time=pending))
                pending = 0
        tempo_map.tracks.append(kept)
    now = 0.0
    for message in tempo_map:  # merged, delta times in seconds through the tempo map
        now += message.time
        yield now, message


def midi_notes(midi: mido.MidiFile, track: int | None = None) -> list[dict[str, Any]]:
    """The notes to sing, as the synthesis body's ``notes`` (pitch, start, duration, lyric)."""
    if track is None:
        track = _melody_track(midi)
    elif not 0 <= track < len(midi.tracks):
        raise MidiScoreError(f"the file has no track {track} (it has {len(midi.tracks)})")
    notes: list[dict[str, Any]] = []
    sounding: dict[tuple[int, int], dict[str, Any]] = {}
    lyric: str | None = None
    text_lyric: str | None = None
    end = 0.0
    for now, message in _timed(midi, track):
        end = now
        kind = message.type
        if kind == "lyrics":
            lyric = lyric_text(message.text) or lyric
        elif kind == "text" and not message.text.startswith("@"):  # "@T" titles in karaoke files
            text_lyric = lyric_text(message.text) or text_lyric
        elif kind == "note_on" and message.velocity > 0:
            for held in list(sounding.values()):  # one note at a time: the one sounding ends here
                held["duration"] = now - held["start"]
            sounding.clear()
            note = {"pitch": message.note, "start": now, "duration": 0.0}
            note["lyric"] = lyric or text_lyric or DEFAULT_LYRIC
            lyric = text_lyric = None
            notes.append(note)
            sounding[(message.channel, message.note)] = note
        elif kind == "note_off" or (kind == "note_on" and message.velocity == 0):
            ended = sounding.pop((message.channel, message.note), None)
            if ended is not None:
                ended["duration"] = now - ended["start"]
    for held in sounding.values():  # never ended: to the end of the file
        held["duration"] = end - held["start"]
    notes = [n for n in notes if n["duration"] > 1e-6]
    if not notes:
        raise MidiScoreError("the file has no notes to sing")
    for note in notes:
        note["start"] = round(note["start"], 6)
        note["duration"] = round(note["duration"], 6)
    return notes


def read_midi_score(data: bytes, track: int | None = None) -> list[dict[str, Any]]:
    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise MidiScoreError(f"not a MIDI file this can read ({exc})") from None
    return midi_notes(midi, track)
