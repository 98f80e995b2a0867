"""Genres as rhythms: what a prompt's words say about the groove, the part and the key.

A ``Style`` is one genre's feel: its drum patterns (one string per GM drum, a step each:
``X`` accent, ``x`` hit, ``o`` ghost, ``.`` rest; 16 steps a bar, or 12 for a triplet
grid), its swing, the rhythms its bass, comping, pads and melodies play (``(start, length)``
in beats within a 4/4 bar, with a bass degree), and the progression tags it draws from.
The patterns are our own, written from the common practice of each genre.

``read_prompt`` finds the genre, part type, key, tempo and bar count a prompt names, in
English or Japanese (``"funky bassline in Am"``, ``「バラードのメロディを8小節、イ短調で」``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from dawai.core.generation.models import PartType
from dawai.core.music import Key, MusicParseError, parse_key

__all__ = ["STYLES", "PromptReading", "Style", "read_prompt"]

Hit = tuple[float, float]  # start, length, in beats
BassHit = tuple[float, float, str]  # start, length, degree: R root, 5 fifth, 8 octave, 3 third, 7 seventh


@dataclass(frozen=True, slots=True)
class Style:
    name: str
    label: str
    progression_tags: tuple[str, ...]
    drums: tuple[dict[int, str], ...]  # main patterns, GM note -> steps
    fill: dict[int, str]
    bass: tuple[tuple[BassHit, ...], ...]
    comp: tuple[tuple[Hit, ...], ...]
    melody: tuple[tuple[Hit, ...], ...]
    pad_beats: float = 4.0  # how long a pad chord is held before it is struck again
    swing: float = 0.5  # where the off-beat of a pair falls: 0.5 straight, 2/3 triplet
    swing_unit: float = 0.5  # the swung note: eighths (0.5) or sixteenths (0.25)
    chromatic: float = 0.0  # chance of a chromatic passing tone where one fits
    walking: bool = False  # the bass walks in quarters
    crash: bool = True  # a crash opens each phrase
    tempo_hint: str = "90-130 BPM"


KICK, RIM, SNARE, CLAP, CLOSED, PEDAL, OPEN, CRASH, RIDE = 36, 37, 38, 39, 42, 44, 46, 49, 51
LOW_TOM, MID_TOM, HIGH_TOM, FLOOR_TOM, SHAKER = 45, 47, 50, 43, 70
_TOM_FILL: Final = {
    KICK: "x.......x.......",
    SNARE: "....X...xx......",
    HIGH_TOM: "..........xx....",
    MID_TOM: "............xx..",
    FLOOR_TOM: "..............xx",
}
_EIGHT_BASS: Final = tuple((i / 2, 0.5, "R") for i in range(8))

STYLES: Final[dict[str, Style]] = {
    "pop": Style(
        "pop",
        "pop",
        ("pop", "ballad"),
        drums=(
            {KICK: "x.....x.x.......", SNARE: "....X.......X...", CLOSED: "x.x.x.x.x.x.x.x."},
            {KICK: "x.....x...x.....", SNARE: "....X.......X...", CLOSED: "xoxoxoxoxoxoxoxo"},
        ),
        fill=_TOM_FILL,
        bass=(
            ((0, 1.5, "R"), (1.5, 0.5, "R"), (2, 1, "5"), (3, 1, "R")),
            ((0, 1, "R"), (1, 0.5, "R"), (1.5, 1, "5"), (2.5, 0.5, "8"), (3, 1, "R")),
        ),
        comp=(((0, 2), (2, 1.5), (3.5, 0.5)), ((0, 1.5), (1.5, 1), (2.5, 1.5))),
        melody=(
            ((0, 1), (1, 0.5), (1.5, 0.5), (2, 1.5), (3.5, 0.5)),
            ((0, 0.5), (0.5, 0.5), (1, 1), (2, 0.5), (2.5, 0.5), (3, 1)),
            ((0.5, 0.5), (1, 0.5), (1.5, 1), (2.5, 0.5), (3, 1)),
        ),
    ),
    "rock": Style(
        "rock",
        "rock",
        ("rock",),
        drums=(
            {KICK: "x.......x.x.....", SNARE: "....X.......X...", CLOSED: "x.x.x.x.x.x.x.x."},
            {KICK: "x......xx.x.....", SNARE: "....X.......X...", CLOSED: "x.x.x.x.x.x.x.x."},
        ),
        fill=_TOM_FILL,
        bass=(
            _EIGHT_BASS,
            (
                (0, 0.5, "R"),
                (0.5, 0.5, "R"),
                (1, 0.5, "R"),
                (1.5, 0.5, "R"),
                (2, 0.5, "5"),
                (2.5, 0.5, "5"),
                (3, 0.5, "8"),
                (3.5, 0.5, "5"),
            ),
        ),
        comp=(tuple((i / 2, 0.5) for i in range(8)), ((0, 1.5), (1.5, 0.5), (2, 2))),
        melody=(
            ((0, 0.5), (0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 1), (3, 1)),
            ((0, 1), (1, 1), (2, 0.5), (2.5, 1.5)),
        ),
        tempo_hint="110-150 BPM",
    ),
    "funk": Style(
        "funk",
        "funk",
        ("funk", "soul"),
        drums=(
            {
                KICK: "x..x..x...x..x..",
                SNARE: "....X..o.o..X..o",
                CLOSED: "xoxoxoxoxoxoxox.",
                OPEN: "...............x",
            },
            {KICK: "x.x...x..x.x....", SNARE: "....X..o....X.o.", CLOSED: "xoxoxoxoxoxoxoxo"},
        ),
        fill={KICK: "x..x..x.........", SNARE: "....X..oXoxoXXXX", CLOSED: "xoxoxoxo........"},
        bass=(
            (
                (0, 0.5, "R"),
                (0.75, 0.25, "8"),
                (1.5, 0.25, "R"),
                (2, 0.5, "5"),
                (2.75, 0.25, "R"),
                (3.5, 0.25, "8"),
                (3.75, 0.25, "7"),
            ),
            (
                (0, 0.25, "R"),
                (0.5, 0.25, "R"),
                (0.75, 0.5, "8"),
                (1.75, 0.25, "5"),
                (2.5, 0.5, "R"),
                (3.25, 0.25, "3"),
                (3.5, 0.5, "5"),
            ),
        ),
        comp=(
            ((0, 0.25), (0.75, 0.25), (1.5, 0.25), (2.25, 0.5), (3, 0.25), (3.5, 0.25)),
            ((0.5, 0.25), (1, 0.25), (1.75, 0.25), (2.5, 0.25), (3.25, 0.5)),
        ),
        melody=(
            ((0, 0.25), (0.5, 0.25), (0.75, 0.5), (1.5, 0.5), (2.25, 0.25), (2.5, 0.75), (3.5, 0.5)),
            ((0, 0.5), (0.75, 0.25), (1, 0.5), (2, 0.25), (2.25, 0.25), (2.5, 1)),
        ),
        pad_beats=2.0,
        chromatic=0.35,
        crash=False,
        tempo_hint="95-115 BPM",
    ),
    "hiphop": Style(
        "hiphop",
        "hip hop",
        ("lofi", "rnb", "soul"),
        drums=(
            {KICK: "x.....x...x.....", SNARE: "....X.......X...", CLOSED: "x.x.x.x.x.x.x.x."},
            {KICK: "x..x......xx....", SNARE: "....X.......X..o", CLOSED: "x.x.x.x.x.x.x.xx"},
        ),
        fill={KICK: "x.....x...x..x..", SNARE: "....X.......X.oX", CLOSED: "x.x.x.x.xxxxxxxx"},
        bass=(
            ((0, 1.5, "R"), (2.5, 0.5, "R"), (3, 0.75, "5")),
            ((0, 0.75, "R"), (0.75, 1.25, "R"), (3, 1, "3")),
        ),
        comp=(((0, 2.5), (3.5, 0.5)), ((0, 4),)),
        melody=(((0, 0.5), (0.75, 0.25), (1, 1), (2.5, 0.5), (3, 1)), ((0.5, 1), (1.5, 0.5), (2, 1.5))),
        swing=0.58,
        swing_unit=0.25,
        chromatic=0.2,
        crash=False,
        tempo_hint="80-95 BPM",
    ),
    "edm": Style(
        "edm",
        "EDM",
        ("edm", "pop"),
        drums=(
            {
                KICK: "x...x...x...x...",
                CLAP: "....X.......X...",
                OPEN: "..x...x...x...x.",
                CLOSED: "x.x.x.x.x.x.x.x.",
            },
            {
                KICK: "x...x...x...x...",
                CLAP: "....X.......X...",
                OPEN: "..x...x...x...x.",
                SHAKER: "oxoxoxoxoxoxoxox",
            },
        ),
        fill={KICK: "x...x...x...x...", SNARE: "x.x.x.x.xxxxXXXX", CLOSED: "x.x.x.x.x.x.x.x."},
        bass=(
            tuple((i + 0.5, 0.5, "R") for i in range(4)),
            tuple((i / 4, 0.25, "8" if i % 2 else "R") for i in range(16)),
        ),
        comp=(
            ((0.5, 0.5), (1.5, 0.5), (2.5, 0.5), (3.5, 0.5)),
            ((0, 0.75), (0.75, 0.75), (1.5, 0.5), (2, 0.75), (2.75, 0.75), (3.5, 0.5)),
        ),
        melody=(
            ((0, 0.75), (0.75, 0.75), (1.5, 0.5), (2, 0.75), (2.75, 0.75), (3.5, 0.5)),
            ((0, 0.5), (0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 2)),
        ),
        tempo_hint="120-128 BPM",
    ),
    "ballad": Style(
        "ballad",
        "ballad",
        ("ballad", "pop"),
        drums=(
            {KICK: "x.......x.......", RIM: "....x.......x...", CLOSED: "o.o.o.o.o.o.o.o."},
            {KICK: "x.......x..x....", SNARE: "....x.......x...", CLOSED: "o.o.o.o.o.o.o.o."},
        ),
        fill={KICK: "x.......x.......", SNARE: "....x.......oxox", CLOSED: "o.o.o.o.o.o....."},
        bass=(((0, 2, "R"), (2, 2, "5")), ((0, 4, "R"),), ((0, 3, "R"), (3, 1, "5"))),
        comp=(((0, 4),), ((0, 2), (2, 2))),
        melody=(((0, 1.5), (1.5, 0.5), (2, 2)), ((0, 1), (1, 1), (2, 2)), ((0.5, 0.5), (1, 1.5), (2.5, 1.5))),
        chromatic=0.1,
        tempo_hint="60-80 BPM",
    ),
    "jpop": Style(
        "jpop",
        "J-pop",
        ("jpop", "anime"),
        drums=(
            {KICK: "x.....x.x.....x.", SNARE: "....X.......X...", CLOSED: "xoxoxoxoxoxoxoxo"},
            {
                KICK: "x..x..x.x.......",
                SNARE: "....X.......X...",
                CLOSED: "x.x.x.x.x.x.x.x.",
                OPEN: "..............x.",
            },
        ),
        fill={KICK: "x.......x.......", SNARE: "....X...xxxxXXXX", CLOSED: "x.x.x.x........."},
        bass=(
            (
                (0, 0.5, "R"),
                (0.5, 0.5, "8"),
                (1, 0.5, "R"),
                (1.5, 0.5, "8"),
                (2, 0.5, "R"),
                (2.5, 0.5, "8"),
                (3, 0.5, "5"),
                (3.5, 0.5, "8"),
            ),
            _EIGHT_BASS,
        ),
        comp=(
            ((0, 1.5), (1.5, 1), (2.5, 1.5)),
            ((0, 0.5), (0.5, 1), (1.5, 0.5), (2, 0.5), (2.5, 1), (3.5, 0.5)),
        ),
        melody=(
            ((0, 0.5), (0.5, 0.25), (0.75, 0.25), (1, 0.5), (1.5, 0.5), (2, 1), (3, 0.5), (3.5, 0.5)),
            ((0, 1), (1, 0.5), (1.5, 0.5), (2, 0.5), (2.5, 0.5), (3, 1)),
        ),
        chromatic=0.15,
        tempo_hint="130-170 BPM",
    ),
    "bossa": Style(
        "bossa",
        "bossa nova",
        ("bossa", "jazz"),
        drums=(
            {KICK: "x..xx..xx..xx..x", RIM: "x..x..x...x..x..", CLOSED: "x.x.x.x.x.x.x.x."},
            {KICK: "x..xx..xx..xx..x", RIM: "..x..x...x..x...", CLOSED: "x.x.x.x.x.x.x.x."},
        ),
        fill={KICK: "x..xx..xx..xx..x", RIM: "x..x..x...x.x.x.", CLOSED: "x.x.x.x.x.x.x.x."},
        bass=(((0, 1.5, "R"), (1.5, 0.5, "5"), (2, 1.5, "5"), (3.5, 0.5, "R")),),
        comp=(((0, 1), (1.5, 1), (3, 0.5), (3.5, 0.5)), ((0.5, 1), (2, 0.5), (2.5, 1.5))),
        melody=(((0, 1.5), (1.5, 1), (2.5, 1.5)), ((0.5, 0.5), (1, 0.5), (1.5, 1), (3, 1))),
        chromatic=0.3,
        crash=False,
        tempo_hint="120-140 BPM",
    ),
    "jazz": Style(
        "jazz",
        "swing jazz",
        ("jazz",),
        drums=(
            {RIDE: "x..x.xx..x.x", PEDAL: "...x.....x..", KICK: "o..o..o..o.."},
            {RIDE: "x..x.xx..x.x", PEDAL: "...x.....x..", KICK: "o..o..o..o..", SNARE: "........o..o"},
        ),
        fill={RIDE: "x..x.x......", PEDAL: "...x.....x..", SNARE: ".....o..xoxx", KICK: "o..o..o..o.X"},
        bass=(),
        comp=(((0, 1), (1.5, 0.5)), ((0.5, 1), (2.5, 0.5)), ((1, 1), (3.5, 0.5))),
        melody=(
            ((0, 0.5), (0.5, 0.5), (1, 0.5), (1.5, 1), (2.5, 0.5), (3, 0.5), (3.5, 0.5)),
            ((0.5, 0.5), (1, 0.5), (1.5, 0.5), (2, 1), (3, 1)),
        ),
        swing=2 / 3,
        chromatic=0.4,
        walking=True,
        crash=False,
        tempo_hint="120-200 BPM",
    ),
    "blues": Style(
        "blues",
        "blues shuffle",
        ("blues",),
        drums=({CLOSED: "x.xx.xx.xx.x", KICK: "x.....x.....", SNARE: "...X.....X.."},),
        fill={CLOSED: "x.xx.x......", KICK: "x.....x.....", SNARE: "...X.....xxX"},
        bass=(
            ((0, 1, "R"), (1, 1, "3"), (2, 1, "5"), (3, 1, "6")),
            (
                (0, 0.5, "R"),
                (0.5, 0.5, "R"),
                (1, 0.5, "3"),
                (1.5, 0.5, "3"),
                (2, 0.5, "5"),
                (2.5, 0.5, "5"),
                (3, 0.5, "6"),
                (3.5, 0.5, "5"),
            ),
        ),
        comp=(((0, 1), (1.5, 0.5), (2, 1), (3.5, 0.5)), ((0, 0.5), (1, 0.5), (2, 0.5), (3, 0.5))),
        melody=(((0, 1), (1, 0.5), (1.5, 0.5), (2, 2)), ((0.5, 0.5), (1, 0.5), (1.5, 1.5), (3, 1))),
        swing=2 / 3,
        chromatic=0.35,
        crash=False,
        tempo_hint="70-110 BPM",
    ),
}

# Words for each genre (English and Japanese); the first one a prompt mentions wins.
_GENRE_WORDS: Final = {
    "jpop": "j-pop jpop j pop anison anime jrock j-rock city pop citypop "
    "Jポップ J-POP ジェイポップ アニソン アニメ シティポップ 邦楽",
    "hiphop": "hip hop hip-hop hiphop rap trap boom bap lofi lo-fi r&b rnb neo soul "
    "ヒップホップ ラップ トラップ ローファイ",
    "bossa": "bossa nova bossanova bossa samba latin ボサノバ ボサノヴァ サンバ ラテン",
    "edm": "edm house techno trance dance electro club future bass dubstep "
    "ハウス テクノ トランス ダンス クラブ",
    "funk": "funk funky disco ファンク ファンキー ディスコ",
    "jazz": "jazz jazzy swing bebop ジャズ スウィング スイング ビバップ",
    "blues": "blues bluesy shuffle ブルース シャッフル",
    "ballad": "ballad slow sad gentle lullaby バラード スロー 切ない 静か 子守唄",
    "rock": "rock punk metal grunge ロック パンク メタル",
    "pop": "pop ポップ ポップス",
}
_TYPE_WORDS: Final = {
    PartType.DRUM_PATTERN: "drum drums drum pattern beat beats groove percussion kick snare bass drum "
    "ドラム リズム ビート パーカッション",
    PartType.BASSLINE: "bass bassline bass line ベース ベースライン",
    PartType.CHORD_PROGRESSION: "chord chords chord progression progression comping accompaniment "
    "コード コード進行 和音 伴奏",
    PartType.MELODY: "melody melodies lead riff hook tune topline メロディ メロディー 旋律 リフ",
    PartType.HARMONY: "harmony harmonies pad pads backing vocals counter ハーモニー ハモリ パッド",
}


def _word_pattern(table: dict[str, str] | dict[PartType, str]) -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for every word of ``table`` (longest first, so 'bass drum' beats 'bass'),
    and the value each word folds to."""
    values: dict[str, str] = {}
    for value, words in table.items():
        for word in _phrases(words):
            values.setdefault(_fold(word), str(value))
    alternatives = []
    for word in sorted(values, key=len, reverse=True):
        escaped = re.escape(word)
        alternatives.append(rf"(?<![a-z]){escaped}(?![a-z])" if word.isascii() else escaped)
    return re.compile("|".join(alternatives)), values


