"""Analysis of notes: the chord of each bar, and a track's or project's figures and key.

**Chord naming** (``name_chord``) scores every root with every kind of ``CHORD_VOCABULARY``
(triads, power chords, sus chords and the common sevenths) against the duration each pitch
class sounds, normalised to sum to 1::

    score = (weight of the chord's tones) - (weight of the other tones)
            - the cost of each chord tone that does not sound (0.2, but a perfect fifth
              0.05: voicings leave it out)
            - 0.1 per tone beyond three (a seventh must sound for about 5% of the bar)
            + 0.04 when the root is the bass

and the best wins (only roots that sound are tried, so a rootless voicing is named by its
sounding notes); on a tie, the root in the bass, then the simpler kind (the vocabulary's
order). A bass that is a chord tone other than the root makes a slash chord (``C/E``); one
that is not a chord tone is a passing note and is left out of the symbol. Sixth chords are
not in the vocabulary: C E G A is named ``Am7/C``, as the same notes over A are ``Am7``.
A bar with fewer than two pitch classes has no chord.

The root is spelled by the key given (``Key.spell``), the slash bass as that chord spells
its tone, so D major's chords read ``F#m`` and ``D/F#``.

**Track figures** (``analyse_notes``): note count, lowest and highest pitch, notes per
second over the project's length, the duration-weighted key estimate and the chord of each
bar that has notes (bars from 1, on a ``BarGrid``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from dawai.core.music.chords import CHORD_KINDS, Chord
from dawai.core.music.key_estimation import DEFAULT_PROFILE, KeyEstimate, estimate_key
from dawai.core.music.keys import Key
from dawai.core.music.meter import BarGrid

__all__ = [
    "CHORD_VOCABULARY",
    "DEFAULT_MAX_BARS",
    "BarChord",
    "NoteAnalysis",
    "TimedNote",
    "analyse_notes",
    "bar_chords",
    "name_chord",
]

# Kinds chords are named with, simplest first (the tie-break order).
CHORD_VOCABULARY: Final = ("", "m", "5", "sus4", "sus2", "dim", "aug",
                           "7", "m7", "maj7", "m7b5", "dim7", "mMaj7", "7sus4")  # fmt: skip
DEFAULT_MAX_BARS: Final = 512

_MISSING_FIFTH: Final = 0.05
_MISSING_OTHER: Final = 0.2
_EXTRA_TONE: Final = 0.1
_ROOT_IN_BASS: Final = 0.04
# A tone sounding for less than this share of the bar's sound counts as missing.
_AUDIBLE: Final = 0.02
_TIE: Final = 1e-9
_C_MAJOR: Final = Key.canonical(0)


class TimedNote(Protocol):
    """A note with a MIDI ``pitch``, a start ``time`` and a ``duration`` (both in seconds)."""

    @property
    def pitch(self) -> int: ...

    @property
    def time(self) -> float: ...

    @property
    def duration(self) -> float: ...


@dataclass(frozen=True, slots=True)
class _Template:
    """One kind on one root: its pitch classes, and which are a perfect fifth (cheap to
    miss) and which another tone, as bit masks over the pitch classes."""

    root: int
    kind: str
    rank: int  # the kind's place in the vocabulary: the tie-break
    pitch_classes: tuple[int, ...]
    fifth_mask: int
    other_mask: int
    fixed_cost: float  # for tones beyond three


def _templates() -> tuple[tuple[_Template, ...], ...]:
    """Per root, the vocabulary's templates."""
    by_root = []
    for root in range(12):
        templates = []
        for rank, kind in enumerate(CHORD_VOCABULARY):
            intervals = CHORD_KINDS[kind]
            fifth = other = 0
            for interval in intervals:
                bit = 1 << ((root + interval.semitones) % 12)
                if interval.semitones == 0:
                    continue  # the root sounds: only sounding roots are tried
                if interval.step == 4 and interval.shift == 0:
                    fifth |= bit
                else:
                    other |= bit
            pcs = tuple((root + interval.semitones) % 12 for interval in intervals)
            extra = _EXTRA_TONE * max(len(intervals) - 3, 0)
            templates.append(_Template(root, kind, rank, pcs, fifth, other, extra))
        by_root.append(tuple(templates))
    return tuple(by_root)


_TEMPLATES: Final = _templates()


def name_chord(weights: Sequence[float], bass: int | None = None, key: Key | None = None) -> Chord | None:
    """The chord that best explains ``weights`` (12 durations, C = 0), with ``bass`` (a pitch
    class, or None) and spelled in ``key`` (C major when None); None under two pitch classes."""
    if len(weights) != 12:
        raise ValueError("weights are 12 durations, one per pitch class from C")
    total = sum(weight for weight in weights if weight > 0)
    if total <= 0 or sum(1 for weight in weights if weight > 0) < 2:
        return None
    shares = [max(weight, 0.0) / total for weight in weights]
    quiet = sum(1 << pc for pc in range(12) if shares[pc] < _AUDIBLE)
    bass_pc = None if bass is None else bass % 12
    best_score = -math.inf
    chosen: _Template | None = None
    for root in range(12):
        if shares[root] <= 0:  # a chord is named by a root that sounds
            continue
        bonus = _ROOT_IN_BASS if root == bass_pc else 0.0
        for template in _TEMPLATES[root]:
            inside = 0.0
            for pc in template.pitch_classes:
                inside += shares[pc]
            score = 2 * inside - template.fixed_cost + bonus
            if score < best_score - _TIE:
                continue  # missing tones only lower it
            missed = template.fifth_mask & quiet, template.other_mask & quiet
            if missed[0] or missed[1]:
                score -= _MISSING_FIFTH * missed[0].bit_count() + _MISSING_OTHER * missed[1].bit_count()
            if score > best_score + _TIE or (score >= best_score - _TIE and _wins(template, chosen, bass_pc)):
                best_score, chosen = max(score, best_score), template
    assert chosen is not None
    return _spelled(chosen.root, chosen.kind, bass_pc, key or _C_MAJOR)


