"""Rule-based timing and pitch (dawai.core.singing): frame counts that always sum to the
render's length, consonants before the onset, f0 exactly on the note once settled."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.core.errors import InvalidInput
from dawai.core.models import SynthesisNote
from dawai.core.singing import Vibrato, align, f0_curve, is_vowel, syllables

FPS = 44100 / 512
WORDS = {
    ("ja", "さ"): ("s", "a"),
    ("ja", "ka"): ("k", "a"),
    ("ja", "きゃ"): ("ky", "a"),
    ("ja", "っ"): ("cl",),
    ("en", "strong"): ("s", "t", "r", "ao", "ng"),
    ("en", "love"): ("l", "ah", "v"),
    ("en", "a"): ("ah",),
    ("en", "sakura"): None,
    ("ja", "sakura"): ("s", "a", "k", "u", "r", "a"),
}


def g2p(language: str, lyric: str) -> tuple[str, ...] | None:
    return WORDS.get((language, lyric))


LYRICS = st.sampled_from(["さ", "ka", "きゃ", "strong", "love", "a", "sakura", "+", "-", "SP", "AP"])


@st.composite
def phrases(draw: st.DrawFn) -> list[SynthesisNote]:
    notes, t = [], draw(st.floats(0, 1))
    for _ in range(draw(st.integers(1, 12))):
        t += draw(st.sampled_from([0.0, 0.0, 0.003, 0.05, 0.4]))  # legato, tiny and real gaps
        duration = draw(st.sampled_from([0.001, 0.01, 0.05, 0.2, 0.5, 1.3]))
        notes.append(SynthesisNote(draw(st.integers(40, 80)), round(t, 6), duration, draw(LYRICS)))
        t += duration
    return notes


def _sung(notes: list[SynthesisNote]) -> list:
    lyrics = [n.lyric for n in notes]
    if lyrics[0] == "+":
        lyrics[0] = "a"
    for i in range(1, len(lyrics)):  # "+" only after a sung note
        if lyrics[i] == "+" and lyrics[i - 1] in ("-", "SP", "AP"):
            lyrics[i] = "a"
    return syllables(lyrics, None, g2p)


@settings(max_examples=300, deadline=None)
@given(phrases())
def test_frame_counts_always_sum_to_the_render_length(notes):
    alignment = align(notes, _sung(notes))
    end = notes[-1].start + notes[-1].duration
    assert alignment.total_frames == round(end * FPS)
    assert sum(alignment.frames) == alignment.total_frames
    assert all(n >= 1 for n in alignment.frames)
    assert len(alignment.phonemes) == len(alignment.frames) == len(alignment.notes)
    owners = [n for n in alignment.notes if n >= 0]
    assert owners == sorted(owners)


def test_the_onset_is_sung_before_the_note_and_the_vowel_on_it():
    notes = [SynthesisNote(60, 0.5, 0.5, "strong")]
    alignment = align(notes, syllables(["strong"], "en", g2p))
    assert alignment.phonemes == ("SP", "s", "t", "r", "ao", "ng")
    starts = np.cumsum((0, *alignment.frames))
    vowel = alignment.phonemes.index("ao")
    assert starts[vowel] == round(0.5 * FPS)  # the vowel lands on the onset
    assert starts[1] < round(0.5 * FPS)  # s, t, r before it, out of the rest
    assert alignment.phonemes[-1] == "ng"  # the coda at the note's end


def test_legato_consonants_take_from_the_previous_vowel_then_extend_slurs():
    notes = [
        SynthesisNote(60, 0, 0.5, "さ"),
        SynthesisNote(62, 0.5, 0.5, "ka"),
        SynthesisNote(64, 1.0, 0.5, "+"),
    ]
    alignment = align(notes, syllables([n.lyric for n in notes], None, g2p))
    assert alignment.phonemes == ("s", "a", "k", "a", "a")
    starts = np.cumsum((0, *alignment.frames))
    assert starts[2] < round(0.5 * FPS) == starts[3]  # k inside note 0's tail
    assert alignment.notes == (0, 0, 1, 1, 2)


def test_rests_breaths_and_notes_too_short_for_a_frame():
    notes = [
        SynthesisNote(60, 0, 0.3, "AP"),
        SynthesisNote(60, 0.3, 0.001, "ka"),
        SynthesisNote(60, 0.31, 0.3, "-"),
    ]
    alignment = align(notes, syllables([n.lyric for n in notes], None, g2p))
    assert alignment.phonemes[0] == "AP" and alignment.phonemes[-1] == "SP"
    assert sum(alignment.frames) == alignment.total_frames


def test_lyrics_that_cannot_be_sung_name_the_note():
    with pytest.raises(InvalidInput) as caught:
        syllables(["ka", "xyzzy"], None, g2p)
    assert caught.value.errors[0].field == "notes[1].lyric" and "xyzzy" in caught.value.errors[0].message
    with pytest.raises(InvalidInput, match="nothing before this note to extend"):
        syllables(["SP", "+"], None, g2p)
    assert syllables(["sakura"], None, g2p)[0].nucleus == ("a", "k", "u", "r", "a")  # romaji fallback


def cents(a: float, b: float) -> float:
    return 1200 * math.log2(a / b)


def test_f0_holds_each_note_exactly_and_glides_between():
    notes = [SynthesisNote(60, 0, 1.0, "a"), SynthesisNote(67, 1.0, 1.0, "a")]
    total = round(2.0 * FPS)
    f0 = f0_curve(notes, total, 1 / FPS, key_shift=2)
    assert abs(cents(f0[20], 440 * 2 ** ((62 - 69) / 12))) < 1e-6
    assert abs(cents(f0[-20], 440 * 2 ** ((69 - 69) / 12))) < 1e-6
    boundary = round(1.0 * FPS)
    glide = f0[boundary - 5 : boundary + 5]
    assert np.all(np.diff(glide) >= 0) and glide[0] < glide[-1]  # smooth, rising, no step


def test_vibrato_swings_either_side_after_its_delay():
    notes = [SynthesisNote(69, 0, 2.0, "a")]
    total = round(2.0 * FPS)
    f0 = f0_curve(notes, total, 1 / FPS, vibrato=Vibrato(cents=30))
    early = f0[: round(0.3 * FPS)]
    assert np.allclose(early, 440.0)
    swing = [cents(f, 440) for f in f0[round(0.6 * FPS) : round(1.8 * FPS)]]
    assert 25 < max(swing) <= 30.001 and -30.001 <= min(swing) < -25
    assert is_vowel("a") and not is_vowel("k")
