"""Named chord progressions, written as Roman numerals and spelled in any key.

Each one is a progression musicians know by name, written by us from the common practice of
its genre (English name, and the Japanese one where musicians use one), with the mode it is
usually played in, genre and section tags, a weight (how often it is a good default among
the ones that fit a context, our judgement: 1 is the most common) and whether it loops.
No two are the same progression in another key, or another rotation of the same loop:
``tests/unit/music/test_progressions.py`` checks it. Durations are in bars (``v7:0.5``).

The generator and ghost text choose from here; ``progressions_for`` filters and orders.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from dawai.core.music.chords import Chord
from dawai.core.music.errors import MusicParseError
from dawai.core.music.keys import Key
from dawai.core.music.roman import RomanNumeral, parse_roman
from dawai.core.music.scales import Mode

__all__ = [
    "GENRES",
    "PROGRESSIONS",
    "SECTIONS",
    "Progression",
    "find_progression",
    "parse_progression",
    "progressions_for",
]

_GENRE_WORDS: Final = """pop rock ballad edm jpop anime jazz citypop rnb soul lofi blues funk country
    folk bossa classical flamenco latin metal gospel game ragtime film"""
GENRES: Final = frozenset(_GENRE_WORDS.split())
_SECTION_WORDS: Final = "intro verse prechorus chorus bridge outro turnaround ending"
SECTIONS: Final = frozenset(_SECTION_WORDS.split())
_SEPARATORS: Final = re.compile(r"[\s,|→–—]+|(?<=[\w°ø+)])-(?=[b#♭♯]?[IViv])")


@dataclass(frozen=True, slots=True)
class Progression:
    id: str
    name: str
    name_ja: str | None
    steps: tuple[tuple[RomanNumeral, float], ...]  # numeral and length in bars
    mode: Mode
    genres: frozenset[str]
    sections: frozenset[str]
    weight: float
    loops: bool

    @property
    def numerals(self) -> tuple[str, ...]:
        return tuple(str(numeral) for numeral, _ in self.steps)

    @property
    def bars(self) -> float:
        return sum(length for _, length in self.steps)

    def chords(self, key: Key) -> tuple[Chord, ...]:
        """The progression's chords in ``key``, one per step."""
        return tuple(numeral.chord(key) for numeral, _ in self.steps)

    def timed(self, key: Key) -> tuple[tuple[Chord, float], ...]:
        """Each chord in ``key`` with its length in bars."""
        return tuple((numeral.chord(key), length) for numeral, length in self.steps)

    def __str__(self) -> str:
        return " – ".join(self.numerals)


def parse_progression(text: str) -> tuple[RomanNumeral, ...]:
    """Numerals separated by spaces, commas, bars, arrows or dashes: ``I–V–vi–IV``, ``ii7 V7 I``."""
    parts = [part for part in _SEPARATORS.split(unicodedata.normalize("NFKC", text).strip()) if part]
    if not parts:
        raise MusicParseError("progression", text, "write Roman numerals like 'I–V–vi–IV'")
    return tuple(parse_roman(part) for part in parts)


def _progression(
    id: str,
    name: str,
    name_ja: str | None,
    steps: str,
    mode: Mode,
    genres: str,
    sections: str,
    weight: float,
    *,
    loops: bool = True,
) -> Progression:
    parsed = []
    for step in steps.split():
        numeral, _, length = step.partition(":")
        parsed.append((parse_roman(numeral), float(length or 1)))
    return Progression(
        id,
        name,
        name_ja,
        tuple(parsed),
        mode,
        frozenset(genres.split()),
        frozenset(sections.split()),
        weight,
        loops,
    )


