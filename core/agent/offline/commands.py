"""One handler per kind of command. Each reads a ``Clause``; when the command is its kind
it writes actions (or says why it cannot) into the ``PlanState`` and answers ``True``.
``HANDLERS`` is the order they are tried in: removing before effects (so "remove the
reverb" is not read as adding one), effects before adding ("add reverb to the vocals"),
adding before the track edits ("add a guitar solo" is a part, not a solo switch)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from dawai.core.agent.offline import lexicon as lx
from dawai.core.agent.offline import reading as rd
from dawai.core.agent.offline.edits import (
    editable,
    effect_settings,
    quantised,
    stretched,
    transposed,
)
from dawai.core.agent.offline.parts import add_part
from dawai.core.agent.offline.replies import Words
from dawai.core.agent.offline.state import Clause, PlanState
from dawai.core.agent.offline.targets import TrackRow

__all__ = ["HANDLERS", "WEAK_ADD"]

_TRACK_REF_RE: Final = re.compile(
    r"(?:track|トラック)\s*(?:id\s*)?[#№]?\s*[\w-]+|\d+\s*(?:st|nd|rd|th)\s*track"
)
_EFFECT_JA: Final = {
    "reverb": "リバーブ",
    "delay": "ディレイ",
    "eq": "EQ",
    "compressor": "コンプレッサー",
    "chorus": "コーラス",
    "distortion": "ディストーション",
}
_CLEAR: Final = lx.words("clear empty クリア 空に 空っぽ")
_NOTES: Final = lx.words("notes note ノート 音符")


def _values(state: PlanState, clause: Clause) -> str:
    """The clause without its track references and names, for reading numbers."""
    text = _TRACK_REF_RE.sub(" ", clause.folded)
    for row in state.tracks.rows:
        name = lx.fold(row.name).strip()
        if name and any(ch.isdigit() for ch in name):
            text = text.replace(name, " ")
    return text


def _target(state: PlanState, clause: Clause, *, explicit: bool = False) -> TrackRow | None:
    row = state.tracks.find(clause.folded)
    if row is None and not explicit:
        row = state.tracks.default()
    if row is None:
        state.cannot(
            Words(
                f'Which track? Name it in "{clause.text}" (by name, by type like "the drums", '
                '"current track").',
                f"「{clause.text}」の対象トラックが分かりません。トラック名や「ドラム」などの種類、「現在のトラック」で指定してください。",
            )
        )
    return row


def _delete(state: PlanState, clause: Clause) -> bool:
    f = clause.folded
    clearing = _CLEAR.search(f) is not None
    if not (lx.DELETE.search(f) or clearing):
        return False
    if any(p.search(f) for p in lx.EFFECT_WORDS.values()):
        state.not_understood(clause)  # no action removes an effect
        return True
    row = _target(state, clause, explicit=True)
    if row is None:
        return True
    if clearing or _NOTES.search(f):
        ids = [str(n.id) for n in row.notes if n.id is not None]
        if not ids:
            state.said(
                Words(f"'{row.name}' has no notes to delete", f"「{row.name}」には削除するノートがありません")
            )
            return True
        for chunk in state.chunks(ids):
            state.act("deleteNotes", {"trackId": row.id, "noteIds": chunk}, f"Delete notes of {row.name}")
        row.notes = [n for n in row.notes if n.id is None]
        state.tracks.last = row
        state.said(
            Words(
                f"Deleted {len(ids)} notes of '{row.name}'",
                f"「{row.name}」のノートを{len(ids)}個削除しました",
            )
        )
        state.next = "edit"
        return True
    state.act("deleteTrack", {"trackId": row.id}, f"Delete track {row.name}")
    state.tracks.delete(row)
    state.said(Words(f"Deleted the track '{row.name}'", f"トラック「{row.name}」を削除しました"))
    state.next = "edit"
    return True


def _effect(state: PlanState, clause: Clause) -> bool:
    f = clause.folded
    found = [(m.start(), name) for name, p in lx.EFFECT_WORDS.items() if (m := p.search(f))]
    if not found:
        return False
    effect = min(found)[1]
    row = _target(state, clause)
    if row is None:
        return True
    settings = effect_settings(effect, f, state.grid(), rd.percent(f))
    state.act(
        "applyEffect",
        {"trackId": row.id, "effect": effect, "settings": settings},
        f"Apply {effect} to {row.name}",
    )
    state.tracks.last = row
    label = {"eq": "EQ"}.get(effect, effect)
    shown = ", ".join(f"{k} {v:g}" for k, v in settings.items())
    state.said(
        Words(
            f"Put {label} on '{row.name}' ({shown})",
            f"「{row.name}」に{_EFFECT_JA[effect]}をかけました（{shown}）",
        )
    )
    state.next = "edit"
    return True


def _add(weak: bool) -> Callable[[PlanState, Clause], bool]:
    verbs = lx.ADD_WEAK if weak else lx.ADD_STRONG

    def handler(state: PlanState, clause: Clause) -> bool:
        if not verbs.search(clause.folded):
            return False
        return add_part(state, clause)

    return handler


def _switch(state: PlanState, clause: Clause) -> bool:
    f = clause.folded
    field: str
    if lx.UNMUTE.search(f):
        field, value = "muted", False
    elif lx.MUTE.search(f):
        field, value = "muted", True
    elif lx.UNSOLO.search(f):
        field, value = "solo", False
    elif lx.SOLO.search(f):
        field, value = "solo", True
    else:
        return False
    row = _target(state, clause)
    if row is None:
        return True
    verb = {
        ("muted", True): "Mute",
        ("muted", False): "Unmute",
        ("solo", True): "Solo",
        ("solo", False): "Unsolo",
    }
    state.act("updateTrack", {"trackId": row.id, field: value}, f"{verb[(field, value)]} {row.name}")
    state.tracks.last = row
    done = {
        ("muted", True): Words(f"Muted '{row.name}'", f"「{row.name}」をミュートしました"),
        ("muted", False): Words(f"Unmuted '{row.name}'", f"「{row.name}」のミュートを解除しました"),
        ("solo", True): Words(f"Soloed '{row.name}'", f"「{row.name}」をソロにしました"),
        ("solo", False): Words(f"Took '{row.name}' out of solo", f"「{row.name}」のソロを解除しました"),
    }
    state.said(done[(field, value)])
    state.next = "edit"
    return True


def _volume(state: PlanState, clause: Clause) -> bool:
    f = clause.folded
    if not lx.VOLUME.search(f):
        return False
    text = _values(state, clause)
    value = rd.percent(text)
    value = value if value is not None else rd.first_number(text)
    if value is None or not 0 <= value <= 100:
        state.cannot(
            Words(
                f'Give the volume as a number from 0 to 100 in "{clause.text}".',
                f"「{clause.text}」の音量は0〜100の数値で指定してください。",
            )
        )
        return True
    row = _target(state, clause)
    if row is None:
        return True
    state.act("updateTrack", {"trackId": row.id, "volume": value}, f"Volume of {row.name} to {value:g}")
    state.tracks.last = row
    state.said(
        Words(f"Set the volume of '{row.name}' to {value:g}", f"「{row.name}」の音量を{value:g}にしました")
    )
    state.next = "edit"
    return True


def _pan(state: PlanState, clause: Clause) -> bool:
    f = clause.folded
    if not (lx.PAN.search(f) or lx.LEFT.search(f) or lx.RIGHT.search(f) or lx.CENTRE.search(f)):
        return False
    value = rd.pan_value(_values(state, clause))
    if value is None or not -100 <= value <= 100:
        state.cannot(
            Words(
                f"Give the pan from -100 (left) to 100 (right), or say left, right or center, "
                f'in "{clause.text}".',
                f"「{clause.text}」のパンは-100（左）〜100（右）か、左・右・中央で指定してください。",
            )
        )
        return True
    row = _target(state, clause)
    if row is None:
        return True
    state.act("updateTrack", {"trackId": row.id, "pan": value}, f"Pan {row.name} to {value:g}")
    state.tracks.last = row
    state.said(Words(f"Panned '{row.name}' to {value:g}", f"「{row.name}」のパンを{value:g}にしました"))
    state.next = "edit"
    return True


def _edit_notes(state: PlanState, row: TrackRow, edits: list[dict[str, object]], description: str) -> None:
    for chunk in state.chunks(edits):
        state.act("updateNotes", {"trackId": row.id, "notes": chunk}, description)
    row.apply(edits)
    state.tracks.last = row
    state.next = "edit"


def _note_target(state: PlanState, clause: Clause, *, pitched: bool = False) -> TrackRow | None:
    """The clause's track when it has notes to edit, else None (and why, unless the clause
    sweeps over every track). ``pitched``: a sweep leaves drum tracks alone, their notes
    being instruments, not pitches."""
    row = _target(state, clause)
    if row is None or (pitched and clause.sweep and row.type == "drums"):
        return None
    if not editable(row.notes):
        if not clause.sweep:
            state.cannot(
                Words(
                    f"'{row.name}' has no notes to change.",
                    f"「{row.name}」には変更できるノートがありません。",
                )
            )
        return None
    return row


def _transpose(state: PlanState, clause: Clause) -> bool:
    f = clause.folded
    text = _values(state, clause)
    amount = rd.semitones(text)
    if not lx.TRANSPOSE.search(f) and not (amount is not None and (lx.UP.search(f) or lx.DOWN.search(f))):
        return False
    if amount is None and lx.TRANSPOSE.search(f):
        target = state.key_in(clause)
        if target is not None and state.key is not None:
            amount = (target.pitch_class - state.key.pitch_class) % 12
            amount = amount - 12 if amount > 6 else amount
    if amount is None:
        state.cannot(
            Words(
                f'By how much? Say e.g. "up 2 semitones" or "down an octave" in "{clause.text}".',
                f"「{clause.text}」の移調量を「半音2つ上げて」「1オクターブ下げて」のように指定してください。",
            )
        )
        return True
    row = _note_target(state, clause, pitched=True)
    if row is None:
        return True
    edits = transposed(row.notes, amount)
    if edits is None:
        state.cannot(
            Words(
                f"Transposing '{row.name}' by {amount:+d} would take notes beyond MIDI's 0-127.",
                f"「{row.name}」を{amount:+d}半音移調すると、ノートがMIDIの0〜127を超えます。",
            )
        )
        return True
    _edit_notes(state, row, edits, f"Transpose {row.name} by {amount:+d}")
    state.said(
        Words(
            f"Transposed '{row.name}' by {amount:+d} semitones ({len(edits)} notes)",
            f"「{row.name}」を{amount:+d}半音移調しました（{len(edits)}ノート）",
        )
    )
    return True


def _quantise(state: PlanState, clause: Clause) -> bool:
    if not lx.QUANTISE.search(clause.folded):
        return False
    quarters = rd.grid_quarters(_values(state, clause))
    if quarters is None:
        state.cannot(
            Words(
                f'Quantise to a note value like 1/8 or 1/16 in "{clause.text}".',
                f"「{clause.text}」のクオンタイズは1/8や1/16のような音価で指定してください。",
            )
        )
        return True
    row = _note_target(state, clause)
    if row is None:
        return True
    step = quarters * 60.0 / state.tempo
    edits = quantised(row.notes, step)
    grid = (
        f"1/{round(4 / quarters)}"
        if abs(4 / quarters - round(4 / quarters)) < 1e-9
        else f"1/{round(4 / quarters * 2 / 3)}T"
    )
    if not edits:
        state.said(
            Words(
                f"'{row.name}' is already on the {grid} grid",
                f"「{row.name}」はすでに{grid}グリッドに揃っています",
            )
        )
        state.tracks.last = row
        return True
    _edit_notes(state, row, edits, f"Quantise {row.name} to {grid}")
    state.said(
        Words(
            f"Quantised '{row.name}' to {grid} ({len(edits)} notes moved)",
            f"「{row.name}」を{grid}にクオンタイズしました（{len(edits)}ノート）",
        )
    )
    return True


def _stretch(state: PlanState, clause: Clause) -> bool:
    f = clause.folded
    if lx.STRETCH_FASTER.search(f):
        factor = 0.5
    elif lx.STRETCH_SLOWER.search(f) or lx.STRETCH_DOUBLE.search(f):
        factor = 2.0
    else:
        return False
    row = _note_target(state, clause)
    if row is None:
        return True
    edits = stretched(row.notes, factor)
    if edits is None:
        state.cannot(
            Words(f"'{row.name}' would grow beyond the song's limits.", f"「{row.name}」が長くなりすぎます。")
        )
        return True
    _edit_notes(state, row, edits, f"Stretch {row.name} by {factor:g}")
    state.said(
        Words(
            f"{'Doubled' if factor > 1 else 'Halved'} the note lengths and spacing of '{row.name}'",
            f"「{row.name}」のノートを{'2倍' if factor > 1 else '半分'}の長さにしました",
        )
    )
    return True


_RENAME_EN: Final = re.compile(r"\bto\s+[\"'“「]?(.+?)[\"'”」]?\s*$", re.IGNORECASE)
_RENAME_JA: Final = re.compile(r"名前を\s*[「『\"]?(.+?)[」』\"]?\s*(?:に|へ)")


def _rename(state: PlanState, clause: Clause) -> bool:
    if not lx.RENAME.search(clause.folded):
        return False
    match = _RENAME_JA.search(clause.normal) or _RENAME_EN.search(clause.normal)
    if match is None or not 0 < len(match.group(1).strip()) <= 100:
        state.cannot(
            Words(
                'What name? Say "rename ... to NAME".',
                "新しい名前を「名前をXにして」のように指定してください。",
            )
        )
        return True
    name = match.group(1).strip()
    before = Clause.of(clause.normal[: match.start()])
    row = state.tracks.find(before.folded) or state.tracks.default()
    if row is None:
        return _target(state, clause) is not None
    state.act("updateTrack", {"trackId": row.id, "name": name}, f"Rename {row.name} to {name}")
    state.said(Words(f"Renamed '{row.name}' to '{name}'", f"「{row.name}」の名前を「{name}」にしました"))
    row.name = name
    state.tracks.last = row
    state.next = "edit"
    return True


_SIGNATURE_RE: Final = re.compile(
    r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])|(\d{1,2})\s*分の\s*(\d{1,2})\s*拍子"
)


def _project(state: PlanState, clause: Clause) -> bool:
    f = clause.folded
    tempo_word = lx.TEMPO.search(f)
    signature = _SIGNATURE_RE.search(f)
    keyed = lx.KEY.search(f)
    bpm = rd.tempo_in(f)
    if not (tempo_word or signature or keyed or bpm is not None):
        return False
    params: dict[str, object] = {}
    told: list[Words] = []
    if tempo_word or bpm is not None:
        tempo = (
            bpm
            if bpm is not None
            else rd.first_number(_SIGNATURE_RE.sub(" ", f[tempo_word.end() :] if tempo_word else f))
        )
        if tempo is None and tempo_word is not None:
            tempo = rd.first_number(_SIGNATURE_RE.sub(" ", f))
        if tempo is None or not 20 <= tempo <= 300:
            state.cannot(
                Words(
                    f'Give the tempo as 20-300 BPM in "{clause.text}".',
                    f"「{clause.text}」のテンポは20〜300BPMで指定してください。",
                )
            )
        else:
            params["tempo"] = tempo
            state.tempo = tempo
            told.append(Words(f"tempo to {tempo:g} BPM", f"テンポを{tempo:g}BPM"))
    if signature:
        beats, unit = (
            (signature.group(1), signature.group(2))
            if signature.group(1)
            else (signature.group(4), signature.group(3))
        )
        written = f"{int(beats)}/{int(unit)}"
        if state.set_signature(written):
            params["timeSignature"] = written
            told.append(Words(f"time signature to {written}", f"拍子を{written}"))
        else:
            state.cannot(
                Words(f"'{written}' is not a time signature.", f"「{written}」は拍子として使えません。")
            )
    if keyed:
        key = state.key_in(clause)
        if key is None:
            state.cannot(
                Words(
                    f'Which key? Write it like "A minor" or "F#m" in "{clause.text}".',
                    f"「{clause.text}」のキーを「Aマイナー」「イ短調」のように指定してください。",
                )
            )
        else:
            params["key"] = key.name
            state.key = key
            told.append(Words(f"key to {key.name}", f"キーを{key.japanese_name or key.name}"))
    if params:
        state.act("updateProject", params, "Project settings")
        state.said(
            Words(
                "Set the " + ", ".join(w.en for w in told), "、".join(w.ja for w in told) + "に変更しました"
            )
        )
        state.next = "project"
    return True


HANDLERS: Final[tuple[Callable[[PlanState, Clause], bool], ...]] = (
    _delete,
    _effect,
    _add(weak=False),
    _switch,
    _volume,
    _pan,
    _transpose,
    _quantise,
    _stretch,
    _rename,
    _project,
    _add(weak=True),
)
WEAK_ADD: Final = _add(weak=True)
