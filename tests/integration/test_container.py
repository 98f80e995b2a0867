"""The composition root: container overrides, plugin failures surfacing in health, shutdown."""

from __future__ import annotations

import asyncio

import pytest
from dependency_injector import providers

from dawai.bootstrap.lifecycle import app_for
from dawai.core.errors import NotConfigured
from dawai.core.models import ChatMessage, Prompt, TextDelta
from dawai.plugins import hookimpl
from tests.conftest import ProviderPlugin, local_client, make_container, make_settings
from tests.fakes.providers import ScriptedProvider, factory_for, ok_script, recording_factory


class ShoutingStrategy:
    name = "shouting"

    def render(self, prompt_input):
        return Prompt(system="SHOUT", messages=(ChatMessage("user", prompt_input.message.upper()),))


def test_tests_can_override_container_providers():
    provider = ScriptedProvider([ok_script("fine")])
    container = make_container(make_settings(), ("fake", ProviderPlugin("fake", factory_for(provider))))
    container.prompt_strategy.override(providers.Object(ShoutingStrategy()))
    with local_client(app_for(container)) as client:
        response = client.post("/api/chat", json={"message": "quiet please", "model": "fake/m"})
    assert response.json()["response"] == "fine"
    assert provider.calls[0].system == "SHOUT"
    assert provider.calls[0].messages[-1].content == "QUIET PLEASE"


def test_a_plugin_prompt_strategy_is_selected_by_config(tmp_path):
    class StrategyPlugin:
        @hookimpl
        def register_prompt_strategies(self, register):
            register("shouting", ShoutingStrategy)

    provider = ScriptedProvider([ok_script("ok")])
    settings = make_settings({"DAWAI_PROMPT_STRATEGY": "shouting"})
    container = make_container(
        settings, ("strategies", StrategyPlugin()), ("fake", ProviderPlugin("fake", factory_for(provider)))
    )
    with local_client(app_for(container)) as client:
        client.post("/api/chat", json={"message": "hey", "model": "fake/m"})
    assert provider.calls[0].system == "SHOUT"


def test_broken_plugin_makes_health_degraded_but_serves():
    class Broken:
        @hookimpl
        def register_llm_providers(self, register):
            raise RuntimeError("plugin bug")

    container = make_container(make_settings(), ("broken", Broken()))
    with local_client(app_for(container)) as client:
        body = client.get("/health").json()
    assert body["status"] == "degraded"
    broken = next(p for p in body["plugins"] if p["name"] == "broken")
    assert broken["status"] == "failed" and "plugin bug" in broken["error"]


def test_sdk_clients_are_reused_and_closed_at_shutdown():
    made, factory = recording_factory()

    settings = make_settings({"DAWAI_CLIENT_SHARDS": "2"})
    container = make_container(settings, ("fake", ProviderPlugin("fake", factory)))
    with local_client(app_for(container)) as client:
        for _ in range(6):
            client.post("/api/chat", json={"message": "hi", "model": "fake/m", "apiKeys": {"fake": "k1"}})
        client.post("/api/chat", json={"message": "hi", "model": "fake/m", "apiKeys": {"fake": "k2"}})
        assert len(made) == 3  # two shards for k1, one so far for k2
        assert not any(p.closed for p in made)
    assert all(p.closed for p in made)


def test_pool_is_bounded_and_retires_least_recently_used(tmp_path):
    made, factory = recording_factory()

    from dawai.core.provider_pool import ProviderPool
    from tests.conftest import make_host

    config = tmp_path / "dawai.toml"
    config.write_text("[llm]\nclient_cache_size = 2\nclient_shards = 1\n")
    settings = make_settings({"DAWAI_CONFIG": str(config)})
    host = make_host(settings, ("fake", ProviderPlugin("fake", factory)))
    pool = ProviderPool(host.catalog, settings)

    async def go():
        for key in ("a", "b", "c"):
            pool.get("fake", key)
        assert len(pool) == 2
        await pool.aclose()

    asyncio.run(go())
    assert all(p.closed for p in made)


