"""Labelled material for the key-estimation benchmark (``bench/music.py --section keys``).

Generated, seeded, in all 24 keys (``generated_pieces``), eight bars of one chord each as
voice-led block chords over a bass on each chord's bass note, with a melody of a note a beat
(three in five a chord tone, the others a scale step; in minor the harmonic minor's):

- ``diatonic``: two four-bar phrases of functional harmony, tonic - (tonic or predominant) -
  predominant - dominant (a half cadence; one time in three predominant - dominant - tonic),
  then tonic - (tonic or predominant) - dominant - tonic, each function drawn from the mode's
  usual chords (``_FUNCTIONS``: triads and sevenths, in minor ``V`` more often than ``v``);
- ``borrowed``: the same, but each inner bar has a one-in-three chance of a chord from outside
  the key (borrowed from the parallel mode, the Neapolitan, ``bVII``; or a secondary dominant
  ``V7/x`` placed before its ``x``), and a fifth of the melody notes are preceded by a
  chromatic passing or neighbour tone a semitone away;
- ``shuffled``: the tonic, six chords of the mode in any order, the tonic: diatonic, but
  without the grammar of tonal phrases, to show what that grammar is worth.

Real music, from music21's corpus: the Bach chorales (``bach_chorales``) and the Essen folk
songs (``essen_folksongs``), each labelled by a rule stated below.

The chorales (``bach_chorales``): the Bach chorales shipped in music21's corpus (the
``music21`` package, BSD-licensed, the corpus inside its wheel; ``pip install -e '.[bench]'``),
read here straight from the MusicXML (no music21 parsing, which would take minutes). Each is
labelled by a stated rule: the key signature's major key ``T`` and the last sounding bass
note ``b`` (the lowest pitch of the final chord): ``b = T`` is ``T major``; ``b`` a major
sixth above ``T`` (the relative minor), or a whole step above (a minor key written with one
flat fewer, the Dorian signature of Bach's time), is ``b minor``; any other final bass (a
Phrygian or half-cadence ending) leaves the chorale out, and the count says how many.

The Essen folk songs (``essen_folksongs``; about 8,500 German, Chinese and other melodies,
ABC, read here by a reader of the subset they use): the tonic is the encoders' own ``K:``
field (Essen's encoding gives the tonic, not the mode; the notes carry explicit accidentals
over that key's major signature), and the mode is major when the major third above the
tonic sounds longer in the tune than the minor third, else minor; a tie, or a tonic the
reader does not know, leaves the tune out.
"""

from __future__ import annotations

import random
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import NamedTuple
from xml.etree import ElementTree

from dawai.core.music import Key, Mode, all_keys, parse_roman, voice_lead

__all__ = ["Corpus", "Note", "Piece", "bach_chorales", "essen_folksongs", "generated_pieces"]


class Note(NamedTuple):
    pitch: int
    time: float
    duration: float


@dataclass(frozen=True)
class Piece:
    name: str
    key: Key
    notes: tuple[Note, ...]


