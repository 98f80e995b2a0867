"""The embedded generator (``model: "local"``): a part written by rule, no model, no key.

Deterministic for a seed: every choice comes from ``random.Random`` instances seeded from
the request's seed, never from global state. The chords come first, from a generator
seeded by the seed alone, so parts of every type written with the same seed, key, genre
and bar count share one progression and fit together; each part then has a generator of
its own (seeded by the seed and its type). Bars are the request's meter (``meter``: 4/4
unless it says): a bar of four quarters plays the style's own rhythms, another meter
rhythms built on its groups (``TimeSignature.groups``: 3+3 in 6/8, 3+2+2 in 7/8), and in
every meter the downbeat and each group's first beat are accented. Beats (quarter notes)
become seconds at the tempo last, with the style's swing in a bar of four, and every note
is cut at the part's end.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from dawai.core.generation.models import GeneratedNote, PartRequest, PartType
from dawai.core.generation.parts import (
    BeatNote,
    add_passing_tones,
    bass_part,
    chord_part,
    drum_part,
    keep_in_key,
    melody_part,
    pad_part,
)
from dawai.core.generation.progression import Harmony, choose_harmony
from dawai.core.generation.styles import Style

__all__ = ["LocalPart", "swung", "write_part"]

_PART_NAMES = {
    PartType.DRUM_PATTERN: "drum pattern",
    PartType.BASSLINE: "bassline",
    PartType.CHORD_PROGRESSION: "chord progression",
    PartType.MELODY: "melody",
    PartType.HARMONY: "three-voice harmony pad",
}
_NEXT = {
    PartType.DRUM_PATTERN: PartType.BASSLINE,
    PartType.BASSLINE: PartType.CHORD_PROGRESSION,
    PartType.CHORD_PROGRESSION: PartType.MELODY,
    PartType.MELODY: PartType.HARMONY,
    PartType.HARMONY: PartType.MELODY,
}


class LocalPart:
    """A written part: its notes in seconds, and what to say about it."""

    __slots__ = ("description", "harmony", "notes", "suggestions")

    def __init__(
        self, notes: tuple[GeneratedNote, ...], harmony: Harmony, description: str, suggestions: str
    ) -> None:
        self.notes = notes
        self.harmony = harmony
        self.description = description
        self.suggestions = suggestions


def swung(beat: float, style: Style) -> float:
    """Where ``beat`` (on the straight grid) falls with the style's swing: the off-beat of
    each pair of ``swing_unit`` notes moves to ``swing`` of the pair, the rest in proportion."""
    if style.swing == 0.5:
        return beat
    pair = style.swing_unit * 2
    whole, within = divmod(beat, pair)
    unit = style.swing_unit
    if within < unit:
        moved = within * (style.swing * pair / unit)
    else:
        moved = style.swing * pair + (within - unit) * ((1 - style.swing) * pair / unit)
    return whole * pair + moved


def _seconds(notes: list[BeatNote], request: PartRequest, style: Style) -> tuple[GeneratedNote, ...]:
    per_beat = request.seconds_per_beat
    total = request.beats
    out: list[GeneratedNote] = []
    for note in notes:
        if note.start >= total:
            continue
        end = min(note.end, total)
        start_beat = swung(note.start, style) if note.swung else note.start
        end_beat = swung(end, style) if note.swung and end < total else end
        start = round(start_beat * per_beat, 6)
        duration = round(min(end_beat, total) * per_beat - start, 6)
        if duration > 0 and 0 <= note.pitch <= 127:
            out.append(GeneratedNote(note.pitch, start, duration, max(1, min(127, note.velocity))))
    out.sort(key=lambda n: (n.start, n.pitch))
    return tuple(out)


def _line(
    write: Callable[[PartRequest, Style, Harmony, random.Random], list[BeatNote]],
) -> Callable[[PartRequest, Style, Harmony, random.Random], list[BeatNote]]:
    """A monophonic writer with the style's chromatic passing tones added, then kept in key."""

    def written(request: PartRequest, style: Style, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
        line = add_passing_tones(write(request, style, harmony, rng), request, style.chromatic, rng)
        return keep_in_key(line, request)

    return written


_WRITERS: dict[PartType, Callable[[PartRequest, Style, Harmony, random.Random], list[BeatNote]]] = {
    PartType.DRUM_PATTERN: lambda request, style, harmony, rng: drum_part(request, style, rng),
    PartType.BASSLINE: _line(bass_part),
    PartType.CHORD_PROGRESSION: chord_part,
    PartType.MELODY: _line(melody_part),
    PartType.HARMONY: pad_part,
}


def write_part(request: PartRequest, style: Style) -> LocalPart:
    """The part ``request`` asks for, in ``style``; the same request gives the same notes."""
    harmony = choose_harmony(request.key, style, request.bars, random.Random(request.seed), request.bar_beats)
    rng = random.Random(f"{request.seed}/{request.type.value}")
    notes = _seconds(_WRITERS[request.type](request, style, harmony, rng), request, style)
    return LocalPart(notes, harmony, _description(request, style, harmony), _suggestions(request, style))


def _description(request: PartRequest, style: Style, harmony: Harmony) -> str:
    bars = f"{request.bars}-bar" if request.bars > 1 else "One-bar"
    text = f"{bars} {style.label} {_PART_NAMES[request.type]} in {request.key.name} at {request.tempo:g} BPM"
    if str(request.meter) != "4/4":
        text += f" in {request.meter}"
    if request.type.is_drums:
        return f"{text} (General MIDI drums, channel 10), a fill closing each four-bar phrase."
    loop = " – ".join(harmony.symbols)
    return f"{text}, over {loop} ({harmony.name})."


def _suggestions(request: PartRequest, style: Style) -> str:
    partner = _NEXT[request.type]
    tips = [
        f"Generate a {_PART_NAMES[partner]} with the same seed ({request.seed}), key, genre and bar count: "
        "it follows the same chords.",
        f"{style.label.capitalize()} usually sits at {style.tempo_hint}.",
    ]
    if request.bars % 4 and request.bars > 4:
        tips.append("Phrases are four bars long; a multiple of four bars ends on a full phrase.")
    if not request.type.is_drums:
        tips.append("Change the seed for another take, or name a genre (rock, funk, jazz, bossa, J-pop...).")
    return " ".join(tips)
