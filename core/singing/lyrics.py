"""Lyrics to syllables: each note's lyric becomes the phonemes it sings, split into the
consonants before its first vowel (``onset``, sung before the note's onset), the vowels
and what lies between them (``nucleus``) and the consonants after its last vowel
(``coda``, at the note's end).

Special lyrics: ``+`` (or ``ー``, ``~``) extends the previous note's syllable over this
note (a slur: no new consonant, the vowel goes on at the new pitch); ``-`` and ``SP`` are
rests; ``AP`` is a breath. Any other lyric goes to a G2P function by language: the
request's ``language``, else Japanese for a lyric with kana or kanji and English for one
without (an English word not in the dictionary is tried as Japanese romaji, ``ka``,
``shi``). A lyric nothing can phonemize is an ``InvalidInput`` naming the note.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Literal

import msgspec

from dawai.core.errors import FieldError, InvalidInput
from dawai.core.singing.phonemes import KINDS, PhonemeKind

__all__ = ["EXTEND", "G2P", "Syllable", "detect_language", "normalise_lyric", "syllables"]

# (language, lyric) -> phonemes in the inventory (dawai.core.singing.phonemes), or None.
G2P = Callable[[str, str], tuple[str, ...] | None]

EXTEND = frozenset({"+", "ー", "~"})
_REST = frozenset({"-", "SP", "R"})
_BREATH = frozenset({"AP", "br"})


class Syllable(msgspec.Struct, frozen=True):
    kind: Literal["sung", "extend", "rest", "breath"]
    onset: tuple[str, ...] = ()
    nucleus: tuple[str, ...] = ()
    coda: tuple[str, ...] = ()


def normalise_lyric(lyric: str) -> str:
    """NFC, surrounding white space removed (the cache key and G2P see this form)."""
    return unicodedata.normalize("NFC", lyric).strip()


def detect_language(lyric: str) -> str:
    """``ja`` when the lyric has a character from the CJK blocks (kana, kanji), else ``en``."""
    return "ja" if any(ord(ch) >= 0x3000 for ch in lyric) else "en"


def split(phonemes: Sequence[str], kind: Callable[[str], PhonemeKind | None] = KINDS.get) -> Syllable:
    """Onset, nucleus and coda of one lyric's phonemes (a lyric with no vowel is all nucleus)."""
    vowels = [i for i, p in enumerate(phonemes) if kind(p) == "vowel"]
    if not vowels:
        return Syllable("sung", (), tuple(phonemes), ())
    first, last = vowels[0], vowels[-1]
    return Syllable(
        "sung", tuple(phonemes[:first]), tuple(phonemes[first : last + 1]), tuple(phonemes[last + 1 :])
    )


def _problem(index: int, lyric: str, why: str) -> InvalidInput:
    field = f"notes[{index}].lyric"
    message = f"{why}: {lyric!r}"
    return InvalidInput(f"{field}: {message}", [FieldError(field, message)])


def syllables(
    lyrics: Sequence[str],
    language: str | None,
    g2p: G2P,
    kind: Callable[[str], PhonemeKind | None] = KINDS.get,
) -> list[Syllable]:
    """One syllable per lyric, in order; ``InvalidInput`` naming the first lyric that cannot
    be sung (unknown to every G2P tried, or a ``+`` with nothing before it to extend).
    ``kind`` classes a phoneme, None for one the voice cannot sing (default: the shared
    inventory; a voicebank passes its own)."""
    out: list[Syllable] = []
    for index, raw in enumerate(lyrics):
        lyric = normalise_lyric(raw)
        if lyric in EXTEND:
            if not out or out[-1].kind not in ("sung", "extend"):
                raise _problem(index, raw, "nothing before this note to extend")
            out.append(Syllable("extend"))
            continue
        if lyric in _REST:
            out.append(Syllable("rest"))
            continue
        if lyric in _BREATH:
            out.append(Syllable("breath"))
            continue
        lang = language or detect_language(lyric)
        phonemes = g2p(lang, lyric) if lyric else None
        if phonemes is None and language is None and lang == "en":
            phonemes = g2p("ja", lyric)  # romaji
        if not phonemes or any(kind(p) is None for p in phonemes):
            raise _problem(
                index, raw, f"cannot phonemize this lyric as {'Japanese' if lang == 'ja' else 'English'}"
            )
        out.append(split(phonemes, kind))
    return out
