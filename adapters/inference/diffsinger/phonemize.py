"""Lyrics to a voicebank's own phonemes.

Tried in order for each lyric:

1. the bank's dictionary for the language (``dsdict-<language>.yaml``, else ``dsdict.yaml``;
   its ``entries``: grapheme -> phonemes), as written, then in lower case;
2. the shared G2P (pyopenjtalk-plus for Japanese, CMUdict for English, our romaji table;
   ``dawai.adapters.inference.g2p``), each phoneme renamed by that dictionary's
   ``replacements`` when it has one, else looked up in the bank's phoneme list with the
   language's prefix first (``ja/a``, ``en/aa``: multilingual banks name phonemes so) and
   bare after.

A phoneme the bank lacks makes the lyric unsingable: the caller (``core.singing.syllables``)
turns that into a 400 naming the note and the lyric. ``SP`` and ``AP`` are never prefixed.

``kind`` classes a bank phoneme for timing: the type the dictionary's ``symbols`` give it,
else the shared inventory's class of its bare name, else a vowel for a name starting with
a vowel letter and a stop for any other.
"""

from __future__ import annotations

from dawai.adapters.inference.diffsinger.bank import Bank, DsDict
from dawai.core.singing.lyrics import G2P
from dawai.core.singing.phonemes import BREATH, KINDS, SILENCE, PhonemeKind

__all__ = ["BankPhonemizer", "language_of"]

_TYPES: dict[str, PhonemeKind] = {
    "vowel": "vowel",
    "semivowel": "glide",
    "stop": "stop",
    "fricative": "fricative",
    "affricate": "affricate",
    "liquid": "liquid",
    "nasal": "nasal",
    "aspirate": "aspirate",
    "consonant": "stop",
}


def language_of(phoneme: str) -> str:
    """The language prefix of a bank phoneme (``ja/a`` -> ``ja``), ``""`` without one."""
    head, sep, _ = phoneme.partition("/")
    return head if sep else ""


class BankPhonemizer:
    def __init__(self, bank: Bank, fallback: G2P) -> None:
        self._bank = bank
        self._fallback = fallback
        self._kinds: dict[str, PhonemeKind] = {}
        for phoneme in bank.phonemes:
            self._kinds[phoneme] = self._classify(phoneme)
        self._kinds[SILENCE] = "silence"
        self._kinds[BREATH] = "breath"

    def _classify(self, phoneme: str) -> PhonemeKind:
        typed = self._bank.symbol_types.get(phoneme)
        if typed is not None:
            return _TYPES.get(typed, "stop")
        bare = phoneme.partition("/")[2] or phoneme
        known = KINDS.get(bare)
        if known is not None:
            return known
        return "vowel" if bare[:1].lower() in "aeiou" else "stop"

    def kind(self, phoneme: str) -> PhonemeKind | None:
        """The phoneme's class, None when the bank cannot sing it."""
        return self._kinds.get(phoneme)

    def timing_kind(self, phoneme: str) -> PhonemeKind:
        return self._kinds.get(phoneme, "stop")

    def is_vowel(self, phoneme: str) -> bool:
        return self._kinds.get(phoneme) == "vowel"

    def _dictionary(self, language: str) -> DsDict | None:
        found = self._bank.dictionaries
        return found.get(language) or found.get("")

    def _mapped(self, language: str, phoneme: str) -> str | None:
        if phoneme in (SILENCE, BREATH):
            return phoneme
        dictionary = self._dictionary(language)
        if dictionary is not None and phoneme in dictionary.replacements:
            renamed = dictionary.replacements[phoneme]
            return renamed if renamed in self._bank.phonemes else None
        for name in (f"{language}/{phoneme}", phoneme):
            if name in self._bank.phonemes:
                return name
        return None

    def __call__(self, language: str, lyric: str) -> tuple[str, ...] | None:
        dictionary = self._dictionary(language)
        entries = dictionary.entries if dictionary is not None else {}
        found = entries.get(lyric) or entries.get(lyric.lower())
        if found is not None:
            return found if all(p in self._kinds for p in found) else None
        shared = self._fallback(language, lyric)
        if not shared:
            return None
        out: list[str] = []
        for phoneme in shared:
            name = self._mapped(language, phoneme)
            if name is None:
                return None
            out.append(name)
        return tuple(out)

    def languages(self) -> tuple[str, ...]:
        """The languages a request may sing in: the bank's ``languages.json`` (those the
        shared G2P knows first), else those whose basic vowels the phoneme list holds."""
        if self._bank.languages:
            names = sorted(self._bank.languages, key=lambda n: (n not in ("ja", "en"), n))
            return tuple(n for n in names if n)
        out = []
        if self._mapped("ja", "a") and self._mapped("ja", "i"):
            out.append("ja")
        if self._mapped("en", "aa") and self._mapped("en", "iy"):
            out.append("en")
        return tuple(out)
