"""A generated part as a Standard MIDI File (format 1), written with ``mido``.

Two tracks: a conductor track with the tempo, the 4/4 time signature and the song's name,
then the part's track with its name, its instrument (a General MIDI program) and its
notes. Drums play on channel 10 (``GM_DRUM_CHANNEL``, 9 counted from 0), other parts on
channel 1. Seconds become ticks at the tempo, 480 to the beat.
"""

from __future__ import annotations

import io
from typing import Final

import mido

from dawai.core.generation import Generation, PartType
from dawai.core.music import GM_DRUM_CHANNEL, parse_time_signature

__all__ = ["MIDI_MEDIA_TYPE", "TICKS_PER_BEAT", "midi_file", "midi_filename"]

MIDI_MEDIA_TYPE: Final = "audio/midi"
TICKS_PER_BEAT: Final = 480
_PROGRAMS: Final = {  # General MIDI programs, counted from 0
    PartType.BASSLINE: 33,  # Electric Bass (finger)
    PartType.CHORD_PROGRESSION: 0,  # Acoustic Grand Piano
    PartType.MELODY: 80,  # Lead 1 (square)
    PartType.HARMONY: 48,  # String Ensemble 1
}


def midi_filename(generation: Generation) -> str:
    return f"dawai-{generation.type.value}.mid"


def _ticks(seconds: float, tempo: float) -> int:
    return round(seconds * tempo / 60 * TICKS_PER_BEAT)


def midi_file(generation: Generation) -> bytes:
    """The part as the bytes of a ``.mid`` file."""
    tempo = generation.tempo
    meter = parse_time_signature(generation.time_signature)
    name = f"{generation.type.value.replace('_', ' ')} in {generation.key}"
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name=f"DAWAI {name}", time=0),
            mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0),
            mido.MetaMessage(
                "time_signature",
                numerator=meter.beats,
                denominator=meter.unit,
                # MIDI clocks (24 a quarter) per metronome click: a beat, a dotted quarter in 6/8
                clocks_per_click=round(24 * meter.beat_quarters * (3 if meter.compound else 1)),
                notated_32nd_notes_per_beat=8,
                time=0,
            ),
            mido.MetaMessage("end_of_track", time=0),
        ]
    )
    drums = generation.type is PartType.DRUM_PATTERN
    channel = GM_DRUM_CHANNEL if drums else 0
    # (tick, 0 for off / 1 for on, pitch, velocity): offs first at a tick, so a repeated
    # note ends before it starts again. Each message is built once, with its delta time
    # (mido checks every field of every message it builds).
    events: list[tuple[int, int, int, int]] = []
    for note in generation.notes:
        start = _ticks(note.start, tempo)
        end = max(start + 1, _ticks(note.start + note.duration, tempo))
        events.append((start, 1, note.pitch, note.velocity))
        events.append((end, 0, note.pitch, 0))
    events.sort()
    part = mido.MidiTrack([mido.MetaMessage("track_name", name=name, time=0)])
    if not drums:
        part.append(
            mido.Message("program_change", channel=channel, program=_PROGRAMS[generation.type], time=0)
        )
    now = 0
    for tick, on, pitch, velocity in events:
        kind = "note_on" if on else "note_off"
        part.append(mido.Message(kind, channel=channel, note=pitch, velocity=velocity, time=tick - now))
        now = tick
    part.append(mido.MetaMessage("end_of_track", time=0))
    out = io.BytesIO()
    mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT, tracks=[conductor, part]).save(file=out)
    return out.getvalue()
