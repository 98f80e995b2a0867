"""Key estimation from notes: duration-weighted key profiles correlated over the 24 keys.

The notes' durations are summed per pitch class, and the histogram is correlated (Pearson)
with a major and a minor key profile rotated to each of the twelve tonics; the key whose
profile correlates best wins (the Krumhansl–Schmuckler method). Three profile sets are here:

* ``krumhansl_kessler``: probe-tone ratings (Krumhansl & Kessler 1982);
* ``temperley``: Temperley's profiles from the Kostka–Payne corpus (Temperley 2007);
* ``albrecht_shanahan``: note-duration distributions of a corpus of major- and minor-mode
  pieces (Albrecht & Shanahan 2013).

The default is Albrecht–Shanahan, chosen by ``bench/music.py --section keys`` by the rule in
docs/adr/0025: it meets the goals on generated material, and is the most accurate on real
music (Bach chorales and Essen folk songs together, Temperley a close second).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from dawai.core.music.keys import Key
from dawai.core.music.scales import Mode

__all__ = [
    "DEFAULT_PROFILE",
    "KEY_PROFILES",
    "KeyEstimate",
    "KeyProfile",
    "NoteLike",
    "estimate_key",
    "key_scores",
    "pitch_class_histogram",
]


class NoteLike(Protocol):
    """Anything with a MIDI ``pitch`` and a ``duration`` (seconds or beats: only ratios count)."""

    @property
    def pitch(self) -> int: ...

    @property
    def duration(self) -> float: ...


@dataclass(frozen=True, slots=True)
class KeyProfile:
    """Weights of the twelve pitch classes from the tonic up, for major and for minor keys."""

    name: str
    major: tuple[float, ...]
    minor: tuple[float, ...]


KEY_PROFILES: Final[Mapping[str, KeyProfile]] = {
    profile.name: profile
    for profile in (
        KeyProfile(
            "krumhansl_kessler",
            (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
            (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
        ),
        KeyProfile(
            "temperley",
            (0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400),
            (0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330),
        ),
        KeyProfile(
            "albrecht_shanahan",
            (0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081),
            (0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052),
        ),
    )
}
DEFAULT_PROFILE: Final = "albrecht_shanahan"


@dataclass(frozen=True, slots=True)
class KeyEstimate:
    """The best key, its correlation, and how far it stands above the runner-up.

    ``confidence`` is the correlation clipped to 0..1; ``margin`` is the best correlation
    minus the second best (near 0: the music fits two keys about equally, often a relative
    or a fifth-related pair); ``ranking`` lists all 24 keys with their correlations, best first.
    """

    key: Key
    correlation: float
    confidence: float
    margin: float
    ranking: tuple[tuple[Key, float], ...]


def pitch_class_histogram(notes: Iterable[NoteLike]) -> tuple[float, ...]:
    """Total duration per pitch class (0 = C); notes with no positive duration count nothing."""
    totals = [0.0] * 12
    for note in notes:
        if note.duration > 0:
            totals[note.pitch % 12] += note.duration
    return tuple(totals)


@functools.cache
def _templates(profile: str) -> tuple[tuple[Key, tuple[float, ...], float], ...]:
    """Each of the 24 keys with its profile laid over the pitch classes (C = 0), centred, and
    the profile's norm: the histogram is then centred once and correlated by dot products."""
    weights = KEY_PROFILES[profile]
    templates = []
    for mode, shape in ((Mode.MAJOR, weights.major), (Mode.MINOR, weights.minor)):
        mean = sum(shape) / 12
        for tonic in range(12):
            laid = tuple(shape[(pc - tonic) % 12] - mean for pc in range(12))
            templates.append((Key.canonical(tonic, mode), laid, math.sqrt(sum(w * w for w in laid))))
    return tuple(templates)


def key_scores(histogram: tuple[float, ...], profile: str = DEFAULT_PROFILE) -> tuple[tuple[Key, float], ...]:
    """The Pearson correlation of a pitch-class histogram with each of the 24 keys' profiles,
    best first (ties in key order: C major, Db major ... B minor)."""
    mean = sum(histogram) / 12
    centred = [value - mean for value in histogram]
    norm = math.sqrt(sum(value * value for value in centred))
    scores = [
        (key, sum(a * b for a, b in zip(centred, laid, strict=True)) / (norm * size) if norm else 0.0)
        for key, laid, size in _templates(profile)
    ]
    return tuple(sorted(scores, key=lambda item: -item[1]))


def estimate_key(notes: Iterable[NoteLike], profile: str = DEFAULT_PROFILE) -> KeyEstimate | None:
    """The key of ``notes`` by ``profile`` (a key of ``KEY_PROFILES``); None when nothing sounds
    or every pitch class sounds equally long, so that no key fits better than another."""
    if profile not in KEY_PROFILES:
        raise ValueError(f"unknown key profile {profile!r}; one of {', '.join(KEY_PROFILES)}")
    histogram = pitch_class_histogram(notes)
    if max(histogram) - min(histogram) <= 1e-12 * max(max(histogram), 1.0):
        return None
    ranking = key_scores(histogram, profile)
    (best, correlation), (_, second) = ranking[0], ranking[1]
    return KeyEstimate(best, correlation, min(max(correlation, 0.0), 1.0), correlation - second, ranking)
