"""Adding: an empty track of a type ("add a drum track", 「ボーカルトラックを追加」) or a
part written by the local generator ("add an 8-bar bassline in A minor",
「ドラムを4小節追加して」) on a new track or on the one the command names ("add 4 bars of
chords to the piano"). A part is in the project's key and tempo (as earlier commands of
the same prompt left them) unless the command names its own, starts at bar 1 of a new
track or at the barline after an existing track's last note unless it says where
("at bar 9", 「9小節目から」), and uses the project's seed unless it names one, so parts
added one by one share a progression."""

from __future__ import annotations

import re
from typing import Any, Final

from dawai.core.agent.offline import lexicon as lx
from dawai.core.agent.offline import reading as rd
from dawai.core.agent.offline.edits import generated_notes, track_end
from dawai.core.agent.offline.replies import Words
from dawai.core.agent.offline.state import Clause, PlanState
from dawai.core.agent.offline.targets import TrackRow, TrackTable
from dawai.core.generation import MAX_BARS, PartType, read_prompt
from dawai.core.music import parse_key

__all__ = ["add_part"]

_PART_NOUN: Final = lx.words(
    "part pattern line progression melody riff groove loop phrase solo beat fill "
    "パート パターン フレーズ ライン 進行 メロディ メロディー リフ ソロ ループ"
)
_SOLO: Final = lx.words("solo ソロ")
_TARGET_EN: Final = re.compile(
    r"\b(?:to|on|onto|into)\s+(?:the\s+)?(.+)$|\bin\s+(?:the\s+)?(.+?\s+track)\b", re.IGNORECASE
)
_TARGET_JA: Final = re.compile(r"^(.+?)(?:に|へ)(?!し)")
_NAME_EN: Final = re.compile(r"\b(?:called|named|titled|name\s+it)\s+[\"'“]?(.+?)[\"'”]?\s*$", re.IGNORECASE)
_NAME_JA: Final = re.compile(
    r"[「『\"](.+?)[」』\"]\s*(?:という|って|の名前)|名前(?:は|を)\s*[「『]?(.+?)[」』]?\s*(?:に|で|と)"
)
_MIDI_WORD: Final = lx.words("midi instrument インストゥルメント")
_BY_KIND: Final = {
    "drums": PartType.DRUM_PATTERN,
    "bass": PartType.BASSLINE,
    "piano": PartType.CHORD_PROGRESSION,
    "epiano": PartType.CHORD_PROGRESSION,
    "guitar": PartType.CHORD_PROGRESSION,
    "organ": PartType.CHORD_PROGRESSION,
    "chords": PartType.CHORD_PROGRESSION,
    "strings": PartType.HARMONY,
    "pad": PartType.HARMONY,
    "harmony": PartType.HARMONY,
    "vocals": PartType.MELODY,
    "melody": PartType.MELODY,
    "lead": PartType.MELODY,
    "synth": PartType.MELODY,
    "sax": PartType.MELODY,
    "flute": PartType.MELODY,
    "brass": PartType.MELODY,
}
_DEFAULT_KIND: Final = {
    PartType.DRUM_PATTERN: "drums",
    PartType.BASSLINE: "bass",
    PartType.CHORD_PROGRESSION: "chords",
    PartType.MELODY: "melody",
    PartType.HARMONY: "harmony",
}
_PART_WORDS: Final = {
    PartType.DRUM_PATTERN: ("drum pattern", "ドラムパターン"),
    PartType.BASSLINE: ("bassline", "ベースライン"),
    PartType.CHORD_PROGRESSION: ("chord progression", "コード進行"),
    PartType.MELODY: ("melody", "メロディ"),
    PartType.HARMONY: ("harmony", "ハーモニー"),
}
_KINDS: Final = {kind.key: kind for kind in lx.INSTRUMENTS}
_TYPE_WORDS: Final = {
    "midi": ("a MIDI", "MIDI"),
    "drums": ("a drum", "ドラム"),
    "audio": ("an audio", "オーディオ"),
    "voice": ("a voice", "ボーカル"),
}


def _split_target(state: PlanState, clause: Clause) -> tuple[TrackRow | None, Clause]:
    """The existing track the command adds to (``to the piano``, 「ピアノに」), and the
    rest of the command."""
    match = _TARGET_EN.search(clause.normal)
    if match is not None:
        target = Clause.of(match.group(1) or match.group(2))
        row = state.tracks.find(target.folded)
        if row is not None:
            return row, Clause.of(clause.normal[: match.start()] + " " + clause.normal[match.end() :])
    match = _TARGET_JA.search(clause.normal)
    if match is not None and lx.is_japanese(clause.normal):
        target = Clause.of(match.group(1))
        row = state.tracks.find(target.folded)
        if row is not None:
            return row, Clause.of(clause.normal[match.end() :])
    return None, clause


def _name(clause: Clause) -> str | None:
    match = _NAME_EN.search(clause.normal) or _NAME_JA.search(clause.normal)
    if match is None:
        return None
    name = next(g for g in match.groups() if g).strip()
    return name[:100] or None


