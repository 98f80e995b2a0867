"""Chat through the real SDKs against the loopback fake upstream, for every provider.

Each provider is reached by an explicit ``provider/model`` id whose model part carries the
fake's directives (see ``tests/fakes/llm_upstream.py``).
"""

from __future__ import annotations

import json

import pytest

from dawai.adapters.http.route_set import API_PREFIXES
from tests.conftest import make_settings, upstream_env
from tests.fakes.llm_upstream import DEFAULT_REPLY

PROVIDERS = ["anthropic", "openai", "google", "local"]
KEYS = ("sk-ant-api03-", "sk-proj-", "AIza")


@pytest.fixture
def client(client_for, upstream, tmp_path, llm_transport):
    """A client on each ``llm.transport`` in turn."""

    def make(extra_toml: str = "", **env: str):
        config = tmp_path / "dawai.toml"
        config.write_text(
            "[providers.local]\n"
            'kind = "openai-compatible"\n'
            f'base_url = "{upstream.base_url}/compat/v1"\n'
            "[reliability]\nbackoff_base = 0.01\nbackoff_max = 0.05\n" + extra_toml
        )
        env = {"DAWAI_LLM_TRANSPORT": llm_transport, **env}
        return client_for(make_settings(upstream_env(upstream, DAWAI_CONFIG=str(config), **env)))

    upstream.reset()
    return make


def sse_events(response) -> list:
    events = []
    for block in response.text.split("\n\n"):
        if block.startswith("data: "):
            data = block[6:]
            events.append(data if data == "[DONE]" else json.loads(data))
    return events


def assert_no_key(text: str) -> None:
    assert not any(k in text for k in KEYS)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("prefix", API_PREFIXES)
