"""Rule-based timing: which phoneme sounds in each frame of the render.

The render is ``total_frames`` frames of ``hop`` samples (512 at 44.1 kHz, DiffSinger's
grid), ``total_frames = round(last note end / frame length)``. Every frame belongs to
exactly one phoneme, so the frame counts of the alignment always sum to ``total_frames``.

A note's frames go to its syllable's vowels; the consonants before its first vowel (the
onset) are placed *before* the note's onset, as singers do, taken first from the silence
before the note, then from the end of the previous note's vowel (at most half of it), and
only then from the note's own start (at most half of it). Consonants after the last vowel
(the coda) take the end of the last note the syllable covers. Interior consonants of a
several-vowel lyric keep their length and the vowels share the rest. Rests are ``SP``,
breaths ``AP``; a note too short to own a frame sings nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec

from dawai.core.models import SynthesisNote
from dawai.core.singing.lyrics import Syllable
from dawai.core.singing.phonemes import BREATH, SILENCE, PhonemeKind, kind_of

__all__ = ["CONSONANT_SECONDS", "Alignment", "align"]

# How long each kind of consonant would like to be, in seconds.
CONSONANT_SECONDS = {
    "stop": 0.06,
    "voiced_stop": 0.05,
    "fricative": 0.09,
    "voiced_fricative": 0.07,
    "affricate": 0.08,
    "nasal": 0.06,
    "liquid": 0.035,
    "glide": 0.05,
    "aspirate": 0.06,
    "closure": 0.08,
}


class Alignment(msgspec.Struct, frozen=True):
    """Phonemes in order with their frame counts and the note each belongs to (-1: the
    silence between notes); ``sum(frames) == total_frames``."""

    phonemes: tuple[str, ...]
    frames: tuple[int, ...]
    notes: tuple[int, ...]
    total_frames: int
    frame_seconds: float


@dataclass(slots=True)
class _Seg:
    phoneme: str
    frames: int
    note: int


def _want(kind: PhonemeKind, fps: float) -> int:
    return max(1, round(CONSONANT_SECONDS.get(kind, 0.06) * fps))


def _share(total: int, wants: Sequence[int]) -> list[int]:
    """``total`` frames shared among parts in proportion to ``wants``; every part gets at
    least one while ``total`` allows (the first parts are dropped, with 0, when it does not)."""
    n = len(wants)
    if total <= 0 or n == 0:
        return [0] * n
    if total < n:
        return [0] * (n - total) + [1] * total
    weight = sum(wants)
    got = [max(1, (w * total) // weight) for w in wants]
    i = 0
    while sum(got) > total:  # rounding up to 1 overshot: take back from the largest
        j = max(range(n), key=got.__getitem__)
        got[j] -= 1
    while sum(got) < total:
        got[i % n] += 1
        i += 1
    return got


def align(
    notes: Sequence[SynthesisNote],
    syllables: Sequence[Syllable],
    *,
    sample_rate: int = 44100,
    hop: int = 512,
    kind: Callable[[str], PhonemeKind] = kind_of,
) -> Alignment:
    """The alignment of sorted, non-overlapping ``notes`` singing ``syllables`` (one each).

    ``kind`` classes each phoneme (a voicebank passes its own, for phoneme names outside
    the shared inventory); vowels carry the notes, the other kinds set consonant lengths."""
    fps = sample_rate / hop

    def is_vowel(phoneme: str) -> bool:
        return phoneme not in (SILENCE, BREATH) and kind(phoneme) == "vowel"

    def want(phoneme: str) -> int:
        return _want(kind(phoneme), fps)

    total = round((notes[-1].start + notes[-1].duration) * fps) if notes else 0
    # Segments: [phoneme, frames, note]; consonants steal frames from what precedes them.
    segs: list[_Seg] = []
    cursor = 0
    group_note = -1  # the sung note whose syllable the current extends continue
    pending_coda: tuple[str, ...] = ()

    def place_coda() -> None:
        nonlocal pending_coda
        if pending_coda and segs and is_vowel(segs[-1].phoneme):
            last = segs[-1]
            room = last.frames * 2 // 5  # at most 40% of the last vowel
            parts = _share(room, [want(p) for p in pending_coda])
            for phoneme, n in zip(pending_coda, parts, strict=True):
                if n:
                    last.frames -= n
                    segs.append(_Seg(phoneme, n, last.note))
        pending_coda = ()

    for index, (note, syllable) in enumerate(zip(notes, syllables, strict=True)):
        start = min(round(note.start * fps), total)
        end = min(round((note.start + note.duration) * fps), total)
        start = max(start, cursor)
        length = end - start
        if syllable.kind != "extend":
            place_coda()
        if start > cursor:
            segs.append(_Seg(SILENCE, start - cursor, -1))
        cursor = max(cursor, end)
        if length <= 0:
            continue
        if syllable.kind == "rest":
            segs.append(_Seg(SILENCE, length, index))
            group_note = -1
            continue
        if syllable.kind == "breath":
            segs.append(_Seg(BREATH, length, index))
            group_note = -1
            continue
        if syllable.kind == "extend":
            vowel = next((s.phoneme for s in reversed(segs) if is_vowel(s.phoneme)), None)
            if group_note < 0 or vowel is None:
                segs.append(_Seg(SILENCE, length, index))
                continue
            segs.append(_Seg(vowel, length, index))
            continue
        group_note = index
        pending_coda = syllable.coda
        # The onset, before the note: from the silence, then the previous vowel, then the note.
        onset = list(syllable.onset)
        need = sum(want(p) for p in onset)
        taken = 0
        if onset and segs and segs[-1].phoneme == SILENCE and segs[-1].note == -1:
            take = min(need, segs[-1].frames)
            segs[-1].frames -= take
            taken += take
        if onset and taken < need and segs and is_vowel(segs[-1].phoneme) and segs[-1].frames > 1:
            take = min(need - taken, segs[-1].frames // 2)
            segs[-1].frames -= take
            taken += take
        own = min(need - taken, length // 2) if onset else 0
        for phoneme, n in zip(onset, _share(taken + own, [want(p) for p in onset]), strict=True):
            if n:
                segs.append(_Seg(phoneme, n, index))
        body = length - own
        nucleus = list(syllable.nucleus) or ["a"]
        vowels = [i for i, p in enumerate(nucleus) if is_vowel(p)]
        if len(nucleus) == 1 or not vowels:
            parts = _share(body, [1] * len(nucleus))
        else:
            inner = {i: want(p) for i, p in enumerate(nucleus) if not is_vowel(p)}
            inner_total = min(sum(inner.values()), body // 2)
            inner_parts = _share(inner_total, list(inner.values()))
            vowel_parts = _share(body - sum(inner_parts), [1] * len(vowels))
            lookup = dict(zip(inner, inner_parts, strict=True)) | dict(zip(vowels, vowel_parts, strict=True))
            parts = [lookup[i] for i in range(len(nucleus))]
        for phoneme, n in zip(nucleus, parts, strict=True):
            if n:
                segs.append(_Seg(phoneme, n, index))
    place_coda()
    kept = [s for s in segs if s.frames > 0]
    frames = tuple(s.frames for s in kept)
    assert sum(frames) == total, (sum(frames), total)
    return Alignment(
        phonemes=tuple(s.phoneme for s in kept),
        frames=frames,
        notes=tuple(s.note for s in kept),
        total_frames=total,
        frame_seconds=hop / sample_rate,
    )
