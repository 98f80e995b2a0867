"""Every POST route's body, shaped by its own schema, filled with hostile values (huge and
negative-zero numbers, NaN and Infinity tokens, lone surrogates, control and combining
characters, long strings, deep nesting, empty and duplicate lists): never a 5xx, and a
refusal is always a problem document. schemathesis (tests/e2e) draws values the schema
describes; this draws the ones a hostile client sends instead."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from dawai.bootstrap.lifecycle import app_for
from tests.conftest import local_client, make_container, make_settings
from tests.integration.test_http_foundation import PROBLEM

UNLIMITED = {f"DAWAI_RATE_LIMIT_{c}": "unlimited" for c in ("CHAT", "SYNTHESIS", "GHOST_TEXT", "OTHER")}

# Written into the JSON text as they are: what json.dumps cannot or will not produce.
_RAW_NUMBERS = ("NaN", "Infinity", "-Infinity", "1e999", "-0.0", "-0", "1" * 400, "-" + "9" * 5000, "1e-400")
_NUMBERS = st.one_of(
    st.sampled_from([0, -1, 2**63, -(2**64), 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
)
_STRINGS = st.one_of(
    st.sampled_from(
        [
            "",
            "\ud800",  # a lone surrogate, escaped as \ud800 on the wire
            "\udfff\ud800",
            "\x00",
            "\u202e\u200b\ufeff",
            "e\u0301" * 300,
            "\ufdfa" * 400,  # 18 characters each after NFKC
            "a\n" * 2500,
            "{" * 100,
            "../../etc/passwd",
            "${jndi:x}",
            "local",
            "C major",
            "4/4",
        ]
    ),
    st.text(max_size=30),
)
_SCALARS = st.one_of(
    _NUMBERS, _STRINGS, st.booleans(), st.none(), st.sampled_from([f"@raw:{r}" for r in _RAW_NUMBERS])
)


def _deep(depth: int) -> Any:
    value: Any = 1
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


_HOSTILE = st.one_of(
    _SCALARS,
    st.sampled_from([[], {}, _deep(70), [{}] * 50, [[1, 2]] * 3]),
)


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [_resolve(s, spec) for s in schema[key]]
            return next((o for o in options if o.get("type") in ("object", "array")), options[0])
    return schema


def _leaf(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value of the schema's type, at and past its edges, with hostile content."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 10**6)
        fitting = _STRINGS.filter(lambda text: low <= len(text) <= high)
        known = [schema[k] for k in ("default", "example") if isinstance(schema.get(k), str)]
        if "pattern" in schema:
            fitting = st.from_regex(schema["pattern"], fullmatch=True).filter(
                lambda text: low <= len(text) <= high
            )
        return st.one_of(*(st.sampled_from(known),) * bool(known), fitting, fitting, _STRINGS)
    if kind in ("integer", "number"):
        edges = [
            schema[k] for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if k in schema
        ]
        near = [e + d for e in edges for d in (-1, 0, 1)] + [-0.0, 0]
        values = st.sampled_from(near) if kind == "number" else st.sampled_from([int(v) for v in near])
        if kind == "number":
            return st.one_of(
                values,
                st.floats(allow_nan=False, allow_infinity=False),
                st.sampled_from(["@raw:1e999", "@raw:-0.0", "@raw:NaN"]),
            )
        return st.one_of(values, st.sampled_from([2**63, -(2**64), "@raw:" + "1" * 400]))
    if kind == "boolean":
        return st.booleans()
    return _HOSTILE


def _shaped(schema: dict[str, Any], spec: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values in the schema's shape (its objects' properties, required ones always; arrays of
    its items), of each leaf's type with hostile content, and now and then a hostile value
    where a shape was expected."""
    schema = _resolve(schema, spec)
    if depth > 5:
        return _HOSTILE
    shaped: st.SearchStrategy[Any]
    if schema.get("type") == "object" and schema.get("properties"):
        properties = {k: _shaped(v, spec, depth + 1) for k, v in schema["properties"].items()}
        required = set(schema.get("required", ()))
        shaped = st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
    elif schema.get("type") == "array" and "items" in schema:
        item = _shaped(schema["items"], spec, depth + 1)
        shaped = st.one_of(st.lists(item, max_size=3), item.map(lambda x: [x, x]))  # duplicates
    else:
        shaped = _leaf(schema)
    return shaped if depth == 0 else st.one_of(*(shaped,) * 9, _HOSTILE)


def _encoded(value: Any) -> bytes:
    """JSON text with the raw tokens spliced in (and lone surrogates escaped)."""
    text = json.dumps(value, ensure_ascii=True)
    for raw in _RAW_NUMBERS:
        text = text.replace(json.dumps(f"@raw:{raw}"), raw)
    return text.encode()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[TestClient, dict[str, Any]]]:
    container = make_container(make_settings(UNLIMITED))
    with local_client(app_for(container), raise_server_exceptions=False) as client:
        yield client, client.get("/schema/openapi.json").json()


def _post_routes() -> list[str]:
    container = make_container(make_settings(UNLIMITED))
    with local_client(app_for(container)) as client:
        spec = client.get("/schema/openapi.json").json()
    return sorted(
        path
        for path, item in spec["paths"].items()
        if "post" in item and "application/json" in item["post"].get("requestBody", {}).get("content", {})
    )


POST_ROUTES = _post_routes()


def test_every_post_route_is_fuzzed():
    assert len(POST_ROUTES) >= 10 and "/api/agent" in POST_ROUTES and "/ghost_text/analyze" in POST_ROUTES


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_hostile_body_is_refused_with_a_problem_never_a_5xx(served, path):
    client, spec = served
    schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]

    @settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_shaped(schema, spec))
    def check(body: Any) -> None:
        response = client.post(path, content=_encoded(body), headers={"content-type": "application/json"})
        assert response.status_code < 500, (path, _encoded(body)[:300], response.text[:300])
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith(PROBLEM), response.text[:300]
            assert "Traceback" not in response.text
            assert response.json()["request_id"] == response.headers["x-request-id"]

    check()