def test_non_streaming_reply_with_usage(client, upstream, provider, prefix):
    response = client().post(f"{prefix}/chat", json={"message": "Write a hook", "model": f"{provider}/fake"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["response"] == DEFAULT_REPLY
    assert (body["provider"], body["model"]) == (provider, "fake")
    assert body["usage"]["output_tokens"] == 4 and body["usage"]["input_tokens"] > 0
    seen = upstream.requests[-1]
    assert seen.provider == (
        "gemini" if provider == "google" else "anthropic" if provider == "anthropic" else "openai"
    )
    if provider == "local":
        assert seen.path == "/compat/v1/chat/completions"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("prefix", API_PREFIXES)
def test_streaming_japanese_split_across_chunks(client, provider, prefix):
    response = client().post(
        f"{prefix}/stream/chat", json={"message": "こんにちは", "model": f"{provider}/fake+chunks=9"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response)
    texts = [e["content"] for e in events if isinstance(e, dict) and e["type"] == "text"]
    assert len(texts) == 9 and "".join(texts) == DEFAULT_REPLY
    assert events[-1] == "[DONE]"
    usage = events[-2]
    assert usage["type"] == "usage" and usage["output_tokens"] == 9


def test_the_fake_sends_as_many_pieces_as_asked_with_a_long_enough_reply(client):
    # The benchmark's 100-piece streams: the reply is stretched to ``length`` characters.
    response = client().post(
        "/api/stream/chat", json={"message": "hi", "model": "openai/fake+chunks=100+length=400"}
    )
    texts = [e["content"] for e in sse_events(response) if isinstance(e, dict) and e["type"] == "text"]
    assert len(texts) == 100 and len("".join(texts)) == 400
    assert "".join(texts).startswith(DEFAULT_REPLY)


def test_prompt_reaches_the_upstream_with_context_and_history(client, upstream):
    body = {
        "message": "ベースラインを提案して",
        "model": "anthropic/fake",
        "context": {"project": {"name": "Night Drive", "tempo": 98, "key": "F minor"}},
        "history": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
    }
    assert client().post("/api/chat", json=body).status_code == 200
    sent = upstream.requests[-1].body
    assert "Night Drive" in sent["system"] and "98 BPM" in sent["system"] and "Japanese" in sent["system"]
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert sent["messages"][-1]["content"] == "ベースラインを提案して"


def test_request_key_wins_over_server_key(client, upstream):
    client().post(
        "/api/chat", json={"message": "x", "model": "openai/fake", "apiKeys": {"openai": "sk-user-key-1"}}
    )
    assert upstream.requests[-1].headers["authorization"] == "Bearer sk-user-key-1"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rejected_key_is_502_saying_so_without_the_key(client, provider):
    for path in ("/api/chat", "/api/stream/chat"):
        response = client().post(path, json={"message": "x", "model": f"{provider}/fake+status=401"})
        assert response.status_code == 502, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "rejected the API key" in response.json()["detail"]
        assert_no_key(response.text)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_persistent_429_maps_to_429_with_retry_after(client, upstream, provider):
    response = client().post(
        "/api/stream/chat", json={"message": "x", "model": f"{provider}/fake+status=429+retry_after=0"}
    )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "0"
    assert len(upstream.requests) == 3  # the first try and two retries


@pytest.mark.parametrize("provider", PROVIDERS)
def test_long_retry_after_is_passed_to_the_client(client, upstream, provider):
    response = client().post(
        "/api/chat", json={"message": "x", "model": f"{provider}/fake+status=429+retry_after=30"}
    )
    assert response.status_code == 429 and response.headers["retry-after"] == "30"
    assert len(upstream.requests) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_server_error_is_retried_then_502(client, upstream, provider):
    response = client().post("/api/chat", json={"message": "x", "model": f"{provider}/fake+status=500"})
    assert response.status_code == 502 and "HTTP 500" in response.json()["detail"]
    assert len(upstream.requests) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("path", ["/api/chat", "/api/stream/chat"])
def test_retry_then_success(client, upstream, llm_transport, provider, path):
    # fail_times counts per model string, for the whole session: one string per case.
    model = f"{provider}/fake-{provider}{path.replace('/', '-')}-{llm_transport}+status=503+fail_times=1"
    response = client().post(path, json={"message": "x", "model": model})
    assert response.status_code == 200
    assert DEFAULT_REPLY[:5] in response.text
    assert len(upstream.requests) == 2


def test_fallback_chain_before_first_token(client, upstream):
    toml = (
        '[llm.fallbacks]\n"claude-3-sonnet" = ["google/fake+status=500", "openai/fake"]\n[llm.aliases]\n'
        '"claude-3-sonnet" = "anthropic/fake+status=401"\n'
    )
    c = client(toml)
    response = c.post("/api/chat", json={"message": "x"})
    assert response.status_code == 200
    assert response.json()["provider"] == "openai"
    assert [r.provider for r in upstream.requests] == ["anthropic", "gemini", "gemini", "gemini", "openai"]
    streamed = c.post("/api/stream/chat", json={"message": "x"})
    assert (
        "".join(e["content"] for e in sse_events(streamed) if isinstance(e, dict) and e["type"] == "text")
        == DEFAULT_REPLY
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_first_token_timeout_is_504(client, provider):
    c = client("first_token_timeout = 0.3\n")
    response = c.post("/api/stream/chat", json={"message": "x", "model": f"{provider}/fake+first_delay=3"})
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    ("directive", "title"),
    [
        ("cut_after", "Upstream stream was cut"),  # the connection dropped
        ("cut_clean", "Upstream stream was cut"),  # a clean end without the stop signal
        ("error_after", "Upstream provider error"),  # the provider's own error event
    ],
)
def test_a_stream_that_fails_midway_is_an_error_event_never_success(client, provider, directive, title):
    response = client().post(
        "/api/stream/chat", json={"message": "x", "model": f"{provider}/fake+chunks=6+{directive}=2"}
    )
    assert response.status_code == 200
    events = sse_events(response)
    kinds = [e["type"] if isinstance(e, dict) else e for e in events]
    assert kinds == ["text", "text", "error", "[DONE]"], kinds
    error = events[2]["error"]
    assert error["status"] == 502 and error["title"] == title, error


@pytest.mark.parametrize("path", ["/api/chat", "/api/stream/chat"])
def test_a_prompt_gemini_blocks_is_a_502_that_says_so(client, path):
    response = client().post(path, json={"message": "x", "model": "google/fake+blocked=1"})
    assert response.status_code == 502
    problem = response.json()
    assert problem["title"] == "Upstream provider error"
    assert problem["detail"] == "The google provider blocked the prompt (SAFETY).", problem


def test_models_lists_configured_compatible_endpoint(client, upstream):
    body = (
        client(
            '[providers.local2]\nkind = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\n'
            'models = ["llama3.1"]\n'
        )
        .get("/api/models")
        .json()
    )
    ids = {m["id"]: m for m in body["models"]}
    assert ids["local2/llama3.1"]["configured"] is True
    assert ids["claude-3-sonnet"]["configured"] is True
