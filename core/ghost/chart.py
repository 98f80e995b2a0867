"""Chord charts: reading typed chords, the chord-to-chord table, and what comes next.

The table is built from the named progressions of ``dawai.core.music.progressions``:
every step of every progression (and the wrap of those that loop) is a transition from one
numeral to the next, weighted by the progression's weight, kept per mode family (major-like:
ionian, lydian, mixolydian; minor-like: the rest) because a minor progression's ``bVI`` is
not a major key's. Numerals are compared by their triad (``vi7`` and ``vi`` alike), so after
``Am7`` in C the table's ``vi`` rows answer. Two typed chords in a row also match the
progressions that contain that pair, which count twice.

Numerals are counted on the tonic's major scale (ADR 22), so one table serves every key:
the next chords are spelled in the song's key (``context.key``, else estimated from the
typed chords).
"""

from __future__ import annotations

import functools
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from dawai.core.music import (
    PROGRESSIONS,
    Chord,
    Key,
    MusicParseError,
    RomanNumeral,
    diatonic_chords,
    key_scores,
    parse_chord,
    parse_key,
    parse_roman,
    roman_for,
)
from dawai.core.music.scales import Mode

__all__ = ["ChartToken", "Transition", "chart_key", "next_numerals", "read_token", "transition_counts"]

_MAJOR_LIKE: Final = frozenset({Mode.IONIAN, Mode.LYDIAN, Mode.MIXOLYDIAN})


def family(mode: Mode) -> str:
    return "major" if mode in _MAJOR_LIKE else "minor"


@dataclass(frozen=True, slots=True)
class ChartToken:
    text: str
    chord: Chord | None  # a chord symbol
    numeral: RomanNumeral | None  # a Roman numeral


@functools.lru_cache(maxsize=4096)
def read_token(text: str) -> ChartToken | None:
    """A chord symbol (``Am7``, ``F/G``) or a Roman numeral (``vi``, ``V7/V``), or None."""
    cleaned = text.strip("|[]")
    if cleaned.startswith("(") and cleaned.endswith(")") and cleaned.count("(") == 1:
        cleaned = cleaned[1:-1]  # (G7): a passing or optional chord
    if not cleaned or len(cleaned) > 32:
        return None
    try:
        return ChartToken(cleaned, parse_chord(cleaned), None)
    except (MusicParseError, ValueError):
        pass
    try:
        return ChartToken(cleaned, None, parse_roman(cleaned))
    except (MusicParseError, ValueError, IndexError):
        return None


def triad_name(numeral: RomanNumeral) -> str:
    """The numeral reduced to its degree and triad quality, no bass: ``vi7`` -> ``vi``."""
    kind = {"m7b5": "dim", "dim7": "dim"}.get(numeral.kind, numeral.kind)
    minor = numeral.minor
    triad = "dim" if kind == "dim" else ("m" if minor else "")
    return str(RomanNumeral(numeral.degree, numeral.accidental, triad))


@dataclass(frozen=True, slots=True)
class Transition:
    numeral: RomanNumeral  # as the progression writes it (``iii7``)
    weight: float
    progression: str  # the id of the progression it comes from (the first, when several)


def _build() -> tuple[dict[tuple[str, str], list[Transition]], dict[tuple[str, str, str], list[Transition]]]:
    single: dict[tuple[str, str], dict[str, Transition]] = defaultdict(dict)
    double: dict[tuple[str, str, str], dict[str, Transition]] = defaultdict(dict)
    for progression in PROGRESSIONS:
        numerals = [numeral for numeral, _ in progression.steps]
        fam = family(progression.mode)
        pairs = list(itertools.pairwise(numerals))
        if progression.loops:
            pairs.append((numerals[-1], numerals[0]))
        for before, after in pairs:
            _add(single[(fam, triad_name(before))], after, progression.weight, progression.id)
        ring = numerals + numerals[:2] if progression.loops else numerals
        for first, second, third in zip(ring, ring[1:], ring[2:], strict=False):
            _add(
                double[(fam, triad_name(first), triad_name(second))],
                third,
                progression.weight,
                progression.id,
            )
    return (
        {key: sorted(rows.values(), key=lambda t: -t.weight) for key, rows in single.items()},
        {key: sorted(rows.values(), key=lambda t: -t.weight) for key, rows in double.items()},
    )


