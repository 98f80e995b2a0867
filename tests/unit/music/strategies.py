"""Hypothesis strategies for the music tests: spelled pitches, keys, chord texts, numerals."""

from __future__ import annotations

from hypothesis import strategies as st

from dawai.core.music import CHORD_KINDS, Key, Mode, SpelledPitch, all_keys
from dawai.core.music.chords import _ALIASES, ALTERATIONS

# Letters with up to two sharps or flats: every spelling a chord symbol can be written with.
spelled_pitches = st.builds(
    SpelledPitch.of, st.sampled_from("CDEFGAB"), st.integers(min_value=-2, max_value=2)
)
# Roots musicians write: one accidental at most.
roots = st.builds(SpelledPitch.of, st.sampled_from("CDEFGAB"), st.integers(min_value=-1, max_value=1))
canonical_keys = st.sampled_from(all_keys())
modal_keys = st.builds(
    lambda pc, mode: Key.canonical(pc, mode), st.integers(0, 11), st.sampled_from(tuple(Mode))
)
chord_kinds = st.sampled_from(sorted(CHORD_KINDS))
kind_spellings = st.sampled_from(sorted(_ALIASES))
alteration_sets = st.lists(st.sampled_from(sorted(ALTERATIONS)), max_size=3, unique=True)
add_sets = st.lists(st.sampled_from((9, 11, 13)), max_size=1)


@st.composite
def chord_texts(draw: st.DrawFn) -> str:
    """A chord symbol as someone might write it: any alias, alterations bare or in
    parentheses, an added tone, a slash bass."""
    text = draw(roots).name + draw(kind_spellings)
    alterations = draw(alteration_sets)
    if alterations:
        text += f"({','.join(alterations)})" if draw(st.booleans()) else "".join(alterations)
    for add in draw(add_sets):
        text += f"add{add}"
    if draw(st.booleans()):
        text += "/" + draw(roots).name
    return text
