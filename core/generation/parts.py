"""The five parts, written in beats over a ``Harmony``: drums, bass, chords, pads, melody.

Every writer takes the request, the style, the harmony and a seeded ``random.Random`` and
returns ``BeatNote``s. Pitched parts use only the key's tones (``key_tones``), with one
exception that ``add_passing_tones`` makes on purpose: a chromatic note between two notes
of the key a whole step apart, a semitone from each, the line moving through it
(``C–C#–D``). ``keep_in_key`` is the last word on every line, so nothing else slips out.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass, replace

from dawai.core.generation.models import PartRequest
from dawai.core.generation.progression import Harmony, key_tones, leading_tone
from dawai.core.generation.styles import (
    CLOSED,
    CRASH,
    FLOOR_TOM,
    HIGH_TOM,
    KICK,
    MID_TOM,
    RIDE,
    SHAKER,
    SNARE,
    Style,
)
from dawai.core.music.meter import TimeSignature

__all__ = [
    "BeatNote",
    "add_passing_tones",
    "bass_part",
    "chord_part",
    "drum_part",
    "keep_in_key",
    "melody_part",
    "pad_part",
]

_VELOCITY = {"X": 112, "x": 92, "o": 50}
BASS_LOW, BASS_ROOT_LOW, BASS_HIGH = 28, 33, 55
MELODY_LOW, MELODY_HIGH = 60, 81


@dataclass(frozen=True, slots=True)
class BeatNote:
    pitch: int
    start: float  # beats
    length: float  # beats
    velocity: int
    swung: bool = True  # on the straight grid, so the style's swing applies

    @property
    def end(self) -> float:
        return self.start + self.length


@dataclass(frozen=True, slots=True)
class Bar:
    """A bar of the request's meter, in quarter notes: its length, where its groups begin
    (``TimeSignature.groups``) and how long each is. ``four``: a bar of four quarters
    (4/4, 2/2), which the styles' own cells are written for; other meters get rhythms
    built on their groups."""

    length: float
    starts: tuple[float, ...]
    sizes: tuple[float, ...]
    beat: float  # one beat of the meter
    four: bool

    def accent(self, start: float) -> int:
        """A note's accent: the downbeat's, another group's first beat's, or none."""
        within = start % self.length
        if within < 1e-9 or self.length - within < 1e-9:
            return DOWNBEAT_ACCENT
        return GROUP_ACCENT if any(abs(within - at) < 1e-9 for at in self.starts) else 0


DOWNBEAT_ACCENT, GROUP_ACCENT = 10, 5  # above the +-5 of a note's own spread


@functools.lru_cache(maxsize=64)
def bar_of(meter: TimeSignature) -> Bar:
    sizes = tuple(size * meter.beat_quarters for size in meter.groups)
    length = meter.quarters_per_bar
    four = abs(length - 4) < 1e-9 and not meter.compound
    return Bar(length, meter.group_starts, sizes, meter.beat_quarters, four)


def _velocity(base: int, rng: random.Random, start: float, bar: Bar) -> int:
    spread = int(rng.random() * 11) - 5  # +-5, cheaper than randint
    return max(1, min(127, base + bar.accent(start) + spread))


def _is_phrase_end(bar: int, bars: int) -> bool:
    return bars > 1 and (bar % 4 == 3 or bar == bars - 1)


# -- drums --------------------------------------------------------------------------------


def drum_part(request: PartRequest, style: Style, rng: random.Random) -> list[BeatNote]:
    bar = bar_of(request.meter)
    main, alternate = rng.choice(style.drums), rng.choice(style.drums)
    if not bar.four:
        main, alternate = _meter_pattern(style, bar, main, False), _meter_pattern(style, bar, alternate, True)
    fill = style.fill if bar.four else _meter_fill(bar)
    notes: list[BeatNote] = []
    for number in range(request.bars):
        pattern = fill if _is_phrase_end(number, request.bars) else (main if number % 2 == 0 else alternate)
        origin = number * bar.length
        if style.crash and number % 4 == 0:
            notes.append(BeatNote(CRASH, origin, 1.0, _velocity(100, rng, origin, bar)))
        for drum, steps in pattern.items():
            step = bar.length / len(steps)
            for index, mark in enumerate(steps):
                if mark in _VELOCITY:
                    start = origin + index * step
                    swung = bar.four and len(steps) % 4 == 0 and len(steps) % 3 != 0
                    velocity = _velocity(_VELOCITY[mark], rng, start, bar)
                    notes.append(BeatNote(drum, start, min(step, 0.25), velocity, swung))
    return notes


def _meter_pattern(style: Style, bar: Bar, model: dict[int, str], variant: bool) -> dict[int, str]:
    """A bar of another meter in sixteenths, played with the style's cymbal: the kick on the
    downbeat and every other group's first beat, the snare on the rest (on the beats after
    the first when the bar is one group, as in a waltz), the cymbal on every eighth (every
    beat when the style's pattern is sparse), accented on each group's first beat; the
    second pattern adds a kick on the bar's last eighth, leading into the next."""
    steps = round(bar.length * 4)
    cymbal = next((drum for drum in (RIDE, CLOSED, SHAKER) if drum in model), CLOSED)
    sparse = model.get(cymbal, "").count(".") > len(model.get(cymbal, "")) * 3 // 4
    kick, snare, hats = ["."] * steps, ["."] * steps, ["."] * steps
    group_steps = [round(at * 4) for at in bar.starts]
    for index, at in enumerate(group_steps):
        (kick if index % 2 == 0 else snare)[at] = "x" if index else "X"
    if len(group_steps) == 1:
        beat = round(bar.beat * 4)
        for at in range(beat, steps, beat):
            snare[at] = "x"
    every = round(bar.beat * 4) if sparse else 2
    for at in range(0, steps, every):
        hats[at] = "X" if at in group_steps else "x"
    if variant and steps >= 4 and kick[steps - 2] == ".":
        kick[steps - 2] = "x"
    return {KICK: "".join(kick), SNARE: "".join(snare), cymbal: "".join(hats)}


def _meter_fill(bar: Bar) -> dict[int, str]:
    """The phrase's last bar: the groups before the last as in the groove, then toms down
    through the last group in eighths."""
    steps = round(bar.length * 4)
    kick, snare = ["."] * steps, ["."] * steps
    toms = {HIGH_TOM: ["."] * steps, MID_TOM: ["."] * steps, FLOOR_TOM: ["."] * steps}
    group_steps = [round(at * 4) for at in bar.starts]
    kick[0] = "X"
    last = group_steps[-1] if len(group_steps) > 1 else steps // 2
    for at in group_steps[1:-1]:
        snare[at] = "x"
    run = list(range(last, steps, 2))
    for index, at in enumerate(run):
        drum = (HIGH_TOM, MID_TOM, FLOOR_TOM)[min(2, index * 3 // max(1, len(run)))]
        toms[drum][at] = "x"
    snare[last] = "X"
    return {KICK: "".join(kick), SNARE: "".join(snare), **{d: "".join(t) for d, t in toms.items()}}


# -- bass ---------------------------------------------------------------------------------


def _place(pc: int, low: int) -> int:
    """The lowest MIDI note of pitch class ``pc`` at or above ``low``."""
    return low + (pc - low) % 12


def _degree(classes: frozenset[int], root: int, degree: str, allowed: frozenset[int]) -> int:
    options = {
        "R": (0,),
        "8": (12,),
        "5": (7, 6, 8),
        "3": (4, 3),
        "7": (10, 11, 12),
        "6": (9, 7),
    }[degree]
    for offset in options:
        pitch = root + offset
        in_chord = (pitch % 12) in classes or offset in (0, 12)
        if (in_chord or degree == "6") and pitch % 12 in allowed:
            return pitch
    return root


def _with_changes(
    hits: list[tuple[float, float, str]], harmony: Harmony, origin: float, bar: Bar
) -> list[tuple[float, float, str]]:
    """A bar's hits (start within the bar, length, degree), with a root added on any chord
    change in the bar that no hit starts on, held until the next hit."""
    bar_end = origin + bar.length
    starts = {origin + start for start, _, _ in hits}
    changes = []
    for span in harmony.spans[harmony.index_at(origin) :]:
        if span.start >= bar_end:
            break
        if span.start > origin and span.start not in starts:
            changes.append(span.start)
    extra = [(change - origin, 0.0, "R") for change in changes]
    merged = sorted(hits + extra)
    result = []
    for index, (start, length, degree) in enumerate(merged):
        following = merged[index + 1][0] if index + 1 < len(merged) else bar.length
        result.append((start, length if length > 0 else following - start, degree))
    return result


def _meter_cells(
    bar: Bar, busy: bool
) -> tuple[list[tuple[float, float, str]], list[tuple[float, float, str]]]:
    """Bass cells for a bar of another meter: the root on the downbeat, the fifth and the
    octave on the other groups' first beats, each held through its group; a busy style
    (eighth-note bass) repeats each group's note in eighths. The second cell, for a
    phrase's last bar, holds the root through the bar's first half."""
    main: list[tuple[float, float, str]] = []
    for index, (at, size) in enumerate(zip(bar.starts, bar.sizes, strict=True)):
        degree = "R" if index == 0 else ("5", "8")[(index - 1) % 2]
        if busy:
            main.extend(
                (at + k * 0.5, 0.5, degree if k == 0 else "R") for k in range(math.ceil(size / 0.5 - 1e-9))
            )
        else:
            main.append((at, size, degree))
    main = [(at, min(length, bar.length - at), degree) for at, length, degree in main if at < bar.length]
    last = [(0.0, bar.starts[-1] if len(bar.starts) > 1 else bar.length, "R")]
    if len(bar.starts) > 1:
        last.append((bar.starts[-1], bar.length - bar.starts[-1], "5"))
    return main, last


def bass_part(request: PartRequest, style: Style, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    if style.walking or not style.bass:
        return _walking_bass(request, harmony, rng)
    bar = bar_of(request.meter)
    allowed = key_tones(request.key)
    main, alternate = list(rng.choice(style.bass)), list(rng.choice(style.bass))
    if not bar.four:
        main, alternate = _meter_cells(bar, busy=len(main) >= 6)
    notes: list[BeatNote] = []
    for number in range(request.bars):
        origin = number * bar.length
        cell = alternate if _is_phrase_end(number, request.bars) else main
        for start, length, degree in _with_changes(cell, harmony, origin, bar):
            at = origin + start
            span = harmony.at(at)
            root = _place(span.bass, BASS_ROOT_LOW)
            pitch = _degree(span.tones, root, degree, allowed)
            length = min(length, span.end - at)
            if length > 0:
                notes.append(BeatNote(pitch, at, length, _velocity(96, rng, at, bar), bar.four))
    return notes


def _pulses(request: PartRequest, bar: Bar) -> list[tuple[float, float]]:
    """Where a walking bass steps: every quarter note in a meter of quarters, each group's
    first beat (held through the group) in a meter of eighths."""
    if bar.beat >= 1:
        per_bar = [(float(k), 1.0) for k in range(round(bar.length))]
    else:
        per_bar = list(zip(bar.starts, bar.sizes, strict=True))
    return [(number * bar.length + at, length) for number in range(request.bars) for at, length in per_bar]


def _walking_bass(request: PartRequest, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    """Quarter notes (a group's first beat in a meter of eighths): the root on each change,
    a step into the next root before it, chord tones and scale steps between."""
    bar = bar_of(request.meter)
    allowed = key_tones(request.key)
    scale = [note for note in range(BASS_LOW, BASS_HIGH + 1) if note % 12 in allowed]
    notes: list[BeatNote] = []
    previous = None
    total = request.beats
    for beat, length in _pulses(request, bar):
        span = harmony.at(beat)
        if beat == span.start or previous is None:
            root = span.bass
            pitch = _nearest([n for n in scale if n % 12 == root and n <= 48], previous or 40)
        elif beat + length >= span.end and beat + length < total:
            target = harmony.after(beat).bass
            target_note = _nearest([n for n in scale if n % 12 == target], previous)
            steps = [n for n in scale if 0 < abs(n - target_note) <= 2 and n != previous]
            pitch = rng.choice(steps) if steps else target_note
        else:
            tones = [n for n in scale if n % 12 in span.tones and 0 < abs(n - previous) <= 7]
            pitch = rng.choice(tones) if tones else previous
        notes.append(BeatNote(pitch, float(beat), length, _velocity(90, rng, float(beat), bar), bar.four))
        previous = pitch
    return notes


def _nearest(options: list[int], to: int) -> int:
    return min(options, key=lambda note: (abs(note - to), note)) if options else to


# -- chords and pads ----------------------------------------------------------------------


def _meter_comp(bar: Bar) -> tuple[tuple[float, float], ...]:
    """Comping in another meter: a chord on each group's first beat, held through the group;
    a bar of one group strikes each beat (the waltz's one, two, three)."""
    if len(bar.starts) == 1:
        count = max(1, round(bar.length / bar.beat)) if bar.beat >= 1 else 1
        return tuple((k * bar.length / count, bar.length / count) for k in range(count))
    return tuple(zip(bar.starts, bar.sizes, strict=True))


def chord_part(request: PartRequest, style: Style, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    bar = bar_of(request.meter)
    voicings = harmony.voicings(low=48, high=72, voices=4)
    main, alternate = rng.choice(style.comp), rng.choice(style.comp)
    if not bar.four:
        main = alternate = _meter_comp(bar)
    notes: list[BeatNote] = []
    for number in range(request.bars):
        origin = number * bar.length
        cell = [
            (start, length, "")
            for start, length in (alternate if _is_phrase_end(number, request.bars) else main)
        ]
        for start, length, _ in _with_changes(cell, harmony, origin, bar):
            at = origin + start
            index = harmony.index_at(at)
            length = min(length, harmony.spans[index].end - at)
            if length <= 0:
                continue
            velocity = _velocity(80, rng, at, bar)
            notes.extend(BeatNote(pitch, at, length, velocity, bar.four) for pitch in voicings[index])
    return notes


def pad_part(request: PartRequest, style: Style, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    """Three voices above middle C, voice-led, held through each chord (struck again every
    ``style.pad_beats``, and at every barline)."""
    bar = bar_of(request.meter)
    voicings = harmony.voicings(low=60, high=84, voices=3)
    notes: list[BeatNote] = []
    for span, voicing in zip(harmony.spans, voicings, strict=True):
        at = span.start
        while at < span.end - 1e-9:
            barline = (math.floor(at / bar.length + 1e-9) + 1) * bar.length
            length = min(style.pad_beats, span.end - at, barline - at)
            velocity = _velocity(68, rng, at, bar)
            notes.extend(BeatNote(pitch, at, length, velocity, swung=False) for pitch in voicing)
            at += length
    return notes


# -- melody -------------------------------------------------------------------------------


# How a group of two or three beats of another meter may be sung, in beats.
_GROUP_RHYTHMS = {1: ((1,),), 2: ((2,), (1, 1)), 3: ((3,), (2, 1), (1, 1, 1), (1, 2))}


def _meter_melody_cell(bar: Bar, rng: random.Random) -> tuple[tuple[float, float], ...]:
    hits: list[tuple[float, float]] = []
    for at, size in zip(bar.starts, bar.sizes, strict=True):
        beats = round(size / bar.beat)
        options = _GROUP_RHYTHMS.get(beats, ((beats,),))
        for length in rng.choice(options):
            hits.append((at, length * bar.beat))
            at += length * bar.beat
    return tuple(hits)


def _melody_rhythm(style: Style, bars: int, rng: random.Random, bar: Bar) -> list[tuple[float, float]]:
    if bar.four:
        first, second = rng.choice(style.melody), rng.choice(style.melody)
        cadence: tuple[tuple[float, float], ...] = ((0.0, 1.0), (1.0, 1.0), (2.0, 2.0))
    else:
        first, second = _meter_melody_cell(bar, rng), _meter_melody_cell(bar, rng)
        # the phrase ends on its last group's first beat, held to the barline
        last = bar.starts[-1]
        cadence = ((0.0, last), (last, bar.length - last)) if last > 0 else ((0.0, bar.length),)
    hits: list[tuple[float, float]] = []
    for number in range(bars):
        cell = (
            cadence if _is_phrase_end(number, bars) or bars == 1 else (first if number % 2 == 0 else second)
        )
        hits.extend((number * bar.length + start, length) for start, length in cell)
    return hits


def melody_part(request: PartRequest, style: Style, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    """A two-bar motif, answered: strong beats and long notes on chord tones, steps of the
    scale between, the phrase ending long on a chord tone (the tonic where it fits)."""
    key = request.key
    lead = leading_tone(key)
    subtonic = (lead - 1) % 12 if lead is not None else None
    scale = key.scale.midi_notes(MELODY_LOW, MELODY_HIGH)
    bar_info = bar_of(request.meter)
    hits = _melody_rhythm(style, request.bars, rng, bar_info)
    notes: list[BeatNote] = []
    index = _nearest_index(scale, 67)
    direction = rng.choice((-1, 1))
    motif: list[int] = []  # the scale steps of bars 1-2, which later pairs of bars may repeat
    half, position, reuse = -1, 0, False
    for number, (start, length) in enumerate(hits):
        span = harmony.at(start)
        bar = int(start // bar_info.length + 1e-9)
        if bar // 2 != half:
            half, position = bar // 2, 0
            reuse = half > 0 and bool(motif) and rng.random() < 0.75
        strong = bar_info.accent(start) > 0 or length >= 1.5
        last = number == len(hits) - 1
        if rng.random() < 0.3 or not 2 <= index <= len(scale) - 3:
            direction = 1 if index < len(scale) // 2 else -1
        if reuse and position < len(motif) and not last:
            step = motif[position]
        else:
            step = direction * rng.choice((1, 1, 1, 2, 0))
        candidate = max(0, min(len(scale) - 1, index + step))
        if strong or last:
            candidate = _chord_tone_index(scale, candidate, span.tones, key.tonic.pc if last else None)
        if half == 0:
            motif.append(candidate - index)
        position += 1
        index = candidate
        pitch = scale[index]
        if subtonic is not None and lead is not None and pitch % 12 == subtonic and lead in span.tones:
            pitch += 1  # harmonic minor over the dominant
        notes.append(BeatNote(pitch, start, length, _velocity(88, rng, start, bar_info), bar_info.four))
    return notes


def _nearest_index(scale: tuple[int, ...], pitch: int) -> int:
    return min(range(len(scale)), key=lambda i: abs(scale[i] - pitch))


def _chord_tone_index(scale: tuple[int, ...], index: int, classes: frozenset[int], prefer: int | None) -> int:
    """The scale index nearest ``index`` whose note is one of the chord's ``classes``
    (``prefer``'s pitch class first, when the chord has it)."""
    if prefer is not None and prefer in classes:
        classes = frozenset({prefer})
    options = [i for i, note in enumerate(scale) if note % 12 in classes]
    return min(options, key=lambda i: (abs(i - index), i)) if options else index


# -- the key ------------------------------------------------------------------------------


def add_passing_tones(
    line: list[BeatNote], request: PartRequest, chance: float, rng: random.Random
) -> list[BeatNote]:
    """Where a note of at least half a beat moves a whole step to the next, through a tone
    outside the key, split it: the second half becomes that chromatic passing tone."""
    if chance <= 0:
        return line
    allowed = key_tones(request.key)
    result: list[BeatNote] = []
    for note, following in zip(line, [*line[1:], None], strict=True):
        middle = (note.pitch + following.pitch) // 2 if following is not None else None
        if (
            following is not None
            and middle is not None
            and abs(following.pitch - note.pitch) == 2
            and middle % 12 not in allowed
            and note.length >= 0.5
            and abs(note.end - following.start) < 1e-9
            and rng.random() < chance
        ):
            half = note.length / 2
            result.append(replace(note, length=half))
            result.append(BeatNote(middle, note.start + half, half, max(1, note.velocity - 10), note.swung))
        else:
            result.append(note)
    return result


def is_passing_tone(previous: int | None, pitch: int, following: int | None, allowed: frozenset[int]) -> bool:
    """Whether ``pitch`` (outside the key) passes a semitone from ``previous`` to a semitone
    before ``following``, both in the key, the line moving one way through it."""
    if previous is None or following is None:
        return False
    if previous % 12 not in allowed or following % 12 not in allowed:
        return False
    return (previous + 1 == pitch == following - 1) or (previous - 1 == pitch == following + 1)


def keep_in_key(line: list[BeatNote], request: PartRequest) -> list[BeatNote]:
    """A monophonic line with every note outside the key moved to the nearest key tone below,
    except the chromatic passing tones ``is_passing_tone`` allows."""
    allowed = key_tones(request.key)
    pitches = [note.pitch for note in line]
    result: list[BeatNote] = []
    for index, note in enumerate(line):
        if note.pitch % 12 in allowed:
            result.append(note)
            continue
        previous = pitches[index - 1] if index > 0 else None
        following = pitches[index + 1] if index + 1 < len(pitches) else None
        if is_passing_tone(previous, note.pitch, following, allowed):
            result.append(note)
            continue
        pitch = note.pitch - 1 if (note.pitch - 1) % 12 in allowed else note.pitch + 1
        pitches[index] = pitch
        result.append(replace(note, pitch=pitch))
    return result