def _add(rows: dict[str, Transition], numeral: RomanNumeral, weight: float, source: str) -> None:
    name = str(numeral)
    old = rows.get(name)
    rows[name] = Transition(
        numeral, weight + (old.weight if old else 0.0), old.progression if old else source
    )


_SINGLE, _DOUBLE = _build()


def transition_counts() -> tuple[int, int]:
    """Distinct (from, to) numeral transitions, and distinct two-chord contexts, in the table."""
    return sum(len(rows) for rows in _SINGLE.values()), len(_DOUBLE)


def chart_key(tokens: Sequence[ChartToken], hint: str | None) -> Key:
    return _chart_key(tuple(token.chord for token in tokens[-8:] if token.chord is not None), hint)


@functools.lru_cache(maxsize=2048)
def _chart_key(chords: tuple[Chord, ...], hint: str | None) -> Key:
    """``hint`` (the song's key, as musicians write it) when it reads as a key; else the one
    of the 24 keys the typed chords fit best: the pitch-class profile's correlation
    (``key_scores``), plus the table's weights of the typed chord-to-chord steps read in that key,
    plus a little when the first or last chord is the key's tonic chord (songs tend to start
    and end at home). C major when there are no chords."""
    if hint:
        try:
            return parse_key(hint)
        except MusicParseError:
            pass
    if not chords:
        return Key.canonical(0)
    histogram = [0.0] * 12
    for chord in chords:
        for pc in chord.pitch_classes:
            histogram[pc] += 1.0
        histogram[chord.root.pc] += 0.5
    best, best_score = Key.canonical(0), float("-inf")
    for key, correlation in key_scores(tuple(histogram)):
        score = correlation + 0.4 * _known_steps(chords, key)
        tonic = diatonic_chords(key)[0]
        for end in {0, len(chords) - 1}:
            if chords[end].root.pc == tonic.root.pc and chords[end].third == tonic.third:
                score += 0.2
        if score > best_score:
            best, best_score = key, score
    return best


def _known_steps(chords: Sequence[Chord], key: Key) -> float:
    """The table's weights of the typed chord-to-chord steps, read in ``key``."""
    fam = family(key.mode)
    steps = 0.0
    for before, after in itertools.pairwise(chords):
        rows = _SINGLE.get((fam, triad_name(roman_for(before, key))), ())
        target = triad_name(roman_for(after, key))
        steps += sum(row.weight for row in rows if triad_name(row.numeral) == target)
    return steps


def numeral_in(token: ChartToken, key: Key) -> RomanNumeral:
    if token.numeral is not None:
        return token.numeral
    assert token.chord is not None
    return roman_for(token.chord, key)


def next_numerals(tokens: Sequence[ChartToken], key: Key, limit: int = 5) -> list[tuple[RomanNumeral, float]]:
    """The likeliest next numerals after the typed chords, with weights 0..1, best first."""
    fam = family(key.mode)
    scores: dict[str, tuple[RomanNumeral, float]] = {}
    if tokens:
        last = triad_name(numeral_in(tokens[-1], key))
        if len(tokens) >= 2:
            before = triad_name(numeral_in(tokens[-2], key))
            for transition in _DOUBLE.get((fam, before, last), ()):
                _score(scores, transition.numeral, 2.0 * transition.weight)
        for transition in _SINGLE.get((fam, last), ()):
            _score(scores, transition.numeral, transition.weight)
    if len(scores) < limit:  # nothing known after it: the key's own chords, home first
        for index in (0, 4, 3, 5, 1):
            chord = diatonic_chords(key)[index]
            _score(scores, roman_for(chord, key), 0.05)
    ranked = sorted(scores.values(), key=lambda item: (-item[1], str(item[0])))[:limit]
    top = ranked[0][1] if ranked else 1.0
    return [(numeral, score / top) for numeral, score in ranked]


def _score(scores: dict[str, tuple[RomanNumeral, float]], numeral: RomanNumeral, weight: float) -> None:
    name = triad_name(numeral)
    old = scores.get(name)
    if old is None:
        scores[name] = (numeral, weight)
    else:
        scores[name] = (old[0], old[1] + weight)