def _phrases(words: str) -> list[str]:
    """Split a word list into phrases: known two-word phrases are kept together."""
    tokens = words.split()
    phrases: list[str] = []
    i = 0
    while i < len(tokens):
        pair = " ".join(tokens[i : i + 2])
        if pair.casefold() in _TWO_WORD:
            phrases.append(pair)
            i += 2
        else:
            phrases.append(tokens[i])
            i += 1
    return phrases


_TWO_WORD: Final = frozenset(
    (
        "j pop",
        "hip hop",
        "boom bap",
        "neo soul",
        "bossa nova",
        "city pop",
        "future bass",
        "drum pattern",
        "bass drum",
        "bass line",
        "chord progression",
        "backing vocals",
    )
)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


_GENRE_RE, _GENRE_OF = _word_pattern(_GENRE_WORDS)
_TYPE_RE, _TYPE_OF = _word_pattern(_TYPE_WORDS)
_KEY_RES: Final = (
    re.compile(r"(?:重?[嬰変])?[ハニホヘトイロ]\s*(?:長調|短調)"),
    re.compile(r"[A-G][#♯b♭]?\s*(?:メジャー|マイナー)"),
    re.compile(r"[A-G][#♯b♭]?\s*(?:[Mm]ajor|[Mm]inor)(?![A-Za-z])"),
    re.compile(r"(?i:\b(?:in|key\s+of|key:?)\s+)([A-G][#♯b♭]?(?:m|min|maj)?)(?![A-Za-z#♯])"),
    re.compile(r"(?:キー(?:は|が|を)?|で)\s*([A-G][#♯b♭]?m?)(?![A-Za-z#♯])"),
    re.compile(r"(?<![A-Za-z])([A-G][#♯b♭]?m?)\s*(?:で|の|キー)"),
)
_TEMPO_RE: Final = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|BPM|ＢＰＭ)")
_BARS_RE: Final = re.compile(r"(\d{1,2})\s*(?:-\s*)?(?:bars?|measures?|小節)(?![a-z])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PromptReading:
    style: Style
    genre_named: bool
    type: PartType | None
    key: Key | None
    tempo: float | None
    bars: int | None


def _first(pattern: re.Pattern[str], values: dict[str, str], text: str) -> str | None:
    match = pattern.search(text)
    return values[match.group(0)] if match else None


def _key_in(text: str) -> Key | None:
    for pattern in _KEY_RES:
        for match in pattern.finditer(text):
            written = match.group(1) if pattern.groups else match.group(0)
            try:
                return parse_key(written)
            except MusicParseError:
                continue
    return None


_READ_CHARS: Final = 8_000


def read_prompt(prompt: str) -> PromptReading:
    """What ``prompt`` says: genre (pop when it names none), part type, key, tempo, bars."""
    # NFKC can lengthen text many times over (one U+FDFA is 18 characters): read as much as
    # a prompt may hold, not what a hostile one expands to.
    normal = unicodedata.normalize("NFKC", prompt)[:_READ_CHARS]
    folded = normal.casefold()
    genre = _first(_GENRE_RE, _GENRE_OF, folded)
    part = _first(_TYPE_RE, _TYPE_OF, folded)
    tempo_match = _TEMPO_RE.search(normal)
    bars_match = _BARS_RE.search(normal)
    return PromptReading(
        style=STYLES[genre or "pop"],
        genre_named=genre is not None,
        type=PartType(part) if part else None,
        key=_key_in(normal),
        tempo=float(tempo_match.group(1)) if tempo_match else None,
        bars=int(bars_match.group(1)) if bars_match else None,
    )
