"""The five parts, written in beats over a ``Harmony``: drums, bass, chords, pads, melody.

Every writer takes the request, the style, the harmony and a seeded ``random.Random`` and
returns ``BeatNote``s. Pitched parts use only the key's tones (``key_tones``), with one
exception that ``add_passing_tones`` makes on purpose: a chromatic note between two notes
of the key a whole step apart, a semitone from each, the line moving through it
(``C–C#–D``). ``keep_in_key`` is the last word on every line, so nothing else slips out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from dawai.core.generation.models import BEATS_PER_BAR, PartRequest
from dawai.core.generation.progression import Harmony, key_tones, leading_tone
from dawai.core.generation.styles import CRASH, Style

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


def _velocity(base: int, rng: random.Random, start: float) -> int:
    accent = 8 if start % BEATS_PER_BAR == 0 else 0
    return max(1, min(127, base + accent + int(rng.random() * 11) - 5))  # +-5, cheaper than randint


def _is_phrase_end(bar: int, bars: int) -> bool:
    return bars > 1 and (bar % 4 == 3 or bar == bars - 1)


# -- drums --------------------------------------------------------------------------------


def drum_part(request: PartRequest, style: Style, rng: random.Random) -> list[BeatNote]:
    main, alternate = rng.choice(style.drums), rng.choice(style.drums)
    notes: list[BeatNote] = []
    for bar in range(request.bars):
        pattern = style.fill if _is_phrase_end(bar, request.bars) else (main if bar % 2 == 0 else alternate)
        origin = bar * BEATS_PER_BAR
        if style.crash and bar % 4 == 0:
            notes.append(BeatNote(CRASH, origin, 1.0, _velocity(100, rng, 0)))
        for drum, steps in pattern.items():
            step = BEATS_PER_BAR / len(steps)
            for index, mark in enumerate(steps):
                if mark in _VELOCITY:
                    start = origin + index * step
                    swung = len(steps) % 4 == 0 and len(steps) % 3 != 0
                    notes.append(
                        BeatNote(drum, start, min(step, 0.25), _velocity(_VELOCITY[mark], rng, start), swung)
                    )
    return notes


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
    hits: list[tuple[float, float, str]], harmony: Harmony, origin: float
) -> list[tuple[float, float, str]]:
    """A bar's hits (start within the bar, length, degree), with a root added on any chord
    change in the bar that no hit starts on, held until the next hit."""
    bar_end = origin + BEATS_PER_BAR
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
        following = merged[index + 1][0] if index + 1 < len(merged) else BEATS_PER_BAR
        result.append((start, length if length > 0 else following - start, degree))
    return result


def bass_part(request: PartRequest, style: Style, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    if style.walking or not style.bass:
        return _walking_bass(request, harmony, rng)
    allowed = key_tones(request.key)
    main, alternate = rng.choice(style.bass), rng.choice(style.bass)
    notes: list[BeatNote] = []
    for bar in range(request.bars):
        origin = bar * BEATS_PER_BAR
        cell = list(alternate if _is_phrase_end(bar, request.bars) else main)
        for start, length, degree in _with_changes(cell, harmony, origin):
            at = origin + start
            span = harmony.at(at)
            root = _place(span.bass, BASS_ROOT_LOW)
            pitch = _degree(span.tones, root, degree, allowed)
            length = min(length, span.end - at)
            if length > 0:
                notes.append(BeatNote(pitch, at, length, _velocity(96, rng, at)))
    return notes


def _walking_bass(request: PartRequest, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    """Quarter notes: the root on each change, a step into the next root before it, chord
    tones and scale steps between."""
    allowed = key_tones(request.key)
    scale = [note for note in range(BASS_LOW, BASS_HIGH + 1) if note % 12 in allowed]
    notes: list[BeatNote] = []
    previous = None
    for beat in range(request.beats):
        span = harmony.at(beat)
        if beat == span.start or previous is None:
            root = span.bass
            pitch = _nearest([n for n in scale if n % 12 == root and n <= 48], previous or 40)
        elif beat + 1 >= span.end and beat + 1 < request.beats:
            target = harmony.after(beat).bass
            target_note = _nearest([n for n in scale if n % 12 == target], previous)
            steps = [n for n in scale if 0 < abs(n - target_note) <= 2 and n != previous]
            pitch = rng.choice(steps) if steps else target_note
        else:
            tones = [n for n in scale if n % 12 in span.tones and 0 < abs(n - previous) <= 7]
            pitch = rng.choice(tones) if tones else previous
        notes.append(BeatNote(pitch, float(beat), 1.0, _velocity(90, rng, float(beat))))
        previous = pitch
    return notes


def _nearest(options: list[int], to: int) -> int:
    return min(options, key=lambda note: (abs(note - to), note)) if options else to


# -- chords and pads ----------------------------------------------------------------------


def chord_part(request: PartRequest, style: Style, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    voicings = harmony.voicings(low=48, high=72, voices=4)
    main, alternate = rng.choice(style.comp), rng.choice(style.comp)
    notes: list[BeatNote] = []
    for bar in range(request.bars):
        origin = bar * BEATS_PER_BAR
        cell = [
            (start, length, "")
            for start, length in (alternate if _is_phrase_end(bar, request.bars) else main)
        ]
        for start, length, _ in _with_changes(cell, harmony, origin):
            at = origin + start
            index = harmony.index_at(at)
            length = min(length, harmony.spans[index].end - at)
            if length <= 0:
                continue
            velocity = _velocity(80, rng, at)
            notes.extend(BeatNote(pitch, at, length, velocity) for pitch in voicings[index])
    return notes


def pad_part(request: PartRequest, style: Style, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    """Three voices above middle C, voice-led, held through each chord (struck again every
    ``style.pad_beats``)."""
    voicings = harmony.voicings(low=60, high=84, voices=3)
    notes: list[BeatNote] = []
    for span, voicing in zip(harmony.spans, voicings, strict=True):
        at = span.start
        while at < span.end:
            length = min(style.pad_beats, span.end - at)
            velocity = _velocity(68, rng, at)
            notes.extend(BeatNote(pitch, at, length, velocity, swung=False) for pitch in voicing)
            at += length
    return notes


# -- melody -------------------------------------------------------------------------------


def _melody_rhythm(style: Style, bars: int, rng: random.Random) -> list[tuple[float, float]]:
    first, second = rng.choice(style.melody), rng.choice(style.melody)
    cadence = ((0.0, 1.0), (1.0, 1.0), (2.0, 2.0))
    hits: list[tuple[float, float]] = []
    for bar in range(bars):
        cell = cadence if _is_phrase_end(bar, bars) or bars == 1 else (first if bar % 2 == 0 else second)
        hits.extend((bar * BEATS_PER_BAR + start, length) for start, length in cell)
    return hits


def melody_part(request: PartRequest, style: Style, harmony: Harmony, rng: random.Random) -> list[BeatNote]:
    """A two-bar motif, answered: strong beats and long notes on chord tones, steps of the
    scale between, the phrase ending long on a chord tone (the tonic where it fits)."""
    key = request.key
    lead = leading_tone(key)
    subtonic = (lead - 1) % 12 if lead is not None else None
    scale = key.scale.midi_notes(MELODY_LOW, MELODY_HIGH)
    hits = _melody_rhythm(style, request.bars, rng)
    notes: list[BeatNote] = []
    index = _nearest_index(scale, 67)
    direction = rng.choice((-1, 1))
    motif: list[int] = []  # the scale steps of bars 1-2, which later pairs of bars may repeat
    half, position, reuse = -1, 0, False
    for number, (start, length) in enumerate(hits):
        span = harmony.at(start)
        bar = int(start // BEATS_PER_BAR)
        if bar // 2 != half:
            half, position = bar // 2, 0
            reuse = half > 0 and bool(motif) and rng.random() < 0.75
        strong = start % 2 == 0 or length >= 1.5
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
        notes.append(BeatNote(pitch, start, length, _velocity(88, rng, start)))
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
