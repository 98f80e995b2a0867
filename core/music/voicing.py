"""Voice leading: voicings for a chord sequence that move the voices as little as possible.

Each chord is reduced or doubled to the number of voices: the tones are ranked root (or
the slash bass), third (or the suspended tone), seventh or sixth, altered fifth, the
extensions from the highest down, then the fifth, and the first ones are kept; a chord with
fewer tones than voices doubles its root, then its fifth. Every voicing of those tones within
the range, no wider than ``max_spread`` and with a slash chord's bass at the bottom, is a
candidate (when none fits, another doubling, then the whole range); a dynamic programme
over the sequence picks the candidates whose total motion (the
sum over voices of the semitones each moves, voices paired lowest to lowest) is least, and
among equals the first chord nearest the middle of the range, then the lowest voicings.
The same input always gives the same voicings.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence

from dawai.core.music.chords import Chord
from dawai.core.music.pitch import Interval

__all__ = ["chord_tones_for_voices", "voice_lead"]

Voicing = tuple[int, ...]


def _rank(interval: Interval, has_third: bool) -> tuple[int, int]:
    number = interval.number
    if interval.step == 0:
        return (0, 0)
    if interval.step == 2 or (not has_third and number in (2, 4)):
        return (1, 0)
    if interval.step == 6 or number == 6:
        return (2, 0)
    if interval.step == 4:
        return (3, 0) if interval.shift else (9, 0)
    return (4, -number)


def chord_tones_for_voices(chord: Chord, voices: int) -> tuple[int, ...]:
    """The pitch classes ``voices`` voices play for ``chord``, most important first (see the
    module doc); a slash chord's bass comes first."""
    return _tone_sets(chord, voices)[0]


def _tone_sets(chord: Chord, voices: int) -> list[tuple[int, ...]]:
    """The tones to voice, the preferred doubling first and then the others to fall back on."""
    if voices < 1:
        raise ValueError("voices must be at least 1")
    has_third = chord.third is not None
    ranked = sorted(chord.intervals, key=lambda interval: _rank(interval, has_third))
    tones = [chord.root.transpose(interval).pc for interval in ranked]
    if chord.bass is not None:
        tones = [chord.bass.pc, *(tone for tone in tones if tone != chord.bass.pc)]
    chosen = tones[:voices]
    if len(chosen) == voices:
        return [tuple(chosen)]
    fifths = [chord.root.transpose(interval).pc for interval in ranked if interval.step == 4]
    order = list(dict.fromkeys([chord.root.pc, *fifths, *chosen]))
    # each missing voice doubles a tone, cycling through the order from a different start
    return [
        tuple(chosen + [order[(start + i) % len(order)] for i in range(voices - len(chosen))])
        for start in range(len(order))
    ]


@functools.lru_cache(maxsize=512)
def _candidates(
    tones: tuple[int, ...], bass: int | None, low: int, high: int, max_spread: int
) -> tuple[Voicing, ...]:
    options = [[note for note in range(low, high + 1) if note % 12 == tone] for tone in tones]
    found = set()
    for combination in itertools.product(*options):
        voicing = tuple(sorted(combination))
        if len(set(voicing)) != len(voicing) or voicing[-1] - voicing[0] > max_spread:
            continue
        if bass is not None and voicing[0] % 12 != bass:
            continue
        found.add(voicing)
    return tuple(sorted(found))


def _motion(a: Voicing, b: Voicing) -> int:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True))


def voice_lead(
    chords: Sequence[Chord],
    *,
    low: int = 48,
    high: int = 72,
    voices: int = 4,
    max_spread: int | None = None,
) -> tuple[Voicing, ...]:
    """One voicing per chord (MIDI notes, lowest first) within ``low``-``high``, moving least.

    ``max_spread`` bounds the distance from the lowest voice to the highest (by default an
    octave for up to four voices, three semitones more for each voice beyond); a chord that
    has no voicing within it is voiced over the whole range. ValueError when the range cannot
    hold the voices at all.
    """
    if not 0 <= low <= high <= 127:
        raise ValueError(f"the range {low}-{high} is not within MIDI notes 0-127")
    spread = max_spread if max_spread is not None else max(12, 12 + 3 * (voices - 4))
    layers: list[tuple[Voicing, ...]] = []
    for chord in chords:
        bass = chord.bass.pc if chord.bass is not None else None
        options = _tone_sets(chord, voices)
        layer: tuple[Voicing, ...] = ()
        for width in (spread, high - low):
            for tones in options:
                layer = _candidates(tones, bass, low, high, width)
                if layer:
                    break
            if layer:
                break
        if not layer:
            raise ValueError(f"no {voices}-voice voicing of {chord} fits in MIDI notes {low}-{high}")
        layers.append(layer)
    if not layers:
        return ()
    middle = low + high
    # cost[i] = (total motion so far, the first chord's distance from the middle) for layer's i-th
    cost = [(0, sum(abs(2 * note - middle) for note in voicing)) for voicing in layers[0]]
    back: list[list[int]] = []
    for previous, layer in itertools.pairwise(layers):
        step_cost: list[tuple[int, int]] = []
        step_back: list[int] = []
        for voicing in layer:
            best = min(
                range(len(previous)),
                key=lambda i: (cost[i][0] + _motion(previous[i], voicing), cost[i][1]),
            )
            step_cost.append((cost[best][0] + _motion(previous[best], voicing), cost[best][1]))
            step_back.append(best)
        cost = step_cost
        back.append(step_back)
    index = min(range(len(cost)), key=lambda i: cost[i])
    path = [index]
    for step_back in reversed(back):
        index = step_back[index]
        path.append(index)
    path.reverse()
    return tuple(layer[i] for layer, i in zip(layers, path, strict=True))
