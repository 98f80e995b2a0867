"""Agent mode over HTTP through the real SDKs against the loopback fake, for each
provider: Anthropic's forced tool (a tool_use block; input_json_delta when streamed),
OpenAI's strict json_schema, Gemini's responseJsonSchema, an OpenAI-compatible server
that writes messy JSON, and replies that are prose only."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from dawai.bootstrap.lifecycle import app_for
from dawai.core.agent import plan_schema
from tests.conftest import local_client, make_container, make_settings, upstream_env

PROVIDERS = ["anthropic", "openai", "google", "local"]
CONTEXT = {
    "project": {"id": "p-1", "tempo": 120, "timeSignature": "4/4"},
    "tracks": [{"id": "piano", "name": "Piano", "type": "midi", "notes": [{"id": "n1", "pitch": 60}]}],
}
ACTIONS = [
    {
        "type": "addTrack",
        "params": {"name": "Bass", "trackType": "midi", "id": "bass"},
        "description": "a bass",
    },
    {
        "type": "addNotes",
        "params": {
            "trackId": "bass",
            "notes": [{"id": "b1", "pitch": 45, "time": 0.0, "duration": 0.5, "velocity": 0.9}],
        },
        "description": "its first note",
    },
    {
        "type": "updateTrack",
        "params": {"trackId": "ghost", "muted": True},
        "description": "bad: no such track",
    },
    {"type": "updateProject", "params": {"key": "am"}, "description": "A minor, spelt loosely"},
]
KEPT = [*ACTIONS[:2], {**ACTIONS[3], "params": {"key": "A minor"}}]
PLAN = json.dumps(
    {"actions": ACTIONS, "summary": "ベースを追加しました", "nextSteps": "Listen"}, ensure_ascii=True
)
MESSY = (
    "Sure! Here is your plan:\n```json\n"
    + "{'actions': ["
    + ", ".join(json.dumps(a) for a in ACTIONS)
    + ",], 'summary': 'ok', 'nextSteps': 'go',}"
    + "\n```\nHave fun!"
)
PROSE = "I am sorry, I cannot change your song."


@pytest.fixture
def client(client_for, upstream, tmp_path):
    config = tmp_path / "dawai.toml"
    config.write_text(
        f'[providers.local]\nkind = "openai-compatible"\nbase_url = "{upstream.base_url}/compat/v1"\n'
        "[agent]\nrepair_rounds = 0\n"
    )
    upstream.replies.update({"plan": PLAN, "messy": MESSY, "prose": PROSE})
    upstream.reset()
    yield client_for(make_settings(upstream_env(upstream, DAWAI_CONFIG=str(config))))


def events(response: Any) -> list[Any]:
    lines = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def body(model: str, **extra: Any) -> dict[str, Any]:
    return {"prompt": "ベースを足して", "model": model, "context": CONTEXT, **extra}


def test_the_native_mechanism_is_asked_for_with_the_plan_schema(client, upstream):
    for provider in PROVIDERS:
        assert client.post("/api/agent", json=body(f"{provider}/plan")).status_code == 200
    anthropic, openai, google, local = (r.body for r in upstream.requests)
    assert (
        anthropic["tool_choice"]["type"] == "tool" and anthropic["tools"][0]["input_schema"] == plan_schema()
    )
    for sent in (openai, local):
        assert sent["response_format"]["json_schema"]["strict"] is True
        assert sent["response_format"]["json_schema"]["schema"] == plan_schema()
    assert google["generationConfig"]["responseJsonSchema"] == plan_schema()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_agent_reply(client, provider):
    response = client.post("/api/agent", json=body(f"{provider}/plan"))
    assert response.status_code == 200, response.text
    reply = response.json()
    assert reply["actions"] == KEPT
    assert (
        reply["success"] is True
        and reply["summary"] == "ベースを追加しました"
        and reply["nextSteps"] == "Listen"
    )
    assert reply["error"].startswith("Dropped 1 of 4 actions: action 3 (updateTrack): unknown track 'ghost'")
    assert reply["dropped"] == [{"index": 2, "type": "updateTrack", "reason": reply["dropped"][0]["reason"]}]
    assert reply["provider"] == provider


@pytest.mark.parametrize("provider", PROVIDERS)
def test_streamed_agent(client, provider):
    response = client.post("/ai/api/stream/agent", json=body(f"{provider}/plan+chunks=40"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    found = events(response)
    assert [e["stage"] for e in found[:3]] == ["sense", "plan", "act"]
    assert [e["action"] for e in found if e["type"] == "action"] == KEPT
    result = found[-1]
    assert result["type"] == "result" and result["success"] and result["summary"] == "ベースを追加しました"
    assert "unknown track 'ghost'" in result["error"] and "actions" not in result


@pytest.mark.parametrize("stream", [False, True])
def test_messy_json_from_a_compatible_server(client, stream):
    path = "/api/stream/agent" if stream else "/api/agent"
    response = client.post(path, json=body("local/messy+chunks=33"))
    assert response.status_code == 200, response.text
    if stream:
        found = events(response)
        assert [e["action"] for e in found if e["type"] == "action"] == KEPT
        assert found[-1]["summary"] == "ok"
    else:
        assert response.json()["actions"] == KEPT and response.json()["nextSteps"] == "go"


@pytest.mark.parametrize("provider", ["openai", "google", "local"])
@pytest.mark.parametrize("stream", [False, True])
def test_a_prose_only_reply_changes_nothing(client, provider, stream):
    path = "/api/stream/agent" if stream else "/api/agent"
    response = client.post(path, json=body(f"{provider}/prose"))
    assert response.status_code == 200, response.text
    result = events(response)[-1] if stream else response.json()
    assert result["success"] is False and "prose" in result["error"] and result["summary"] == PROSE
    if stream:
        assert not [e for e in events(response) if e["type"] == "action"]
    else:
        assert result["actions"] == []


def test_a_stream_cut_after_the_first_action_ends_in_band(client):
    response = client.post("/api/stream/agent", json=body("openai/plan+chunks=40+cut_after=30"))
    found = events(response)
    assert found[-1]["type"] == "error" and found[-1]["error"]["status"] == 502
    assert [e["action"] for e in found if e["type"] == "action"] == KEPT[
        : len([e for e in found if e["type"] == "action"])
    ]


@pytest.mark.parametrize(
    ("extra", "status", "field"),
    [
        ({"prompt": "x" * 4001}, 400, "prompt"),
        ({"prompt": ""}, 400, "prompt"),
        ({"context": {"tracks": [{"id": str(i)} for i in range(65)]}}, 400, "context.tracks"),
        (
            {"context": {"tracks": [{"id": "t", "notes": [{"id": str(i)} for i in range(4097)]}]}},
            400,
            "context.tracks[0].notes",
        ),
        ({"model": "nothing-routes-here"}, 400, "model"),
        ({"surprise": 1}, 400, None),
        # projectId as update-summary stores projects (schemas.ProjectId's pattern).
        ({"projectId": "../../etc/passwd"}, 400, "projectId"),
        ({"projectId": "-starts-with-a-dash"}, 400, "projectId"),
        ({"projectId": "has space"}, 400, "projectId"),
        ({"projectId": ""}, 400, "projectId"),
        ({"projectId": "a" * 129}, 400, "projectId"),
    ],
)
def test_bad_requests_are_problems_with_field_errors(client, extra, status, field):
    response = client.post("/api/agent", json={**body("openai/plan"), **extra})
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json") and problem["request_id"]
    if field:
        assert field in [e["field"] for e in problem["errors"]]


def test_the_offline_agent_needs_no_key(client_for):
    """model "local" with no key configured: the offline agent plans through both prefixes."""
    client = client_for(make_settings())
    for prefix in ("/api", "/ai/api"):
        response = client.post(f"{prefix}/agent", json=body("local", prompt="set tempo to 90 and add drums"))
        reply = response.json()
        assert response.status_code == 200 and reply["success"], reply
        assert [a["type"] for a in reply["actions"]] == ["updateProject", "addTrack", "addNotes"]
        assert reply["provider"] == "local" and reply["summary"]
        unknown = client.post(
            f"{prefix}/agent", json=body("local", prompt="make it sound like Radiohead")
        ).json()
        assert unknown["success"] is False and "claude-3-sonnet" in unknown["error"]


WITH_BASS = {**CONTEXT, "tracks": [*CONTEXT["tracks"], {"id": "b", "name": "Bass", "type": "midi"}]}


def test_the_offline_agent_streams_one_event_per_action(client_for):
    client = client_for(make_settings())
    for prefix in ("/api", "/ai/api"):
        response = client.post(
            f"{prefix}/stream/agent",
            json=body("local", prompt="ドラムを4小節追加して、ベースをミュート", context=WITH_BASS),
        )
        assert response.status_code == 200
        lines = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
        assert lines[-1] == "[DONE]"
        events = [json.loads(line) for line in lines[:-1]]
        assert [e["stage"] for e in events if e["type"] == "status"] == ["sense", "plan", "act"]
        actions = [e["action"]["type"] for e in events if e["type"] == "action"]
        assert actions == ["addTrack", "addNotes", "updateTrack"]
        result = events[-1]
        assert result["type"] == "result" and result["success"] and "追加しました" in result["summary"]


def test_a_missing_key_is_a_401_before_any_byte(client_for):
    response = client_for(make_settings()).post("/api/stream/agent", json=body("gpt-4"))
    assert response.status_code == 401 and "OPENAI_API_KEY" in response.json()["detail"]


def test_a_stored_summary_reaches_the_prompt(upstream):
    """The summaries feature stores through the SummaryStore port; the agent reads it by
    the context's project id."""
    upstream.replies["plan"] = PLAN
    container = make_container(make_settings(upstream_env(upstream)))
    asyncio.run(container.summary_store().put("p-1", {"key": "D major", "keyConfidence": 0.8}))
    upstream.reset()
    with local_client(app_for(container)) as client:
        assert client.post("/api/agent", json=body("openai/plan")).status_code == 200
    assert "key D major (0.80)" in upstream.requests[-1].body["messages"][0]["content"]