MAJOR, MINOR = Mode.MAJOR, Mode.MINOR
# fmt: off
PROGRESSIONS: Final = (
    _progression("axis", "Axis progression", None, "I V vi IV", MAJOR,
                 "pop rock ballad edm", "verse chorus", 1.0),
    _progression("fifties", "'50s progression", "イチロクヨンゴー", "I vi IV V", MAJOR,
                 "pop ballad rock", "verse chorus", 0.8),
    _progression("circle_turnaround", "I–vi–ii–V turnaround", "循環コード", "Imaj7 vi7 ii7 V7", MAJOR,
                 "jazz pop jpop citypop", "verse turnaround", 0.8),
    _progression("royal_road", "Royal road progression", "王道進行", "IVmaj7 V7 iii7 vi", MAJOR,
                 "jpop anime pop", "chorus prechorus", 0.9),
    _progression("komuro", "Komuro progression", "小室進行", "vi IV V I", MAJOR,
                 "jpop anime edm pop", "chorus verse", 0.7),
    _progression("canon", "Pachelbel's Canon progression", "カノン進行", "I V vi iii IV I IV V", MAJOR,
                 "pop ballad classical jpop", "verse chorus intro", 0.7),
    _progression("just_the_two_of_us", "Just the Two of Us progression", "丸サ進行",
                 "IVmaj7 III7 vi7 v7:0.5 I7:0.5", MAJOR,
                 "citypop jpop rnb soul lofi jazz", "verse chorus", 0.6),
    _progression("three_chord", "Three-chord loop", "スリーコード", "I IV V IV", MAJOR,
                 "rock pop folk country latin", "verse chorus", 0.6),
    _progression("twelve_bar_blues", "12-bar blues", "ブルース進行", "I7:4 IV7:2 I7:2 V7 IV7 I7 V7", MAJOR,
                 "blues rock jazz funk country", "verse", 1.0),
    _progression("quick_change_blues", "Quick-change 12-bar blues", None,
                 "I7 IV7 I7:2 IV7:2 I7:2 V7 IV7 I7 V7", MAJOR, "blues jazz", "verse", 0.5),
    _progression("minor_blues", "Minor blues", None, "i7:4 iv7:2 i7:2 bVI7 V7 i7 V7", MINOR,
                 "blues jazz", "verse", 0.4),
    _progression("two_five_one", "ii–V–I", "ツーファイブワン", "ii7 V7 Imaj7:2", MAJOR,
                 "jazz citypop bossa rnb", "ending turnaround verse", 1.0, loops=False),
    _progression("minor_two_five_one", "Minor ii–V–i", None, "iiø7 V7(b9) i6:2", MINOR,
                 "jazz bossa", "ending turnaround", 0.6, loops=False),
    _progression("andalusian", "Andalusian cadence", None, "i bVII bVI V", MINOR,
                 "flamenco rock latin metal pop", "verse chorus", 0.6),
    _progression("authentic_cadence", "Authentic cadence", "全終止", "V7 I", MAJOR,
                 "classical pop", "ending", 0.9, loops=False),
    _progression("plagal_cadence", "Plagal (amen) cadence", "変終止", "IV I", MAJOR,
                 "gospel classical rock", "ending", 0.5, loops=False),
    _progression("deceptive_cadence", "Deceptive cadence", "偽終止", "V7 vi", MAJOR,
                 "classical pop ballad", "ending prechorus", 0.4, loops=False),
    _progression("minor_plagal_cadence", "Minor plagal cadence", None, "IV iv I", MAJOR,
                 "pop ballad rock", "ending", 0.4, loops=False),
    _progression("minor_line_cliche", "Minor line cliché", "クリシェ", "i imaj7 i7 i6", MINOR,
                 "jazz ballad pop rock", "verse intro", 0.4),
    _progression("mixolydian_vamp", "Mixolydian vamp (double plagal)", None, "I bVII IV", Mode.MIXOLYDIAN,
                 "rock country folk", "verse chorus", 0.5),
    _progression("mario_cadence", "Mario cadence", None, "bVI bVII I", MAJOR,
                 "rock game anime pop", "ending chorus", 0.4, loops=False),
    _progression("backdoor", "Backdoor ii–V", None, "iv7 bVII7 Imaj7:2", MAJOR,
                 "jazz soul rnb gospel", "ending turnaround", 0.4, loops=False),
    _progression("tritone_substitution", "Tritone-substituted ii–V–I", None, "ii7 bII7 Imaj7:2", MAJOR,
                 "jazz bossa citypop", "ending turnaround", 0.4, loops=False),
    _progression("ragtime", "Ragtime progression", None, "III7 VI7 II7 V7 I:2", MAJOR,
                 "jazz ragtime", "bridge turnaround ending", 0.3, loops=False),
    _progression("diatonic_circle", "Diatonic circle of fifths", None,
                 "Imaj7 IVmaj7 viiø7 iii7 vi7 ii7 V7 Imaj7", MAJOR,
                 "jazz pop ballad", "verse", 0.4, loops=False),
    _progression("creep", "Creep progression", None, "I III IV iv", MAJOR,
                 "rock ballad", "verse chorus", 0.3),
    _progression("la_folia", "La Folia", None, "i V i bVII bIII bVII i V", MINOR,
                 "classical folk", "verse", 0.2),
    _progression("neapolitan_cadence", "Neapolitan cadence", None, "bII/4 V7 i", MINOR,
                 "classical film", "ending", 0.2, loops=False),
    _progression("dorian_vamp", "Dorian vamp", None, "i7 IV7", Mode.DORIAN,
                 "funk jazz rock latin soul", "verse", 0.3),
)
# fmt: on


def _fold(text: str) -> str:
    return re.sub(r"[\s'’\-–—_()]", "", unicodedata.normalize("NFKC", text)).casefold()


_BY_NAME: Final = {
    _fold(alias): progression
    for progression in PROGRESSIONS
    for alias in (progression.id, progression.name, progression.name_ja or progression.id)
}


def find_progression(name: str) -> Progression | None:
    """The progression called ``name`` (its id, English or Japanese name; case, spaces and
    dashes ignored): ``find_progression("王道進行")``, ``find_progression("ii-V-I")``."""
    return _BY_NAME.get(_fold(name))


def progressions_for(
    *, genre: str | None = None, section: str | None = None, mode: Mode | None = None
) -> tuple[Progression, ...]:
    """The progressions tagged with ``genre`` and ``section`` (each optional) in ``mode``,
    the most common first (by weight, then by id, so the order is stable)."""
    chosen = [
        progression
        for progression in PROGRESSIONS
        if (genre is None or genre in progression.genres)
        and (section is None or section in progression.sections)
        and (mode is None or progression.mode is mode)
    ]
    return tuple(sorted(chosen, key=lambda progression: (-progression.weight, progression.id)))