# Functional harmony: tonic, predominant and dominant chords of each mode, as Roman numerals
# (ADR 22: counted on the major scale, so A minor's are i, iv, bVI, V ...).
_FUNCTIONS = {
    Mode.MAJOR: {"T": ("I", "I", "vi", "iii", "Imaj7", "vi7"), "PD": ("IV", "ii", "ii7", "IVmaj7", "IV"),
                 "D": ("V", "V7", "V", "viiø7")},
    Mode.MINOR: {"T": ("i", "i", "bVI", "i7", "bIII"), "PD": ("iv", "iiø7", "iv7", "bVI", "ii°"),
                 "D": ("V", "V7", "V", "vii°7", "v")},
}  # fmt: skip
# What the borrowed set puts in: chords from the parallel mode, the Neapolitan, and
# secondary dominants (V7/x, placed before x).
_BORROWED = {
    Mode.MAJOR: {"T": ("bVII", "bIII", "i"), "PD": ("iv", "bVI", "iiø7", "bII", "iv7", "bVII")},
    Mode.MINOR: {"T": ("I", "bVII"), "PD": ("IV", "bII", "ii", "ii7", "IV7")},
}
_TONICISED = {Mode.MAJOR: ("V", "ii", "vi", "IV"), Mode.MINOR: ("V", "iv", "bVI", "bIII")}
_LETTERS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _numerals(mode: Mode, rng: random.Random, borrowed: bool) -> list[str]:
    """Eight bars, two four-bar phrases: T (T|PD) PD D, then T (T|PD) D T; the first phrase
    ends on the dominant (a half cadence) or, one time in three, on the tonic."""
    functions = ["T", rng.choice(["T", "PD"]), "PD", "D", "T", rng.choice(["T", "PD"]), "D", "T"]
    if rng.random() < 1 / 3:
        functions[2:4] = ["D", "T"]
    table = _FUNCTIONS[mode]
    numerals = [rng.choice(table[f]) for f in functions]
    numerals[0] = numerals[4] = numerals[7] = "I" if mode is Mode.MAJOR else "i"
    if borrowed:
        for bar in range(1, 7):
            if rng.random() >= 1 / 3:
                continue
            if functions[bar + 1 if bar < 7 else bar] in ("PD", "D") and rng.random() < 0.4:
                target = rng.choice(_TONICISED[mode])
                numerals[bar] = f"V7/{target}"
                if bar + 1 < 7:
                    numerals[bar + 1] = target
            elif functions[bar] in _BORROWED[mode]:
                numerals[bar] = rng.choice(_BORROWED[mode][functions[bar]])
    return numerals


def _shuffled(mode: Mode, rng: random.Random) -> list[str]:
    """The tonic, six of the mode's chords in any order, the tonic."""
    every = [numeral for numerals in _FUNCTIONS[mode].values() for numeral in numerals]
    tonic = "I" if mode is Mode.MAJOR else "i"
    return [tonic, *(rng.choice(every) for _ in range(6)), tonic]


def _piece(key: Key, rng: random.Random, kind: str, index: int) -> Piece:
    borrowed = kind == "borrowed"
    numerals = _shuffled(key.mode, rng) if kind == "shuffled" else _numerals(key.mode, rng, borrowed)
    chords = [parse_roman(numeral).chord(key) for numeral in numerals]
    scale = sorted(key.scale.pitch_classes)
    if key.mode is Mode.MINOR:  # the raised seventh of harmonic minor, over the dominant
        scale = sorted({*scale, (key.pitch_class + 11) % 12} - {(key.pitch_class + 10) % 12})
    notes: list[Note] = []
    for bar, (chord, voicing) in enumerate(zip(chords, voice_lead(chords), strict=True)):
        start = bar * 4.0
        notes.append(Note(36 + chord.bass_note.pc, start, 4.0))
        notes += [Note(pitch, start, 4.0) for pitch in voicing]
        tones = sorted(chord.pitch_classes)
        for beat in range(4):
            pc = rng.choice(tones) if rng.random() < 0.6 else rng.choice(scale)
            pitch = 72 + pc
            if borrowed and rng.random() < 0.2:  # a chromatic passing or neighbour tone before it
                notes.append(Note(pitch + rng.choice((-1, 1)), start + beat, 0.25))
                notes.append(Note(pitch, start + beat + 0.25, 0.75))
            else:
                notes.append(Note(pitch, start + beat, 1.0))
    return Piece(f"{kind}-{key.name}-{index}", key, tuple(notes))


def generated_pieces(kind: str, per_key: int, seed: int = 15) -> list[Piece]:
    """``per_key`` pieces of ``kind`` (``diatonic``, ``borrowed`` or ``shuffled``) in each of
    the 24 keys."""
    if kind not in ("diatonic", "borrowed", "shuffled"):
        raise ValueError(f"no generated material of kind {kind!r}")
    rng = random.Random(f"{seed}-{kind}")
    return [_piece(key, rng, kind, i) for key in all_keys() for i in range(per_key)]