def add_part(state: PlanState, clause: Clause) -> bool:
    row, rest = _split_target(state, clause)
    reading = read_prompt(rest.normal)
    kind = TrackTable.kind_in(rest.folded)
    part = reading.type
    if _SOLO.search(rest.folded) and part is None:
        part = PartType.MELODY
    if part is None and kind is not None:
        part = _BY_KIND.get(kind.key)
    if part is None and row is not None:
        part = PartType.DRUM_PATTERN if row.type == "drums" else None
    wants_part = (
        reading.bars is not None
        or _PART_NOUN.search(rest.folded) is not None
        or row is not None
        or (reading.type is not None and lx.TRACK_WORD.search(rest.folded) is None)
    )
    if not wants_part:
        return _add_track(state, clause, kind)
    if part is None:
        state.not_understood(clause)
        return True
    return _write_part(state, clause, rest, row, part)


def _add_track(state: PlanState, clause: Clause, kind: lx.Instrument | None) -> bool:
    if kind is None and not (lx.TRACK_WORD.search(clause.folded) or _MIDI_WORD.search(clause.folded)):
        return False
    track_type = kind.track_type if kind else "midi"
    instrument = kind.instrument if kind else None
    default = (kind.name_ja if state.japanese else kind.name_en) if kind else None
    number = len(state.tracks.rows) + 1
    name = _name(clause) or default or (f"トラック {number}" if state.japanese else f"Track {number}")
    row = state.tracks.add(name, track_type, instrument)
    params: dict[str, Any] = {"id": row.id, "name": name, "trackType": track_type}
    if instrument:
        params["instrument"] = instrument
    state.act("addTrack", params, f"Add the {track_type} track {name}")
    en, ja = _TYPE_WORDS[track_type]
    state.said(Words(f"Added {en} track '{name}'", f"{ja}トラック「{name}」を追加しました"))
    state.next = "track"
    return True


def _write_part(state: PlanState, clause: Clause, rest: Clause, row: TrackRow | None, part: PartType) -> bool:
    reading = read_prompt(rest.normal)
    bars = reading.bars if reading.bars is not None else 4
    if not 1 <= bars <= MAX_BARS:
        state.cannot(
            Words(
                f"A part is 1 to {MAX_BARS} bars long, not {bars}.",
                f"パートの長さは1〜{MAX_BARS}小節です（{bars}小節は不可）。",
            )
        )
        return True
    key = state.key_in(rest) or state.key or parse_key("C major")
    tempo = reading.tempo if reading.tempo is not None and 20 <= reading.tempo <= 300 else state.tempo
    style = reading.style if reading.genre_named else state.style
    seed = rd.seed_in(rest.folded)
    seed = seed if seed is not None else state.seed
    grid = state.grid(tempo)
    bar = rd.bar_number(rest.folded)
    if row is None:
        kind = TrackTable.kind_in(rest.folded)
        if kind is None or _BY_KIND.get(kind.key) is None or (part.is_drums != (kind.track_type == "drums")):
            kind = _KINDS[_DEFAULT_KIND[part]]
        name = _name(clause) or (kind.name_ja if state.japanese else kind.name_en)
        track_type = "drums" if part.is_drums else "midi"
        row = state.tracks.add(name, track_type, kind.instrument)
        params: dict[str, Any] = {"id": row.id, "name": name, "trackType": track_type}
        if kind.instrument and not part.is_drums:
            params["instrument"] = kind.instrument
        state.act("addTrack", params, f"Add the track {name}")
        start = 0.0
    else:
        start = track_end(row.notes, grid)
    if bar is not None:
        start = grid.seconds(max(1, bar))
    written, description = generated_notes(part, key, style, grid, bars, seed, rest.normal)
    notes = []
    counter = 1
    for pitch, time, duration, velocity in written:
        note_id, counter = state.tracks.note_id(row, counter)
        notes.append(
            {
                "id": note_id,
                "pitch": pitch,
                "time": round(start + time, 6),
                "duration": duration,
                "velocity": velocity,
            }
        )
    if not notes:
        state.cannot(Words("The generator wrote no notes for that.", "生成されたノートがありませんでした。"))
        return True
    for chunk in state.chunks(notes):
        state.act("addNotes", {"trackId": row.id, "notes": chunk}, description)
    row.apply(notes)
    state.tracks.last = row
    en, ja = _PART_WORDS[part]
    key_ja = key.japanese_name or key.name
    state.said(
        Words(
            f"Added {bars} bar{'s' if bars > 1 else ''} of {style.label} {en} in {key.name} at {tempo:g} BPM "
            f"to '{row.name}' ({len(notes)} notes)",
            f"「{row.name}」に{bars}小節の{ja}（{key_ja}、{tempo:g}BPM、{len(notes)}ノート）を追加しました",
        )
    )
    state.next = part.value
    return True
