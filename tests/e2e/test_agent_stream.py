"""The streaming agent against a real ``dawai serve``: an action reaches the client while
the upstream is still holding back the rest of its stream (asserted at the fake)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import upstream_env
from tests.e2e.test_server_process import Server

pytestmark = pytest.mark.server

NOTE = {"id": None, "pitch": 60, "time": 0, "duration": 0.5, "velocity": 0.8}
ACTIONS = [
    {"type": "addTrack", "params": {"name": "Keys", "trackType": "midi", "id": "keys"}, "description": ""},
    {"type": "addNotes", "params": {"trackId": "keys", "notes": [NOTE] * 3}, "description": ""},
]
PLAN = json.dumps({"actions": ACTIONS, "summary": "Added keys", "nextSteps": "Play it"})


@pytest.mark.parametrize("provider", ["anthropic", "openai", "google"])
def test_the_first_action_arrives_before_the_upstream_stream_ends(tmp_path, upstream, provider):
    upstream.reset()
    upstream.replies["held"] = PLAN
    # 40 pieces; the first action's closing brace is within the first 20, then the fake waits.
    cut = PLAN.index("}") + 3
    pieces = 40
    hold = next(n for n in range(1, pieces) if n * len(PLAN) // pieces > cut) + 2
    server = Server(upstream_env(upstream), tmp_path)
    seen: list[dict] = []
    try:
        with httpx.stream(
            "POST",
            server.base + "/api/stream/agent",
            json={"prompt": "add keys", "model": f"{provider}/held+chunks={pieces}+hold_after={hold}"},
            timeout=30,
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                event = json.loads(line[6:])
                seen.append(event)
                if event["type"] == "action" and upstream.holds_released == 0:
                    assert upstream.holds_timed_out == 0
                    upstream.release()  # the fake was holding: the action came before the end
    finally:
        server.stop()
    assert upstream.holds_released == 1 and upstream.holds_timed_out == 0
    actions = [e["action"] for e in seen if e["type"] == "action"]
    assert [a["type"] for a in actions] == ["addTrack", "addNotes"]
    assert seen[-1]["type"] == "result" and seen[-1]["success"]