def test_the_heap_is_settled_after_start_up_and_after_each_factorys_first_build():
    settled = []
    made, factory = recording_factory()

    settings = make_settings({"DAWAI_CLIENT_SHARDS": "2"})
    other = ProviderPlugin("other", lambda config: factory(config))  # another adapter: another SDK
    container = make_container(settings, ("fake", ProviderPlugin("fake", factory)), ("other", other))
    container.heap_settler.override(providers.Object(lambda: settled.append(len(made))))
    with local_client(app_for(container)) as client:
        assert settled == [0]  # start-up
        for key in ("k1", "k1", "k2"):  # two shards for k1, one for k2: one factory, one settle
            client.post("/api/chat", json={"message": "hi", "model": "fake/m", "apiKeys": {"fake": key}})
        assert settled == [0, 1]
        client.post("/api/chat", json={"message": "hi", "model": "other/m", "apiKeys": {"other": "k"}})
    assert len(made) == 4 and settled == [0, 1, 4]


def test_the_served_app_freezes_its_start_up_heap():
    import subprocess
    import sys

    # In a process of its own: the app factory configures logging and freezes the heap.
    code = (
        "import gc; from litestar.testing import TestClient; from dawai.bootstrap.asgi import create\n"
        "with TestClient(create(), base_url='http://127.0.0.1') as client:\n"
        "    assert client.get('/health').status_code == 200\n"
        "    print(gc.get_freeze_count())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert int(out.stdout.split()[-1]) > 10_000


def test_stores_are_in_process_by_default(monkeypatch, tmp_path):
    from dawai.adapters.stores import MemoryAudioCache, MemorySummaryStore, SqliteFeedbackStore

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    container = make_container(make_settings())
    assert container.store_backend() == "memory"
    assert isinstance(container.summary_store(), MemorySummaryStore)
    # ghost-text feedback is kept on this machine, in SQLite under the XDG state folder
    feedback = container.feedback_store()
    assert isinstance(feedback, SqliteFeedbackStore)
    assert feedback.path == str(tmp_path / "dawai" / "ghost-feedback.sqlite3")
    assert isinstance(container.audio_cache(), MemoryAudioCache)
    with local_client(app_for(container)) as client:
        assert client.get("/health").json()["store"] == "memory"


@pytest.mark.redis
def test_redis_url_selects_the_shared_stores_and_closes_the_client(redis_url):
    import uuid

    from dawai.adapters.stores import RedisFeedbackStore, RedisSummaryStore

    container = make_container(make_settings({"DAWAI_REDIS_URL": redis_url}))
    assert isinstance(container.feedback_store(), RedisFeedbackStore)
    project = f"container-test-{uuid.uuid4().hex}"

    async def go():
        await container.init_resources()
        store = container.summary_store()
        assert isinstance(store, RedisSummaryStore)
        await store.put(project, {"key": "G major"})
        assert await store.get(project) == {"key": "G major"}
        await container.redis().delete(f"dawai:summary:{project}")
        await container.shutdown_resources()

    asyncio.run(go())
    with local_client(app_for(make_container(make_settings({"DAWAI_REDIS_URL": redis_url})))) as client:
        assert client.get("/health").json()["store"] == "redis"


def test_an_unexpected_bug_is_a_500_problem_without_a_trace():
    class Buggy(ScriptedProvider):
        async def complete(self, request):
            raise RuntimeError("secret internal detail sk-ant-api03-" + "x" * 30)

        async def stream(self, request):
            yield TextDelta("partial")
            raise RuntimeError("secret internal detail")

    container = make_container(make_settings(), ("buggy", ProviderPlugin("buggy", factory_for(Buggy([[]])))))
    with local_client(app_for(container), raise_server_exceptions=False) as client:
        response = client.post("/api/chat", json={"message": "x", "model": "buggy/m"})
        streamed = client.post("/api/stream/chat", json={"message": "x", "model": "buggy/m"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["request_id"] in body["detail"]
    assert "secret" not in response.text and "Traceback" not in response.text
    assert streamed.status_code == 200
    assert '"type":"error"' in streamed.text and "secret" not in streamed.text
    assert streamed.text.endswith("data: [DONE]\n\n")


def test_an_unregistered_prompt_strategy_stops_the_apps_start_up():
    container = make_container(make_settings({"DAWAI_PROMPT_STRATEGY": "nope"}))
    with pytest.raises(BaseExceptionGroup) as raised, local_client(app_for(container)):
        pass
    known = r"Prompt strategy 'nope' is not registered \(known: music-expert\)"
    assert raised.group_contains(NotConfigured, match=known, depth=None)
