"""The tolerant JSON reader: what models really write, and truncations that never yield
half a member below the root's children."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.core.lenient_json import NoJson, loads_lenient


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a": 1}', {"a": 1}),
        ('```json\n{"a": [1, 2]}\n```', {"a": [1, 2]}),
        ('Here you go:\n```\n{"a": 1}\n```\nAnything else?', {"a": 1}),
        ('Sure! {"a": 1} Hope that helps.', {"a": 1}),
        ('{"a": [1, 2,], "b": {"c": 3,},}', {"a": [1, 2], "b": {"c": 3}}),
        ("{'a': 'it\\'s', \"b\": 'x'}", {"a": "it's", "b": "x"}),
        ("{a: True, b: None, c: False}", {"a": True, "b": None, "c": False}),
        ('{"a": 1, // one\n /* two */ "b": 2}', {"a": 1, "b": 2}),
        ('{"a": "line\nbreak"}', {"a": "line\nbreak"}),
        ('{"a": "\\u3042\\ud83c\\udfb5"}', {"a": "あ🎵"}),
        ('[{"type": "a"}]', [{"type": "a"}]),
        ('{"actions": [{"type": "a"}, {"type": "b", "params": {"x": [1, 2', {"actions": [{"type": "a"}]}),
        ('{"actions": [{"type": "a"}], "summary": "cut he', {"actions": [{"type": "a"}]}),
        ('{"actions": [], "tempo": 12', {"actions": []}),
        ('{"actions": [{"type": "a"}], "summary": "s"', {"actions": [{"type": "a"}], "summary": "s"}),
    ],
)
def test_what_models_write(text, value):
    assert loads_lenient(text) == value


@pytest.mark.parametrize("text", ["", "I cannot do that.", "No JSON here, sorry :)"])
def test_prose_only_is_no_json(text):
    with pytest.raises(NoJson):
        loads_lenient(text)


def test_depth_is_bounded():
    with pytest.raises(NoJson):
        loads_lenient("{'a': " * 100)


json_values = st.recursive(
    st.one_of(
        st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none(), st.text()
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
prose = st.text(alphabet=st.characters(blacklist_characters="{}[]`"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=4), prose, prose, st.booleans())
def test_any_json_object_inside_prose(value, before, after, fenced):
    body = json.dumps(value, ensure_ascii=False)
    text = f"{before}\n```json\n{body}\n```\n{after}" if fenced else f"{before} {body} {after}"
    assert loads_lenient(text) == value


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.dictionaries(st.text(max_size=5), json_values, max_size=3), max_size=5), st.integers(0, 5000)
)
def test_a_truncated_plan_keeps_only_whole_actions(actions, stop):
    text = json.dumps({"actions": actions, "summary": "done"}, ensure_ascii=False)
    cut = text[: min(stop, len(text))]
    if "{" not in cut:
        return
    value = loads_lenient(cut)
    kept = value.get("actions", [])
    assert kept == actions[: len(kept)]
    if "summary" in value:
        assert value["summary"] == "done"


def test_an_integer_longer_than_python_reads_is_a_float_not_an_error():
    # int() refuses more than 4,300 digits; a hostile upstream's plan must not become a 500.
    digits = "1" * 5000
    assert loads_lenient(f'{{"pitch": {digits}, "velocity": -{digits},}}') == {
        "pitch": float("inf"),
        "velocity": float("-inf"),
    }
    assert loads_lenient(f"[{digits[:4000]},]") == [int(digits[:4000])]
