"""The streamed plan reader: each action as soon as it is complete, never before, however
the stream is cut; differential against ``json.loads`` of the whole document."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.core.agent.incremental import OVERSIZED, ActionScanner

tricky_text = st.text(
    alphabet=st.sampled_from(list("ab {}[]\"\\',:/\n\tあ音🎵\u2028")) | st.characters(codec="utf-8"),
    max_size=12,
)
scalars = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    tricky_text,
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=8,
)
actions = st.lists(st.dictionaries(tricky_text, values, max_size=4), max_size=5)
plans = st.fixed_dictionaries(
    {"actions": actions, "summary": tricky_text, "nextSteps": tricky_text},
    optional={"other": values},
)


def document(plan: dict[str, Any], ascii_only: bool, indent: int | None) -> str:
    ordered = {"actions": plan["actions"], **plan}  # actions first, as _ends counts
    return json.dumps(ordered, ensure_ascii=ascii_only, indent=indent)


def cuts(size: int, points: list[int]) -> list[int]:
    return sorted({min(p, size) for p in points} | {0, size})


def scan(pieces: list[Any]) -> tuple[list[Any], Any]:
    scanner = ActionScanner()
    found = []
    for piece in pieces:
        found += [json.loads(text) for text in scanner.feed(piece)]
    return found, scanner.finish()


@settings(max_examples=300, deadline=None)
@given(plans, st.booleans(), st.sampled_from([None, 0, 2]), st.lists(st.integers(0, 4000), max_size=30))
def test_streamed_actions_equal_the_whole_documents(plan, ascii_only, indent, points):
    raw = document(plan, ascii_only, indent).encode()
    at = cuts(len(raw), points)
    pieces = [raw[a:b] for a, b in pairwise(at)]
    found, end = scan(pieces)
    whole = json.loads(raw)
    assert found == whole["actions"]
    assert end.complete and end.saw_actions
    assert end.summary == whole["summary"] and end.next_steps == whole["nextSteps"]


@settings(max_examples=200, deadline=None)
@given(plans, st.booleans(), st.integers(0, 10_000), st.lists(st.integers(0, 4000), max_size=10))
def test_a_truncated_stream_never_yields_a_partial_action(plan, ascii_only, stop, points):
    raw = document(plan, ascii_only, None).encode()
    stop = min(stop, len(raw))
    at = cuts(stop, points)
    found, _ = scan([raw[a:b] for a, b in pairwise(at)])
    # Exactly the actions whose closing brace lies within the prefix, each whole.
    assert found == plan["actions"][: len(found)]
    complete = [a for a in _ends(plan, ascii_only) if a <= stop]
    assert len(found) == len(complete)


def _ends(plan: dict[str, Any], ascii_only: bool) -> list[int]:
    """Byte offsets just past each action's closing brace in the document."""
    ends, prefix = [], '{"actions": ['
    for i, action in enumerate(plan["actions"]):
        prefix += ("" if i == 0 else ", ") + json.dumps(action, ensure_ascii=ascii_only)
        ends.append(len(prefix.encode()))
    return ends


@settings(max_examples=100, deadline=None)
@given(plans, st.lists(st.integers(0, 4000), max_size=30))
def test_text_pieces_work_as_bytes_do(plan, points):
    text = json.dumps(plan, ensure_ascii=False)
    at = cuts(len(text), points)
    found, _ = scan([text[a:b] for a, b in pairwise(at)])
    assert found == plan["actions"]


def test_an_escape_split_across_pieces():
    doc = '{"actions": [{"d": "a\\\\"}, {"d": "\\"}"}, {"d": "\\ud83c\\udfb5"}], "summary": "ok"}'
    for split in range(len(doc) + 1):
        found, end = scan([doc[:split], doc[split:]])
        assert found == [{"d": "a\\"}, {"d": '"}'}, {"d": "🎵"}]
        assert end.summary == "ok"


def test_a_number_cut_at_a_piece_end_is_not_final():
    scanner = ActionScanner()
    assert scanner.feed('{"actions": [{"pitch": 6') == []
    assert scanner.feed("4}") == ['{"pitch": 64}']


def test_the_first_action_comes_before_the_stream_ends():
    scanner = ActionScanner()
    assert scanner.feed('{"actions": [{"type": "a"},') == ['{"type": "a"}']
    assert scanner.feed(' {"type": "b"') == []


def test_prose_and_fences_around_the_json():
    text = (
        'Sure! Here is the plan:\n```json\n{"actions": [{"type": "x", "n": "it\'s"},], '
        "\"summary\": 'hi',}\n```\nEnjoy {!}"
    )
    found, end = scan([text[i : i + 3] for i in range(0, len(text), 3)])
    assert found == [{"type": "x", "n": "it's"}]
    assert end.summary == "hi" and end.complete