# --- Bach chorales from music21's corpus -------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    pieces: tuple[Piece, ...]
    files: int
    left_out: int  # no usable key signature or a final bass the rule does not label
    location: str


def _pitch(element: ElementTree.Element) -> int | None:
    pitch = element.find("pitch")
    if pitch is None:
        return None
    step = pitch.findtext("step", "C")
    alter = round(float(pitch.findtext("alter", "0")))
    octave = int(pitch.findtext("octave", "4"))
    return (octave + 1) * 12 + _LETTERS[step] + alter


def _score(data: bytes) -> tuple[int | None, list[Note]]:
    """The first key signature (fifths) and every sounding note, in quarter notes."""
    root = ElementTree.fromstring(data)
    fifths: int | None = None
    notes: list[Note] = []
    for part in root.iter("part"):
        time = 0.0
        divisions = 1.0
        last_start = 0.0
        for measure in part.iter("measure"):
            for element in measure:
                if element.tag == "attributes":
                    divisions = float(element.findtext("divisions", str(divisions)))
                    found = element.find("key/fifths")
                    if found is not None and fifths is None and found.text:
                        fifths = int(found.text)
                elif element.tag == "backup":
                    time -= float(element.findtext("duration", "0")) / divisions
                elif element.tag == "forward":
                    time += float(element.findtext("duration", "0")) / divisions
                elif element.tag == "note":
                    if element.find("grace") is not None:
                        continue
                    length = float(element.findtext("duration", "0")) / divisions
                    chord = element.find("chord") is not None
                    start = last_start if chord else time
                    pitch = _pitch(element)
                    if pitch is not None and element.find("rest") is None and length > 0:
                        notes.append(Note(pitch, start, length))
                    if not chord:
                        last_start = time
                        time += length
    return fifths, notes


def _xml(path: Path) -> bytes:
    if path.suffix == ".xml":
        return path.read_bytes()
    with zipfile.ZipFile(path) as archive:
        container = ElementTree.fromstring(archive.read("META-INF/container.xml"))
        names = [e.get("full-path") for e in container.iter() if e.tag.endswith("rootfile")]
        names += [n for n in archive.namelist() if n.endswith((".xml", ".musicxml")) and "META-INF" not in n]
        return archive.read(next(name for name in names if name))


def _label(fifths: int, notes: list[Note]) -> Key | None:
    """The stated rule (see the module doc): key signature and final bass note."""
    if not notes:
        return None
    end = max(note.time for note in notes)
    final_bass = min(note.pitch for note in notes if note.time == end) % 12
    major_tonic = (fifths * 7) % 12
    offset = (final_bass - major_tonic) % 12
    if offset == 0:
        return Key.canonical(final_bass, Mode.MAJOR)
    if offset in (9, 2):
        return Key.canonical(final_bass, Mode.MINOR)
    return None


def _corpus_files() -> Iterator[Path]:
    folder = resources.files("music21") / "corpus" / "bach"
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith((".mxl", ".xml")):
            yield Path(str(entry))


def bach_chorales(limit: int | None = None) -> Corpus:
    """The labelled chorales (ImportError without music21 installed)."""
    import music21  # noqa: F401 - only to fail clearly when the corpus is not installed

    pieces = []
    files = left_out = 0
    for path in _corpus_files():
        if limit is not None and files >= limit:
            break
        files += 1
        fifths, notes = _score(_xml(path))
        key = _label(fifths, notes) if fifths is not None else None
        if key is None:
            left_out += 1
            continue
        pieces.append(Piece(path.name, key, tuple(notes)))
    location = str(resources.files("music21") / "corpus" / "bach")
    return Corpus(tuple(pieces), files, left_out, location)


# --- Essen folk songs from music21's corpus (ABC) ---------------------------------------------

