"""The phoneme inventory the singing pipeline speaks: Japanese as OpenJTalk writes it
(``a i u e o N cl``, ``k``, ``sh``, ``ky``, ...), English as ARPAbet in lower case with the
stress digits stripped (``aa``, ``ae``, ``hh``, ``ng``, ...), and the three specials
``SP`` (silence), ``AP`` (a breath) and ``cl`` (a glottal closure: Japanese ``っ``).

The two sets never collide: ARPAbet vowels have two letters, OpenJTalk's one. A voicebank
maps these names through its own dictionary; the built-in voice synthesises them directly.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "BREATH",
    "CLOSURE",
    "KINDS",
    "SILENCE",
    "PhonemeKind",
    "is_vowel",
    "kind_of",
]

SILENCE = "SP"
BREATH = "AP"
CLOSURE = "cl"

PhonemeKind = Literal[
    "vowel", "stop", "voiced_stop", "fricative", "voiced_fricative", "affricate", "nasal", "liquid", "glide",
    "aspirate", "closure", "silence", "breath",
]  # fmt: skip

_VOWELS = ("a", "i", "u", "e", "o", "N")  # OpenJTalk's, the moraic nasal counted
_ARPABET_VOWELS = ("aa", "ae", "ah", "ao", "aw", "ay", "eh", "er", "ey", "ih", "iy", "ow", "oy", "uh", "uw")
KINDS: dict[str, PhonemeKind] = {
    **{v: "vowel" for v in (*_VOWELS, *_ARPABET_VOWELS)},
    **{c: "stop" for c in ["p", "t", "k", "ky", "py", "ty"]},
    **{c: "voiced_stop" for c in ["b", "d", "g", "gy", "by", "dy"]},
    **{c: "fricative" for c in ["s", "sh", "f", "th", "hy"]},
    **{c: "voiced_fricative" for c in ["z", "zh", "v", "dh"]},
    **{c: "affricate" for c in ["ch", "ts", "j", "jh"]},
    **{c: "nasal" for c in ["m", "n", "ng", "my", "ny"]},
    **{c: "liquid" for c in ["r", "l", "ry"]},
    **{c: "glide" for c in ["w", "y"]},
    "h": "aspirate",
    "hh": "aspirate",
    CLOSURE: "closure",
    SILENCE: "silence",
    BREATH: "breath",
}


def kind_of(phoneme: str) -> PhonemeKind:
    """The class of a phoneme in the inventory; KeyError for one outside it."""
    return KINDS[phoneme]


def is_vowel(phoneme: str) -> bool:
    """Whether ``phoneme`` carries a syllable (``N``, the moraic nasal, counts)."""
    return KINDS.get(phoneme) == "vowel"