def test_single_quoted_elements_are_found_whole():
    found = ActionScanner().feed("{'actions': [{'type': 'a', 'd': 'x}y'}, {'type': 'b'}]}")
    assert found == ["{'type': 'a', 'd': 'x}y'}", "{'type': 'b'}"]


def test_a_bare_array_of_actions():
    found, end = scan(['[{"type": "a"}, {"type"', ': "b"}]'])
    assert found == [{"type": "a"}, {"type": "b"}] and end.saw_actions


def test_prose_only():
    scanner = ActionScanner()
    assert scanner.feed("I can't edit your song, sorry.") == []
    end = scanner.finish()
    assert not end.found_root and end.head.startswith("I can't")


def test_an_oversized_element_is_replaced():
    scanner = ActionScanner(max_element_chars=50)
    found = scanner.feed('{"actions": [{"d": "' + "x" * 30) + scanner.feed("x" * 30 + '"}, {"d": 1}]}')
    assert found == [OVERSIZED, '{"d": 1}']


def test_keys_that_are_not_actions_are_skipped():
    found, end = scan(['{"notes": [{"a": 1}], "actions": [{"b": [1, {"c": "]"}]}], "nextSteps": "go"}'])
    assert found == [{"b": [1, {"c": "]"}]}] and end.next_steps == "go"


# -- exact texts, whatever the writing ---------------------------------------------------
# A plan written the ways models write it (either quote, any spacing, trailing commas,
# prose and a fence before it): the scanner hands back each action's text exactly as
# written, whatever the pieces, so nothing is lost or added however the scan skips.


def _write(value: Any, rnd: Any) -> str:
    space = rnd.choice(["", " ", "\n  ", "\t"])
    if isinstance(value, str):
        if rnd.random() < 0.5:
            return json.dumps(value, ensure_ascii=rnd.random() < 0.3)
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        items = [_write(v, rnd) for v in value]
        tail = "," if items and rnd.random() < 0.2 else ""
        return "[" + space + ("," + space).join(items) + tail + "]"
    if isinstance(value, dict):
        items = [_write(k, rnd) + space + ":" + space + _write(v, rnd) for k, v in value.items()]
        tail = "," if items and rnd.random() < 0.2 else ""
        return "{" + space + ("," + space).join(items) + tail + space + "}"
    return json.dumps(value)


def _written_plan(plan: dict[str, Any], rnd: Any) -> tuple[str, list[str]]:
    elements = [_write(action, rnd) for action in plan["actions"]]
    head = rnd.choice(["", "Here is the plan:\n```json\n", "  \n"])
    summary = _write(plan["summary"], rnd)
    text = head + '{"actions": [' + ", ".join(elements) + "], 'summary': " + summary + "}"
    return text, elements


deep_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=2),
    max_leaves=16,
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.lists(st.dictionaries(tricky_text, deep_values, max_size=3), max_size=4),
    tricky_text,
    st.randoms(use_true_random=False),
    st.lists(st.integers(0, 3000), max_size=40),
    st.booleans(),
)
def test_each_action_comes_back_as_written(actions, summary, rnd, points, as_bytes):
    text, elements = _written_plan({"actions": actions, "summary": summary}, rnd)
    raw: Any = text.encode() if as_bytes else text
    at = cuts(len(raw), points)
    scanner = ActionScanner()
    found = [t for a, b in pairwise(at) for t in scanner.feed(raw[a:b])]
    end = scanner.finish()
    assert found == elements
    assert end.complete and end.summary == summary


def test_nesting_deeper_than_one_match_skips():
    inner: Any = "x"
    for depth in range(12):
        inner = [inner, {"k": inner}] if depth % 3 else {"d": [inner]}
    doc = json.dumps({"actions": [{"v": inner}, {"w": [[[[[[1]]]]]]}], "summary": "s"})
    for size in (1, 2, 3, 7, 16, 64, len(doc)):
        found, end = scan([doc[i : i + size] for i in range(0, len(doc), size)])
        assert found == [{"v": inner}, {"w": [[[[[[1]]]]]]}] and end.summary == "s"


def test_backslash_runs_at_every_cut():
    values = ["\\" * n + tail for n in range(1, 6) for tail in ('"', "", "}", "'")]
    doc = json.dumps({"actions": [{"d": v, "e": [v]} for v in values], "summary": "\\\\"})
    for split in range(len(doc) + 1):
        found, end = scan([doc[:split], doc[split:]])
        assert found == [{"d": v, "e": [v]} for v in values] and end.summary == "\\\\"


def test_a_long_run_without_a_closing_bracket_is_still_bounded():
    scanner = ActionScanner(max_element_chars=1000)
    assert scanner.feed('{"actions": [{"d": "') == []
    for _ in range(100):
        assert scanner.feed("x" * 100) == []
    assert scanner.feed('"}, {"d": 1}]}') == [OVERSIZED, '{"d": 1}']