def _wins(template: _Template, chosen: _Template | None, bass: int | None) -> bool:
    """On a tie: the root in the bass, then the simpler kind, then the lower root."""
    if chosen is None:
        return True
    return (template.root == bass, -template.rank, -template.root) > (
        chosen.root == bass,
        -chosen.rank,
        -chosen.root,
    )


def _spelled(root: int, kind: str, bass: int | None, key: Key) -> Chord:
    chord = Chord(key.spell(root), kind)
    if bass is None or bass == root:
        return chord
    for note in chord.notes:
        if note.pc == bass:
            return Chord(chord.root, chord.kind, bass=note)
    return chord


@dataclass(frozen=True, slots=True)
class BarChord:
    bar: int  # from 1
    chord: Chord


def bar_chords(
    notes: Iterable[TimedNote], grid: BarGrid, key: Key | None = None, *, max_bars: int = DEFAULT_MAX_BARS
) -> tuple[BarChord, ...]:
    """The chord of each of the first ``max_bars`` bars that has a chord (see ``name_chord``).

    A note counts in each bar it sounds in, for the time it sounds there; the bar's bass is
    its lowest note that sounds for at least a sixteenth of the bar (or its lowest note).
    A note's first and last bars are measured; the bars between, which it fills, are one
    run per note (counted in one sweep over the bars), so a long note costs no more than a
    short one.
    """
    bar_length = grid.bar_seconds
    weights: dict[int, list[float]] = {}
    lowest: dict[int, int] = {}
    lowest_held: dict[int, int] = {}
    runs: dict[int, list[tuple[int, int]]] = {}  # bar -> (pitch, +1 / -1): a run starts / ends

    def count(bar: int, pitch: int, overlap: float) -> None:
        weights.setdefault(bar, [0.0] * 12)[pitch % 12] += overlap
        lowest[bar] = min(lowest.get(bar, 128), pitch)
        if overlap >= bar_length / 16:
            lowest_held[bar] = min(lowest_held.get(bar, 128), pitch)

    for note in notes:
        if note.duration <= 0:
            continue
        start, end, pitch = note.time, note.time + note.duration, note.pitch
        first = grid.bar_at(start)
        if first > max_bars or (first - 1) * bar_length >= end:
            continue
        last = max(first, math.ceil(end / bar_length))  # the last bar that begins before the end
        while last > first and (last - 1) * bar_length >= end:
            last -= 1
        while last < max_bars and last * bar_length < end:
            last += 1
        last = min(last, max_bars)
        for bar in (first, last) if last > first else (first,):
            bar_start = (bar - 1) * bar_length
            overlap = min(end, bar_start + bar_length) - max(start, bar_start)
            if overlap > 0:
                count(bar, pitch, overlap)
        if last - first > 1:
            runs.setdefault(first + 1, []).append((pitch, 1))
            runs.setdefault(last, []).append((pitch, -1))
    if runs:
        filling: dict[int, int] = {}  # pitch -> how many notes fill the bar with it
        for bar in range(min(runs), max(runs)):
            for pitch, change in runs.get(bar, ()):
                filling[pitch] = filling.get(pitch, 0) + change
            for pitch, notes_held in filling.items():
                if notes_held:
                    count(bar, pitch, notes_held * bar_length)
    chords = []
    named: dict[tuple[tuple[float, ...], int], Chord | None] = {}  # bars held alike are named once
    for bar in sorted(weights):
        bass = lowest_held.get(bar, lowest[bar])
        sound = (tuple(weights[bar]), bass)
        if sound not in named:
            named[sound] = name_chord(weights[bar], bass, key)
        chord = named[sound]
        if chord is not None:
            chords.append(BarChord(bar, chord))
    return tuple(chords)


@dataclass(frozen=True, slots=True)
class NoteAnalysis:
    """A track's (or a project's) figures; ``pitch_range`` and ``key`` are None without notes."""

    note_count: int
    pitch_range: tuple[int, int] | None
    density: float  # notes per second of ``length``
    key: KeyEstimate | None
    chords: tuple[BarChord, ...]


def analyse_notes(
    notes: Sequence[TimedNote],
    grid: BarGrid,
    length: float,
    *,
    pitched: bool = True,
    spelling_key: Key | None = None,
    profile: str = DEFAULT_PROFILE,
    max_bars: int = DEFAULT_MAX_BARS,
) -> NoteAnalysis:
    """Figures for ``notes`` over ``length`` seconds. ``pitched=False`` (drums) skips the key
    and the chords; chords are spelled in the notes' own key, else ``spelling_key``."""
    pitches = [note.pitch for note in notes]
    pitch_range = (min(pitches), max(pitches)) if pitches else None
    density = len(notes) / length if length > 0 else 0.0
    if not pitched:
        return NoteAnalysis(len(notes), pitch_range, density, None, ())
    estimate = estimate_key(notes, profile)
    key = estimate.key if estimate is not None else spelling_key
    return NoteAnalysis(
        len(notes), pitch_range, density, estimate, bar_chords(notes, grid, key, max_bars=max_bars)
    )
