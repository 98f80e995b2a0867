"""The chords under a generated part: a named progression that stays in the key, looped.

Only progressions whose every chord is in the key are used (the key's scale, and in a
minor key the harmonic-minor leading tone, which the dominant needs), so that bass, chords,
pads and melodies written over them stay in the key too. A minor key also draws on the
major loops of its relative major that pass through vi, begun on vi (the Axis loop becomes
vi–IV–I–V). The blues is played as triads (I:4 IV:2 I:2 V IV I V): its dominant sevenths
are outside the key. When nothing fits, I–IV–V–I (i–iv–V–i) does.
"""

from __future__ import annotations

import bisect
import functools
import random
from dataclasses import dataclass

from dawai.core.generation.styles import Style
from dawai.core.music import Chord, Key, Mode, parse_roman, progressions_for, voice_lead
from dawai.core.music.pitch import Interval

__all__ = ["ChordSpan", "Harmony", "choose_harmony", "key_tones", "leading_tone"]

_MAJOR_SEVENTH = Interval.parse("M7")
_TRIAD_BLUES = {Mode.MAJOR: "I:4 IV:2 I:2 V IV I V", Mode.MINOR: "i:4 iv:2 i:2 V iv i V"}
_CADENCE = {Mode.MAJOR: "I IV V I", Mode.MINOR: "i iv V i"}


@dataclass(frozen=True, slots=True)
class ChordSpan:
    start: float  # beats from the part's start
    end: float
    chord: Chord
    tones: frozenset[int]  # the chord's pitch classes, slash bass included
    bass: int  # the pitch class of its lowest note as written


@dataclass(frozen=True, slots=True)
class Harmony:
    name: str  # "Axis progression", "C – F – G – C"
    symbols: tuple[str, ...]  # one loop's chords: ("Am", "F", "C", "G")
    spans: tuple[ChordSpan, ...]  # the loop repeated: span i plays the loop's chord i % loop
    loop: int
    starts: tuple[float, ...]

    def index_at(self, beat: float) -> int:
        """The index of the span sounding at ``beat`` (the last one from its end on)."""
        return max(0, min(len(self.spans) - 1, bisect.bisect_right(self.starts, beat) - 1))

    def at(self, beat: float) -> ChordSpan:
        return self.spans[self.index_at(beat)]

    def after(self, beat: float) -> ChordSpan:
        """The span after the one sounding at ``beat`` (the first after the last: loops go round)."""
        return self.spans[(self.index_at(beat) + 1) % len(self.spans)]

    def voicings(self, *, low: int, high: int, voices: int) -> list[tuple[int, ...]]:
        """One voice-led voicing per span: the loop is voice-led once (closing back on its
        first chord) and repeated."""
        loop = tuple(span.chord for span in self.spans[: self.loop])
        led = _voice_led(loop, low, high, voices)
        return [led[index % self.loop] for index in range(len(self.spans))]


@functools.lru_cache(maxsize=1024)
def _voice_led(chords: tuple[Chord, ...], low: int, high: int, voices: int) -> tuple[tuple[int, ...], ...]:
    return voice_lead(chords, low=low, high=high, voices=voices)


def leading_tone(key: Key) -> int | None:
    """The harmonic-minor leading tone's pitch class in a minor key; None otherwise."""
    return key.tonic.transpose(_MAJOR_SEVENTH).pc if key.mode is Mode.MINOR else None


@functools.lru_cache(maxsize=256)
def key_tones(key: Key) -> frozenset[int]:
    """The pitch classes a part in ``key`` may use freely: the scale, and the leading tone."""
    tones = set(key.scale.pitch_classes)
    lead = leading_tone(key)
    if lead is not None:
        tones.add(lead)
    return frozenset(tones)


Steps = tuple[tuple[Chord, float], ...]  # a chord and its length in bars


def _numerals(text: str, key: Key) -> Steps:
    steps = []
    for step in text.split():
        numeral, _, length = step.partition(":")
        steps.append((parse_roman(numeral).chord(key), float(length or 1)))
    return tuple(steps)


def _from_vi(steps: Steps, numerals: tuple[str, ...]) -> Steps | None:
    for index, numeral in enumerate(numerals):
        if numeral.startswith("vi") and not numeral.startswith("vii"):
            return steps[index:] + steps[:index]
    return None


def _candidates(key: Key, style: str, tags: tuple[str, ...] | tuple[None]) -> list[tuple[str, Steps, float]]:
    allowed = key_tones(key)
    found: dict[str, tuple[str, Steps, float]] = {}
    for tag in tags:
        for progression in progressions_for(genre=tag, mode=key.mode):
            found.setdefault(progression.id, (progression.name, progression.timed(key), progression.weight))
        if key.mode is Mode.MINOR:
            relative = key.relative_major
            for progression in progressions_for(genre=tag, mode=Mode.MAJOR):
                rotated = (
                    _from_vi(progression.timed(relative), progression.numerals) if progression.loops else None
                )
                if rotated is not None:
                    name = f"{progression.name}, from vi"
                    found.setdefault(progression.id, (name, rotated, progression.weight * 0.8))
    fitting = [
        entry for entry in found.values() if all(chord.pitch_classes <= allowed for chord, _ in entry[1])
    ]
    if style == "blues" and key.mode in _TRIAD_BLUES:
        fitting.append(("12-bar blues in triads", _numerals(_TRIAD_BLUES[key.mode], key), 1.0))
    return fitting


@functools.lru_cache(maxsize=512)
def _options(key: Key, style: str, tags: tuple[str, ...]) -> tuple[tuple[str, Steps, float], ...]:
    """The candidates for a style in a key, in a stable order for the seeded choice."""
    options = _candidates(key, style, tags) or _candidates(key, style, (None,))
    return tuple(sorted(options, key=lambda entry: entry[0]))


def choose_harmony(key: Key, style: Style, bars: int, rng: random.Random, bar_beats: float = 4.0) -> Harmony:
    """A progression for ``style`` in ``key``, looped (and cut) to ``bars`` bars of
    ``bar_beats`` quarter notes; a chord's length in bars is kept in any meter."""
    options = _options(key, style.name, style.progression_tags)
    if options:
        name, steps, _ = rng.choices(options, weights=[entry[2] for entry in options])[0]
    else:
        cadence = _CADENCE.get(key.mode)
        steps = _numerals(cadence, key) if cadence else ()
        if not all(chord.pitch_classes <= key_tones(key) for chord, _ in steps) or not steps:
            steps = tuple((_triad(key, degree), 1.0) for degree in (0, 3, 4, 0))
        name = " – ".join(str(chord) for chord, _ in steps)
    spans: list[ChordSpan] = []
    total = bars * bar_beats
    start = 0.0
    while start < total:
        for chord, length in steps:
            end = min(start + length * bar_beats, total)
            spans.append(ChordSpan(start, end, chord, chord.pitch_classes, chord.bass_note.pc))
            start = end
            if start >= total:
                break
    loop = min(len(steps), len(spans))
    symbols = tuple(str(chord) for chord, _ in steps)
    return Harmony(name, symbols, tuple(spans), loop, tuple(span.start for span in spans))


def _triad(key: Key, degree: int) -> Chord:
    """The triad stacked in thirds on a scale degree (0-based) of the key's own scale."""
    notes = key.scale.notes
    root, third, fifth = notes[degree], notes[(degree + 2) % 7], notes[(degree + 4) % 7]
    kind = {(4, 7): "", (3, 7): "m", (3, 6): "dim", (4, 8): "aug"}[
        ((third.pc - root.pc) % 12, (fifth.pc - root.pc) % 12)
    ]
    return Chord(root, kind)