_ABC_NOTE = re.compile(r"([_^=]?)([A-Ga-gz])([,']*)(\d*)")
_SIGNATURE_ORDER = "FCGDAEB"  # sharps in this order, flats in the reverse
_MAJOR_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "F": -1, "Bb": -2, "Eb": -3,
                 "Ab": -4, "Db": -5, "Gb": -6}  # fmt: skip


def _signature(fifths: int) -> dict[str, int]:
    """Letter -> its accidental in a key signature of ``fifths`` sharps (flats negative)."""
    if fifths >= 0:
        return {letter: 1 for letter in _SIGNATURE_ORDER[:fifths]}
    return {letter: -1 for letter in _SIGNATURE_ORDER[::-1][:-fifths]}


def _abc_tune(lines: list[str]) -> tuple[str, int, list[Note]] | None:
    """(tune number, the tonic's pitch class from K:, notes in quarter notes) of one tune."""
    fields: dict[str, str] = {}
    body: list[str] = []
    for line in lines:
        if len(line) > 1 and line[1] == ":" and line[0].isalpha() and not body:
            fields[line[0]] = line[2:].strip()
        else:
            body.append(line)
    key = fields.get("K", "").replace(" ", "")
    minor = key.endswith("m")
    tonic = key[:-1] if minor else key
    if tonic not in _MAJOR_FIFTHS:
        return None
    fifths = _MAJOR_FIFTHS[tonic] - (3 if minor else 0)
    signature = _signature(fifths)
    unit = 1.0
    if "L" in fields:
        top, _, bottom = fields["L"].partition("/")
        unit = 4.0 * float(top) / float(bottom or 1)  # in quarter notes
    notes: list[Note] = []
    time = 0.0
    for line in body:
        for bar in line.split("|"):
            accidentals: dict[tuple[str, int], int] = {}
            for mark, letter, octave_marks, length in _ABC_NOTE.findall(bar):
                duration = (int(length) if length else 1) * unit
                if letter == "z":
                    time += duration
                    continue
                octave = 5 if letter.islower() else 4
                octave += octave_marks.count("'") - octave_marks.count(",")
                upper = letter.upper()
                if mark:
                    accidentals[(upper, octave)] = {"_": -1, "^": 1, "=": 0}[mark]
                alter = accidentals.get((upper, octave), signature.get(upper, 0))
                notes.append(Note((octave + 1) * 12 + _LETTERS[upper] + alter, time, duration))
                time += duration
    return fields.get("X", "?"), _MAJOR_FIFTHS[tonic] * 7 % 12, notes


def _third_mode(tonic: int, notes: list[Note]) -> Mode | None:
    histogram = [0.0] * 12
    for note in notes:
        histogram[note.pitch % 12] += note.duration
    major, minor = histogram[(tonic + 4) % 12], histogram[(tonic + 3) % 12]
    if major == minor:
        return None
    return Mode.MAJOR if major > minor else Mode.MINOR


def essen_folksongs(limit: int | None = None) -> Corpus:
    """The Essen folk songs (ABC) of music21's corpus, labelled by the rule in the module doc
    (ImportError without music21 installed)."""
    import music21  # noqa: F401 - only to fail clearly when the corpus is not installed

    folder = resources.files("music21") / "corpus" / "essenFolksong"
    pieces = []
    tunes = left_out = 0
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".abc"):
            continue
        for block in re.split(r"\n\s*\n", entry.read_text(encoding="latin-1")):
            lines = [
                line.rstrip() for line in block.splitlines() if line.strip() and not line.startswith("%")
            ]
            if not any(line.startswith("X:") for line in lines):
                continue
            if limit is not None and tunes >= limit:
                break
            tunes += 1
            tune = _abc_tune(lines)
            if tune is None or not tune[2]:
                left_out += 1
                continue
            number, tonic, notes = tune
            mode = _third_mode(tonic, notes)
            if mode is None:
                left_out += 1
                continue
            pieces.append(Piece(f"{entry.name}#{number}", Key.canonical(tonic, mode), tuple(notes)))
    return Corpus(tuple(pieces), tunes, left_out, str(folder))
