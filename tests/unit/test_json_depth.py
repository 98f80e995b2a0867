"""The byte scan that refuses deep JSON before it is decoded, against a reference depth."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.adapters.http.json_body import MAX_JSON_DEPTH, json_depth_exceeds

# Strings full of what a naive scan would miscount: brackets, quotes and backslashes.
tricky_text = st.text(alphabet='[]{}"\\ab\n', max_size=8)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | tricky_text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=40,
)


def depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    return 0


def chain_of(levels: int, inner: object) -> object:
    for i in range(levels):
        inner = [inner] if i % 2 else {"k[": inner, "s": '"]\\'}
    return inner


@settings(max_examples=400, deadline=None)
@given(json_values, st.integers(0, 8), st.booleans())
def test_matches_the_reference_depth(value, limit, ascii_only):
    body = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert json_depth_exceeds(body, limit) == (depth(value) > limit)


@settings(max_examples=100, deadline=None)
@given(json_values, st.integers(MAX_JSON_DEPTH - 3, MAX_JSON_DEPTH + 3))
def test_matches_the_reference_depth_around_the_limit(value, levels):
    wrapped = chain_of(levels, value)
    body = json.dumps(wrapped).encode()
    assert json_depth_exceeds(body) == (depth(wrapped) > MAX_JSON_DEPTH)


def test_brackets_inside_strings_do_not_count():
    body = json.dumps({"message": "[" * 10_000 + '\\"{' * 1000, "k": ["\\", '"[[[']}).encode()
    assert not json_depth_exceeds(body)


def test_very_deep_and_unterminated_bodies_exceed():
    assert json_depth_exceeds(b"[" * 100_000)
    assert json_depth_exceeds(b"[[]" * 1000)
    assert json_depth_exceeds(b'{"a":' * 65 + b"1" + b"}" * 65)
    assert not json_depth_exceeds(b'{"a":' * 64 + b"1" + b"}" * 64)
