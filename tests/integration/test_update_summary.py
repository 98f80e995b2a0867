"""``POST /api/update-summary`` through the app: the reply, the store behind it (in-process
and the real Redis), and every limit as a field error."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import Any

import pytest

from dawai.adapters.http.route_set import API_PREFIXES
from dawai.adapters.http.schemas import SUMMARY_MAX_NOTES, SUMMARY_MAX_TRACKS
from dawai.adapters.stores import redis_client
from dawai.bootstrap.lifecycle import app_for
from tests.conftest import local_client, make_container, make_settings, upstream_env
from tests.integration.test_http_foundation import assert_problem

# I–V–vi–IV in G, one chord a bar at 120 BPM in 4/4 (2 s a bar), over a bass and a drum beat.
CHORDS = [(43, (59, 62, 67)), (38, (57, 62, 66)), (40, (59, 64, 67)), (36, (60, 64, 67))]


def _body(project: str = "song-1", **extra: Any) -> dict[str, Any]:
    keys, bass = [], []
    for bar, (low, triad) in enumerate(CHORDS):
        keys += [
            {"id": f"k{bar}{p}", "pitch": p, "time": bar * 2.0, "duration": 2.0, "velocity": 0.8}
            for p in triad
        ]
        bass.append({"pitch": low, "time": bar * 2.0, "duration": 1.5})
    drums = [
        {"pitch": 36 if beat % 2 == 0 else 38, "time": beat * 0.5, "duration": 0.1} for beat in range(16)
    ]
    return {
        "projectId": project,
        "tempo": 120,
        "timeSignature": "4/4",
        "tracks": [
            {
                "id": "t1",
                "name": "Keys",
                "type": "midi",
                "notes": keys,
                "color": "#fff",
            },  # unknown keys ignored
            {"id": "t2", "name": "Bass", "type": "midi", "notes": bass},
            {"id": "t3", "name": "Drums", "type": "drums", "notes": drums},
        ],
        **extra,
    }


@pytest.fixture
def client(client_for):
    return client_for()


@pytest.mark.parametrize("prefix", API_PREFIXES)
def test_a_summary_is_computed_stored_and_returned(client, prefix):
    response = client.post(f"{prefix}/update-summary", json=_body())
    assert response.status_code == 200, response.text
    summary = response.json()
    assert summary["projectId"] == "song-1"
    assert summary["key"] == "G major"
    assert 0.5 < summary["keyConfidence"] <= 1
    assert (summary["tempo"], summary["timeSignature"], summary["length"], summary["bars"]) == (
        120,
        "4/4",
        8,
        4,
    )
    keys, bass, drums = summary["tracks"]
    assert keys == {
        "id": "t1", "name": "Keys", "type": "midi", "noteCount": 12, "pitchRange": [57, 67], "density": 1.5,
        "key": keys["key"], "keyConfidence": keys["keyConfidence"],
        "chords": [{"bar": 1, "chord": "G/B"}, {"bar": 2, "chord": "D/A"}, {"bar": 3, "chord": "Em/B"},
                   {"bar": 4, "chord": "C"}],  # the track's own lowest notes: inversions
    }  # fmt: skip
    assert bass["noteCount"] == 4 and bass["chords"] == []  # one pitch class a bar: no chord
    assert (drums["key"], drums["keyConfidence"], drums["chords"], drums["pitchRange"]) == (
        None,
        0.0,
        [],
        [36, 38],
    )
    assert drums["density"] == 2.0


def test_an_update_replaces_the_stored_summary(client_for):
    container = make_container(make_settings())
    with local_client(app_for(container)) as client:
        assert client.post("/api/update-summary", json=_body()).status_code == 200
        body = _body(tempo=90, timeSignature="3/4")
        body["tracks"] = body["tracks"][2:]
        second = client.post("/ai/api/update-summary", json=body).json()
        stored = asyncio.run(container.summary_store().get("song-1"))
    assert stored == second
    assert (stored["key"], stored["tempo"], stored["timeSignature"]) == (None, 90, "3/4")


def test_the_in_process_store_keeps_the_most_recent_projects(client_for):
    container = make_container(make_settings({"DAWAI_SUMMARY_MAX_PROJECTS": "2"}))
    with local_client(app_for(container)) as client:
        for project in ("a", "b", "c"):
            assert client.post("/api/update-summary", json=_body(project)).status_code == 200
    store = container.summary_store()
    assert [asyncio.run(store.get(p)) is not None for p in ("a", "b", "c")] == [False, True, True]


def test_an_empty_project_has_a_summary(client):
    summary = client.post("/api/update-summary", json={"projectId": "empty", "tracks": []}).json()
    assert summary == {
        "projectId": "empty", "key": None, "keyConfidence": 0.0, "tempo": 120.0, "timeSignature": "4/4",
        "length": 0.0, "bars": 0, "tracks": [],
    }  # fmt: skip


def _fields(response) -> set[str]:
    return {error["field"] for error in assert_problem(response, 400)["errors"]}


def _note(**fields: Any) -> dict[str, Any]:
    return {"pitch": 60, "time": 0, "duration": 1, **fields}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"projectId": ""}, "projectId"),
        ({"projectId": "x" * 129}, "projectId"),
        ({"projectId": "my song"}, "projectId"),
        ({"projectId": "../etc"}, "projectId"),
        ({"projectId": "p\n"}, "projectId"),
        ({"projectId": "dawai:*"}, "projectId"),
        ({"tempo": 19}, "tempo"),
        ({"tempo": 301}, "tempo"),
        ({"timeSignature": "4/3"}, "timeSignature"),
        ({"timeSignature": "four"}, "timeSignature"),
        ({"timeSignature": "33/4"}, "timeSignature"),
        ({"timeSignature": " 4/4"}, "timeSignature"),
        ({"tracks": [{"id": f"t{i}"} for i in range(SUMMARY_MAX_TRACKS + 1)]}, "tracks"),
        ({"tracks": [{"id": "t", "notes": [_note(pitch=128)]}]}, "tracks[0].notes[0].pitch"),
        ({"tracks": [{"id": "t", "notes": [_note(pitch=-1)]}]}, "tracks[0].notes[0].pitch"),
        ({"tracks": [{"id": "t", "notes": [_note(time=-0.5)]}]}, "tracks[0].notes[0].time"),
        ({"tracks": [{"id": "t", "notes": [_note(time=36_001)]}]}, "tracks[0].notes[0].time"),
        ({"tracks": [{"id": "t", "notes": [_note(duration=0)]}]}, "tracks[0].notes[0].duration"),
        ({"tracks": [{"id": "t", "notes": [_note(duration=0.0009)]}]}, "tracks[0].notes[0].duration"),
        ({"tracks": [{"id": "t", "notes": [_note(duration=3601)]}]}, "tracks[0].notes[0].duration"),
        ({"tracks": [{"id": "t", "notes": [_note(velocity=1.5)]}]}, "tracks[0].notes[0].velocity"),
        ({"tracks": [{"id": "", "notes": []}]}, "tracks[0].id"),
        ({"tracks": [{"id": "t", "name": "n" * 201}]}, "tracks[0].name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_limits_and_bad_values_are_field_errors(client, change: dict[str, Any], field: str):
    body = {**_body(), **change}
    response = client.post("/api/update-summary", json=body)
    assert field in _fields(response)


def test_the_notes_of_all_tracks_together_are_limited(client):
    per_track = SUMMARY_MAX_NOTES // 2 + 1
    tracks = [{"id": f"t{i}", "notes": [_note()] * per_track} for i in range(2)]
    response = client.post("/api/update-summary", json={"projectId": "big", "tracks": tracks})
    body = assert_problem(response, 400)
    assert body["errors"] == [
        {
            "field": "tracks",
            "message": f"at most {SUMMARY_MAX_NOTES} notes in all tracks, not {2 * per_track}",
        }
    ]
    tracks[1]["notes"] = tracks[1]["notes"][: SUMMARY_MAX_NOTES - per_track]
    assert client.post("/api/update-summary", json={"projectId": "big", "tracks": tracks}).status_code == 200


def test_a_store_that_cannot_be_reached_is_a_503(client_for):
    client = client_for(make_settings({"DAWAI_REDIS_URL": "redis://127.0.0.1:1/0"}))
    body = assert_problem(client.post("/api/update-summary", json=_body()), 503)
    assert "DAWAI_REDIS_URL" in body["detail"]


@pytest.mark.redis
def test_summaries_go_to_redis_with_the_configured_ttl(redis_url):
    project = f"summary-test-{uuid.uuid4().hex}"
    container = make_container(make_settings({"DAWAI_REDIS_URL": redis_url, "DAWAI_SUMMARY_TTL": "600"}))
    with local_client(app_for(container)) as client:
        reply = client.post("/api/update-summary", json=_body(project)).json()

    async def check() -> None:
        raw = redis_client(redis_url)
        try:
            key = f"dawai:summary:{project}"
            assert 590 <= await raw.ttl(key) <= 600
            second = make_container(make_settings({"DAWAI_REDIS_URL": redis_url}))
            assert await second.summary_store().get(project) == reply  # another worker sees it
            await second.redis().aclose()
            await raw.delete(key)
        finally:
            await raw.aclose()

    asyncio.run(check())


# --- the summary in later chats, as the upstream receives them -------------------------------


def _sent(upstream) -> str:
    return json.dumps(upstream.requests[-1].body, ensure_ascii=False)


@pytest.mark.parametrize("provider", ["anthropic", "openai", "google"])
@pytest.mark.parametrize("path", ["/api/chat", "/ai/api/stream/chat"])
def test_a_later_chat_for_the_project_carries_its_summary_upstream(client_for, upstream, provider, path):
    upstream.reset()
    client = client_for(make_settings(upstream_env(upstream)))
    project = f"song-{provider}"
    assert client.post("/api/update-summary", json=_body(project)).status_code == 200
    chat = {"message": "What could come after bar 4?", "model": f"{provider}/fake"}
    context = {"project": {"id": project, "tempo": 120}}
    assert client.post(path, json={**chat, "context": context}).status_code == 200
    sent = _sent(upstream)
    assert "Project analysis" in sent
    assert "key G major" in sent and "120 BPM, 4/4, 8.0 s (4 bars)" in sent
    assert "Keys [id=t1, midi]: 12 notes" in sent
    assert "chords by bar: 1 G/B | 2 D/A | 3 Em/B | 4 C" in sent
    assert client.post(path, json={**chat, "context": {"projectId": project}}).status_code == 200
    assert "chords by bar: 1 G/B" in _sent(upstream)
    for context in ({"project": {"id": "another-song"}}, {"project": {"name": project}}, project, None):
        assert client.post(path, json={**chat, "context": context}).status_code == 200
        assert "Project analysis" not in _sent(upstream)


def test_a_chat_goes_on_when_the_summary_store_cannot_be_reached(client_for, upstream):
    upstream.reset()
    client = client_for(make_settings(upstream_env(upstream, DAWAI_REDIS_URL="redis://127.0.0.1:1/0")))
    body = {"message": "hi", "model": "openai/fake", "context": {"project": {"id": "song-1"}}}
    response = client.post("/api/chat", json=body)
    assert response.status_code == 200, response.text
    assert "Project analysis" not in _sent(upstream)


def test_on_a_server_with_tokens_a_projects_summary_is_its_tokens_own(client_for, upstream, tmp_path):
    """Two tokens name the same project id: each stores and reads its own summary, so one
    token's clients never see (in chat or agent prompts) nor replace another's."""
    upstream.reset()
    tokens = {"studio-a": "token-aaaa-1111", "studio-b": "token-bbbb-2222"}
    config = tmp_path / "dawai.toml"
    config.write_text(
        "".join(
            f'[[http.tokens]]\nname = "{name}"\nsha256 = "{hashlib.sha256(token.encode()).hexdigest()}"\n'
            for name, token in tokens.items()
        )
    )
    client = client_for(make_settings(upstream_env(upstream, DAWAI_CONFIG=str(config))))
    a = {"Authorization": f"Bearer {tokens['studio-a']}"}
    b = {"Authorization": f"Bearer {tokens['studio-b']}"}
    assert client.post("/api/update-summary", json=_body("song-1"), headers=a).status_code == 200
    chat = {"message": "What next?", "model": "openai/fake", "context": {"project": {"id": "song-1"}}}
    agent = {"prompt": "add a pad", "model": "openai/fake", "projectId": "song-1", "context": {}}
    for path, body in (("/api/chat", chat), ("/api/agent", agent)):
        client.post(path, json=body, headers=b)
        assert "Project analysis" not in _sent(upstream), path
        client.post(path, json=body, headers=a)
        assert "chords by bar: 1 G/B" in _sent(upstream), path
    # studio-b's update of "song-1" is its own and leaves studio-a's as it was.
    other = _body("song-1")
    other["tracks"] = other["tracks"][2:]  # the drums only
    assert client.post("/api/update-summary", json=other, headers=b).status_code == 200
    client.post("/api/chat", json=chat, headers=a)
    assert "chords by bar: 1 G/B" in _sent(upstream)
