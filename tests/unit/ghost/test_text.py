"""Languages, words and the UTF-16 cursor (dawai.core.ghost.text)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.core.ghost.text import clean_line, code_point_index, detect_language, utf16_length, words

texts = st.text(alphabet=st.sampled_from(list("ab あ漢\n😀🎵\x00\u200d")), max_size=20)


@given(texts, st.data())
def test_cursor_in_utf16_units_maps_to_the_same_place(text, data):
    cursor = data.draw(st.integers(0, utf16_length(text)))
    try:
        index = code_point_index(text, cursor)
    except ValueError as exc:
        assert "surrogate pair" in str(exc)
        # it fell between the halves: one unit less is the start of an astral character
        start = code_point_index(text, cursor - 1)
        assert ord(text[start]) > 0xFFFF
        return
    assert utf16_length(text[:index]) == cursor


@given(texts, st.integers(1, 50))
def test_cursor_outside_the_text_is_refused(text, beyond):
    with pytest.raises(ValueError, match="past the end"):
        code_point_index(text, utf16_length(text) + beyond)
    with pytest.raises(ValueError, match="at least 0"):
        code_point_index(text, -beyond)


def test_cursor_examples():
    assert code_point_index("a😀b", 3) == 2
    assert code_point_index("a😀b", 4) == 3
    with pytest.raises(ValueError, match="surrogate"):
        code_point_index("a😀b", 2)


@pytest.mark.parametrize(
    ("text", "hint", "language"),
    [
        ("I walk alone", None, "en"),
        ("夜空に光る", None, "ja"),
        ("Aメロは低めに", None, "ja"),
        ("hello world と", None, "en"),
        ("", None, "en"),
        ("夜空", "en", "en"),
        ("hello", "ja", "ja"),
        ("夜空", "klingon", "ja"),
    ],
)
def test_language(text, hint, language):
    assert detect_language(text, hint) == language


@given(st.text(max_size=40))
def test_clean_line_keeps_no_controls_or_emoji(text):
    cleaned = clean_line(text)
    assert not any(ord(c) < 32 or 0x1F300 <= ord(c) <= 0x1FAFF for c in cleaned)


def test_words():
    assert words("I'm walking, ALONE!") == ["i'm", "walking", "alone"]
