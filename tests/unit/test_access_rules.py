"""``AccessRules``: which access rule a request path falls under."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dawai.adapters.http.auth import AccessRules
from dawai.adapters.http.route_rules import routed_path
from dawai.adapters.http.route_set import Access

RULES = AccessRules(
    {
        "/health": Access.OPEN,
        "/voices/{voice_id:str}": Access.OPEN,
        "/voices/default": Access.TOKEN,
        "/takes/{take_id:int}": Access.OPEN,
        "/takes/{name:str}": Access.TOKEN,
        "/files/{rest:path}": Access.OPEN,
        "/a/{x:str}/b/{y:uuid}": Access.OPEN,
    },
    open_prefixes=("/schema",),
)
SEGMENT = st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), min_size=1)


def test_static_paths_win_over_parameterised_ones():
    assert RULES.for_path("/voices/alto") is Access.OPEN
    assert RULES.for_path("/voices/default") is Access.TOKEN


def test_where_parameterised_paths_meet_the_stricter_rule_wins():
    assert RULES.for_path("/takes/7") is Access.TOKEN


def test_a_path_parameter_takes_the_rest_of_the_path():
    assert RULES.for_path("/files/a/b/c.wav") is Access.OPEN
    assert RULES.for_path("/files") is Access.OPEN
    assert RULES.for_path("/filesx") is Access.TOKEN


def test_unknown_paths_need_a_token_and_the_docs_are_open():
    for path in ("/", "/healthz", "/health/x", "/voices", "/voices/a/b", "/a/x/b", "/a/x/b/y/z"):
        assert RULES.for_path(path) is Access.TOKEN, path
    for path in ("/schema", "/schema/openapi.json", "/schema/anything/at/all"):
        assert RULES.for_path(path) is Access.OPEN
    assert RULES.for_path("/schemas") is Access.TOKEN


def test_paths_as_the_schema_writes_them():
    assert RULES.for_documented("/voices/{voice_id}") is Access.OPEN
    assert RULES.for_documented("/a/{x}/b/{y}") is Access.OPEN
    assert RULES.for_documented("/takes/{name}") is Access.TOKEN
    assert RULES.for_documented("/voices/{voice_id:str}") is Access.TOKEN  # not the schema's form
    assert RULES.for_documented("/schema/openapi.json") is Access.OPEN


@given(SEGMENT, SEGMENT)
def test_any_segment_fills_a_parameter_and_no_more(x, y):
    assert RULES.for_path(f"/a/{x}/b/{y}") is Access.OPEN
    assert RULES.for_path(f"/a/{x}/b/{y}/more") is Access.TOKEN
    expected = Access.TOKEN if x == "default" else Access.OPEN
    assert RULES.for_path(f"/voices/{x}") is expected


def test_a_request_is_read_by_the_path_litestar_routes():
    def scope(path: str, root_path: str = "") -> dict[str, str]:
        return {"type": "http", "path": path, "root_path": root_path}

    for path in ("/voices/default/", "//voices/default", "/voices//default", "/voices/default///"):
        assert RULES.for_scope(scope(path)) is Access.TOKEN, path
        assert routed_path(scope(path)) == "/voices/default"
    assert RULES.for_scope(scope("/dawai/voices/default/", root_path="/dawai")) is Access.TOKEN
    assert RULES.for_scope(scope("/dawai/voices/alto", root_path="/dawai")) is Access.OPEN
    assert RULES.for_scope(scope("//health//")) is Access.OPEN
