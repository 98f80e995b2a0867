"""The plan's JSON Schema for the providers, derived from the action structs.

msgspec writes the schema of ``Plan``; this turns it into the subset every provider's
structured output accepts (OpenAI strict ``json_schema``, Gemini ``responseJsonSchema``,
an Anthropic tool's ``input_schema``):

- everything inlined (no ``$ref``/``$defs``), the root an object;
- the union of actions an ``anyOf`` of per-type objects whose ``type`` is one ``enum``
  value (msgspec's ``discriminator`` goes: OpenAI rejects it, Gemini drops it);
- every property required, the optional ones nullable; ``additionalProperties: false``
  on every object; no ``default``, no ``title``, no ``oneOf``;
- ranges, lengths and patterns moved into each field's ``description``, for the model to
  read: they are checked by us (``validation.py``), since not every provider enforces
  them.

The result nests 6 levels deep (plan, actions, action, params, notes, note), well under
OpenAI's 10.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import msgspec

from dawai.core.agent.actions import Plan

__all__ = ["PLAN_TOOL", "plan_schema"]

PLAN_TOOL = "plan"  # the forced tool's name (Anthropic) and the json_schema name (OpenAI)

_DROPPED = ("title", "default", "discriminator", "$defs", "description")
# What the model reads about a field, by its name (the structs' docstrings are for us).
_HINTS = {
    "trackId": "the id of a track in the project, or of one added earlier in this plan",
    "id": "a new unique id, or null to have one assigned (updateNotes: the id of an existing note)",
    "time": "seconds from the start of the song",
    "duration": "seconds",
    "velocity": "0 to 1",
    "pitch": "MIDI note number, 60 = C4",
    "volume": "percent",
    "pan": "-100 left to 100 right",
    "tempo": "BPM",
    "key": "like 'A minor' or 'Eb major'",
    "timeSignature": "like '4/4' or '6/8'",
    "noteIds": "ids of existing notes on the track",
    "settings": "effect parameters, e.g. mix 0-1, decay seconds",
    "summary": "one or two sentences on what the actions do, in the user's language",
    "nextSteps": "what the user might do next, in the user's language",
}
_LIMITS = {
    "minimum": ">= {}",
    "maximum": "<= {}",
    "exclusiveMinimum": "> {}",
    "exclusiveMaximum": "< {}",
    "minLength": "at least {} characters",
    "maxLength": "at most {} characters",
    "pattern": "matching {}",
    "minItems": "at least {} items",
    "maxItems": "at most {} items",
}


@cache
def _plan_schema() -> dict[str, Any]:
    source = msgspec.json.schema(Plan)
    subset: dict[str, Any] = _subset(source, source.get("$defs", {}))
    return subset


def plan_schema() -> dict[str, Any]:
    """The schema, a fresh copy each call (callers may hand it to SDKs that annotate it)."""
    return copy.deepcopy(_plan_schema())


def _subset(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_subset(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if ref is not None:
        return _subset(definitions[ref.rsplit("/", 1)[-1]], definitions)
    out: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "minLength" and value <= 1:
            continue
        if key in _LIMITS:
            notes.append(_LIMITS[key].format(value))
            continue
        if key == "properties":
            out[key] = {name: _described(name, _subset(prop, definitions)) for name, prop in value.items()}
        else:
            out[key] = _subset(value, definitions)
    if notes:
        out["description"] = ", ".join(notes)
    if "enum" in out and "type" not in out and all(isinstance(v, str) for v in out["enum"]):
        out = {"type": "string", **out}
    if out.get("type") == "object" or "properties" in out:
        out["type"] = "object"
        out["required"] = list(out.get("properties", {}))
        out["additionalProperties"] = False
    return out


def _described(name: str, prop: dict[str, Any]) -> dict[str, Any]:
    hint = _HINTS.get(name)
    if hint is None:
        return prop
    limits = prop.get("description")
    prop["description"] = f"{hint} ({limits})" if limits else hint
    return prop
