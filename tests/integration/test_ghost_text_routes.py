"""The ghost-text routes over the real embedded engine: the contract's shapes, bad input as
problem documents, the typed-ahead cache, feedback and forgetting a user."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from dawai.adapters.stores import MemoryFeedbackStore
from dawai.bootstrap.lifecycle import app_for
from dawai.core.ghost.service import GhostTextHandle, GhostTextService
from dawai.core.models import CompletionCandidate, CompletionQuery, TextAnalysis
from tests.conftest import local_client, make_container, make_settings
from tests.integration.test_http_foundation import assert_problem


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    container = make_container(make_settings({"DAWAI_GHOST_FEEDBACK_PATH": ":memory:"}))
    with local_client(app_for(container), raise_server_exceptions=False) as client:
        yield client


def complete(client, **body):
    return client.post("/ghost_text/complete", json=body)


@pytest.mark.parametrize("prefix", ["/ghost_text", "/ai/api/ghost_text"])
def test_complete_answers_as_the_contract_says(client, prefix):
    response = client.post(f"{prefix}/complete", json={"text": "I walk alone through the ci"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"candidates", "latencyMs"} and body["latencyMs"] >= 0
    assert body["candidates"][0] == {"text": "ty", "score": body["candidates"][0]["score"], "kind": "lyric"}
    assert 1 <= len(body["candidates"]) <= 3


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ({"text": "夜空に光る", "maxCandidates": 5}, "星を見上げて"),
        ({"text": "C G Am ", "context": {"key": "C"}}, "F"),
        ({"text": "Am ", "context": {"key": "not a key"}}, None),
        ({"text": "hello\u0000\u0007 wor😀ld の", "language": "xx"}, None),
        ({"text": "", "maxCandidates": 1}, None),
        ({"text": "ab😀cd", "cursor": 4}, None),  # after the emoji: 2 + 2 UTF-16 units
        ({"text": "I walk", "userId": "never-seen-before"}, None),
    ],
)
def test_sensible_answers(client, body, expect):
    response = complete(client, **body)
    assert response.status_code == 200, response.text
    candidates = response.json()["candidates"]
    assert len(candidates) <= body.get("maxCandidates", 3)
    if expect is not None:
        assert candidates[0]["text"] == expect


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "x" * 4001}, "text"),
        ({"text": "ab", "cursor": 3}, "cursor"),
        ({"text": "a😀b", "cursor": 2}, "cursor"),
        ({"text": "ab", "cursor": -1}, "cursor"),
        ({"text": "ab", "maxCandidates": 0}, "maxCandidates"),
        ({"text": "ab", "maxCandidates": 6}, "maxCandidates"),
        ({"text": "ab", "userId": ""}, "userId"),
        ({"text": "ab", "userId": "a b"}, "userId"),
        ({"text": "ab", "context": {"mood": "sad"}}, "context.mood"),
        ({"cursor": 1}, "text"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, body, field):
    problem = assert_problem(complete(client, **body), 400)
    assert [e["field"] for e in problem["errors"]] == [field]


def test_analyze(client):
    response = client.post(
        "/ghost_text/analyze", json={"text": "I see the light\nyou hold me tight\n\nC G Am F"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "language": "en",
        "lines": [
            {"text": "I see the light", "syllables": 4, "rhyme": "ay-t"},
            {"text": "you hold me tight", "syllables": 4, "rhyme": "ay-t"},
            {"text": "C G Am F", "syllables": 0, "rhyme": ""},
        ],
        "rhymeScheme": "AA -",
        "chords": ["C", "G", "Am", "F"],
    }
    assert client.post("/ghost_text/analyze", json={"text": ""}).json()["lines"] == []
    assert_problem(client.post("/ghost_text/analyze", json={"text": "x" * 20_001}), 400)


def test_feedback_and_forgetting(client):
    ok = client.post(
        "/ghost_text/feedback", json={"userId": "u1", "text": "a", "candidate": "ty", "accepted": True}
    )
    assert ok.status_code == 204 and ok.content == b""
    assert client.delete("/ghost_text/users/u1").status_code == 204
    assert client.delete("/ghost_text/users/u1").status_code == 204  # nothing left: still 204
    assert_problem(client.delete("/ghost_text/users/bad%20id"), 400)
    for wrong in (0, "true", None):
        event = {"userId": "u1", "text": "a", "candidate": "ty", "accepted": wrong}
        problem = assert_problem(client.post("/ghost_text/feedback", json=event), 400)
        assert [e["field"] for e in problem["errors"]] == ["accepted"]
    shown = {
        "userId": "u1",
        "text": "a",
        "candidate": "ty",
        "accepted": False,
        "event": "shown",
        "kind": "lyric",
    }
    assert client.post("/ghost_text/feedback", json=shown).status_code == 204
    clash = {**shown, "event": "accepted"}
    assert [
        e["field"] for e in assert_problem(client.post("/ghost_text/feedback", json=clash), 400)["errors"]
    ] == ["event"]
    missing = client.post("/ghost_text/feedback", json={"userId": "u1", "candidate": "ty", "accepted": True})
    assert [e["field"] for e in assert_problem(missing, 400)["errors"]] == ["text"]


class CountingEngine:
    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, query: CompletionQuery) -> list[CompletionCandidate]:
        self.calls += 1
        return [CompletionCandidate("city lights", 0.9, "phrase"), CompletionCandidate("cold", 0.5, "lyric")]

    async def analyze(self, text: str) -> TextAnalysis:
        return TextAnalysis("en", (), "")


def test_typing_ahead_comes_back_from_the_cache():
    engine = CountingEngine()
    container = make_container(make_settings())
    container.ghost_text.override(GhostTextHandle(lambda: GhostTextService([engine], MemoryFeedbackStore())))
    with local_client(app_for(container), raise_server_exceptions=False) as client:
        first = complete(client, text="through the ").json()["candidates"]
        assert [c["text"] for c in first] == ["city lights", "cold"]
        typed = complete(client, text="through the ci").json()["candidates"]
        assert [c["text"] for c in typed] == ["ty lights"]
        assert engine.calls == 1
        complete(client, text="through the x")
        assert engine.calls == 2
