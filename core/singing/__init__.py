"""Singing synthesis in the domain (dawai.core.singing): the pieces every voice shares.

- ``phonemes``: the phoneme inventory (OpenJTalk's Japanese, ARPAbet English, SP/AP/cl);
- ``lyrics``: a note's lyric to a syllable (onset, nucleus, coda; ``+``, rests, breaths);
- ``timing``: rule-based alignment of phonemes to frames (hop 512 at 44.1 kHz), counts
  that always sum to the render's length;
- ``pitch``: the f0 curve from the notes, with portamento and optional vibrato;
- ``score``: checks, limits and the normal form the phrase cache keys on;
- ``service``: ``SingingService``, which the routes call.

A voice composes them: G2P (an adapter) -> ``syllables`` -> ``align`` -> ``f0_curve`` ->
its own acoustic model and vocoder (the built-in voice: a formant synthesiser).

``pitch`` (numpy) is imported on first use of its names, so a server that sings nothing
never loads numpy.
"""

from typing import Any

from dawai.core.singing.lyrics import G2P, Syllable, detect_language, syllables
from dawai.core.singing.phonemes import BREATH, CLOSURE, SILENCE, is_vowel, kind_of
from dawai.core.singing.score import SingingLimits, cache_key, prepare
from dawai.core.singing.service import Rendered, SingingService
from dawai.core.singing.timing import Alignment, align

__all__ = [
    "BREATH",
    "CLOSURE",
    "G2P",
    "SILENCE",
    "Alignment",
    "Rendered",
    "SingingLimits",
    "SingingService",
    "Syllable",
    "Vibrato",
    "align",
    "cache_key",
    "detect_language",
    "f0_curve",
    "is_vowel",
    "kind_of",
    "midi_to_hz",
    "prepare",
    "syllables",
]


_LAZY = {"Vibrato", "f0_curve", "midi_to_hz"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from dawai.core.singing import pitch

        return getattr(pitch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
