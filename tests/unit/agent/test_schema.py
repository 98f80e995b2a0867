"""The plan schema against each provider's structured-output rules, and against what the
validator accepts: one schema, derived from the action structs, that every provider takes."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import msgspec
import pytest

from dawai.core.agent import ACTION_TYPES, AgentContext, PlanValidator, to_wire
from dawai.core.agent.schema import plan_schema
from dawai.core.settings import AgentSettings

SCHEMA = plan_schema()


def nodes(node: Any, depth: int = 0):
    """Every schema node with its nesting depth (objects and arrays counted)."""
    if isinstance(node, dict):
        yield node, depth
        inner = depth + (1 if node.get("type") in ("object", "array") else 0)
        for key, value in node.items():
            if key == "properties":
                for prop in value.values():
                    yield from nodes(prop, inner)
            elif key in ("items", "anyOf"):
                yield from nodes(value, inner if key == "items" else depth)
    elif isinstance(node, list):
        for item in node:
            yield from nodes(item, depth)


def test_openai_strict_rules():
    assert SCHEMA["type"] == "object" and "anyOf" not in SCHEMA
    for node, depth in nodes(SCHEMA):
        assert depth <= 10
        for banned in ("oneOf", "default", "$ref", "$defs", "discriminator", "title"):
            assert banned not in node
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert sorted(node["required"]) == sorted(node["properties"])


def test_no_range_keywords_only_descriptions():
    """Ranges are ours to check; providers get them as words (not every one enforces them)."""
    for node, _ in nodes(SCHEMA):
        for keyword in ("minimum", "maximum", "exclusiveMinimum", "maxLength", "pattern", "maxItems"):
            assert keyword not in node
    pitch = SCHEMA["properties"]["actions"]["items"]["anyOf"][3]["properties"]["params"]["properties"]
    assert "<= 127" in pitch["notes"]["items"]["properties"]["pitch"]["description"]


def test_gemini_and_anthropic_rules():
    """Gemini drops ``oneOf`` (checked above: none) and takes ``anyOf``; an Anthropic tool's
    input_schema must be an object."""
    union = SCHEMA["properties"]["actions"]["items"]["anyOf"]
    assert [branch["properties"]["type"]["enum"] for branch in union] == [[t] for t in ACTION_TYPES]
    assert all(branch["properties"]["type"]["type"] == "string" for branch in union)
    assert SCHEMA["type"] == "object" and set(SCHEMA["required"]) == {"actions", "summary", "nextSteps"}


def test_optional_fields_are_required_and_nullable():
    add_track = SCHEMA["properties"]["actions"]["items"]["anyOf"][0]["properties"]["params"]
    assert {"type": "null"} in add_track["properties"]["instrument"]["anyOf"]
    assert "instrument" in add_track["required"]


@pytest.mark.parametrize("kind", ACTION_TYPES)
def test_a_validated_action_in_its_model_form_matches_the_schema(kind):
    """What a model writes to the schema (every optional field null) passes the validator,
    and the validator's output, written back with nulls, matches the schema."""
    written = {
        "addTrack": {"name": "Bass", "trackType": "midi", "instrument": None, "id": None},
        "updateTrack": {
            "trackId": "t1",
            "name": None,
            "volume": 80,
            "pan": None,
            "muted": None,
            "solo": None,
        },
        "deleteTrack": {"trackId": "t1"},
        "addNotes": {
            "trackId": "t1",
            "notes": [{"id": None, "pitch": 60, "time": 0, "duration": 1, "velocity": 1}],
        },
        "updateNotes": {
            "trackId": "t1",
            "notes": [{"id": "n1", "pitch": 62, "time": 0, "duration": 1, "velocity": 1}],
        },
        "deleteNotes": {"trackId": "t1", "noteIds": ["n1"]},
        "applyEffect": {"trackId": "t1", "effect": "reverb", "settings": [{"name": "mix", "value": 0.3}]},
        "updateProject": {"tempo": None, "key": "Am", "timeSignature": None},
    }[kind]
    action = {"type": kind, "params": written, "description": "d"}
    plan = {"actions": [action], "summary": "s", "nextSteps": "n"}
    assert jsonschema_rs.validator_for(SCHEMA).is_valid(plan)
    context = msgspec.convert({"tracks": [{"id": "t1", "notes": [{"id": "n1"}]}]}, AgentContext)
    result = PlanValidator(context, AgentSettings()).check(action, 0)
    assert to_wire(result)["type"] == kind  # kept


def test_the_schema_refuses_what_the_model_must_not_write():
    validator = jsonschema_rs.validator_for(SCHEMA)
    bad = [
        {"actions": [{"type": "explode", "params": {}, "description": ""}], "summary": "", "nextSteps": ""},
        {"actions": [], "summary": "", "nextSteps": "", "extra": 1},
        {"actions": [{"type": "deleteTrack", "params": {"trackId": "t"}}], "summary": "", "nextSteps": ""},
    ]
    assert not any(validator.is_valid(plan) for plan in bad)
