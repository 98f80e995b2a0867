"""Ghost text with the language model, end to end through ``/ghost_text/complete``: the
``lm`` and ``hybrid`` engines over a tiny decoder generated here, a deliberately slow model
(a fake engine that waits on an event) that misses the deadline, and a missing folder that
leaves the embedded engine with ``/health`` degraded."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from dawai.adapters.inference.lm import OnnxLMCompleter
from dawai.bootstrap.config import ConfigError
from dawai.bootstrap.container import Container
from dawai.bootstrap.lifecycle import app_for
from dawai.core.ghost.hybrid import HybridCompleter
from dawai.core.ghost.ranker import rank
from dawai.core.ghost.service import GhostTextService
from dawai.core.models import CompletionCandidate, CompletionQuery, TextAnalysis
from dawai.plugins import hookimpl
from dawai.ports.completion import EngineConfig
from tests.conftest import local_client, make_container, make_settings
from tests.fakes.tiny_decoder import write_model_folder

# The embedded engine without its dictionaries (spelling and kana only): quicker to build.
CONFIG = """
[engines.local.options]
english_dictionary = false
japanese_readings = false
"""
PROMPT = "I walk alone through the "


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory) -> Path:
    return write_model_folder(tmp_path_factory.mktemp("tiny-phi"))


@pytest.fixture(scope="module")
def config_path(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("config") / "dawai.toml"
    path.write_text(CONFIG)
    return str(path)


@pytest.fixture
def started(config_path) -> Iterator[Callable[..., tuple[TestClient, Container]]]:
    clients: list[TestClient] = []

    def start(env: dict[str, str], *extra: tuple[str, Any]) -> tuple[TestClient, Container]:
        base = {"DAWAI_CONFIG": config_path, "DAWAI_GHOST_FEEDBACK_PATH": ":memory:"}
        settings = make_settings({**base, **env})
        container = make_container(settings, *extra)
        client = local_client(app_for(container), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client, container

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def service_of(container: Container) -> GhostTextService:
    return asyncio.run(container.ghost_text().service())  # built by the first request


def local_query(text: str, limit: int = 3) -> CompletionQuery:
    return CompletionQuery(text, len(text), "en", {}, limit)


def answer(client: TestClient, text: str, limit: int = 3) -> list[dict[str, Any]]:
    response = client.post("/ghost_text/complete", json={"text": text, "maxCandidates": limit})
    assert response.status_code == 200, response.text
    return response.json()["candidates"]


def as_wire(candidates: list[CompletionCandidate]) -> list[dict[str, Any]]:
    return [{"text": c.text, "score": c.score, "kind": c.kind} for c in candidates]


def wait_for(condition: Callable[[], bool]) -> None:
    """Until ``condition()`` holds (bounded: a broken build fails the assertion after it)."""
    for _ in range(1000):
        if condition():
            return
        time.sleep(0.01)


def test_the_lm_engine_answers_with_the_models_candidates(started, model_folder):
    client, _ = started({"DAWAI_GHOST_ENGINE": "lm", "DAWAI_GHOST_LM_FOLDER": str(model_folder)})
    got = answer(client, PROMPT)
    direct = OnnxLMCompleter(EngineConfig(name="lm", folder=str(model_folder)))
    expected = rank([asyncio.run(direct.complete(local_query(PROMPT)))], 3)
    assert got == as_wire(expected) and got
    health = client.get("/health").json()
    assert health["status"] == "ok"
    ghost = health["ghost_text"]
    assert (ghost["engine"], ghost["lm"], ghost["reason"]) == ("lm", "ready", None)
    assert ghost["counts"]["failed"] == 0 and ghost["counts"]["busy"] == 0
    analysis = client.post("/ghost_text/analyze", json={"text": "夜空に光る\n星を見上げて"})
    assert analysis.status_code == 200 and analysis.json()["language"] == "ja"  # the embedded engine's


def test_the_hybrid_engine_merges_the_model_in_time_through_the_ranker(started, model_folder):
    client, container = started(
        {
            "DAWAI_GHOST_ENGINE": "hybrid",
            "DAWAI_GHOST_LM_FOLDER": str(model_folder),
            "DAWAI_GHOST_LM_DEADLINE_MS": "10000",  # always in time
        }
    )
    got = answer(client, PROMPT, 5)
    hybrid = service_of(container).engines[0]
    assert isinstance(hybrid, HybridCompleter) and hybrid.stats.merged == 1
    assert client.get("/health").json()["ghost_text"]["counts"]["merged"] == 1
    embedded = asyncio.run(hybrid.embedded.complete(local_query(PROMPT, 5)))
    model = asyncio.run(hybrid.lm.complete(local_query(PROMPT, 5)))
    assert model and embedded
    assert got == as_wire(rank([embedded, model], 5))


class SlowModel:
    """A model engine that answers only once ``gate`` is set."""

    name = "slow"
    gate = threading.Event()

    async def complete(self, query: CompletionQuery) -> list[CompletionCandidate]:
        while not self.gate.is_set():
            await asyncio.sleep(0.005)
        return [CompletionCandidate(" slowly", 0.99, "lyric")]

    async def analyze(self, text: str) -> TextAnalysis:
        raise AssertionError("never asked")


class SlowPlugin:
    @hookimpl
    def register_text_completers(self, register: Callable[..., None]) -> None:
        register("slow", lambda config: SlowModel())


def test_a_model_past_the_deadline_leaves_the_embedded_answer_and_finishes_late(started):
    SlowModel.gate.clear()
    client, container = started(
        {"DAWAI_GHOST_ENGINE": "hybrid", "DAWAI_GHOST_LM_ENGINE": "slow", "DAWAI_GHOST_LM_DEADLINE_MS": "20"},
        ("test.slow", SlowPlugin()),
    )
    first = answer(client, PROMPT)
    hybrid = service_of(container).engines[0]
    assert isinstance(hybrid, HybridCompleter)
    embedded = asyncio.run(hybrid.embedded.complete(local_query(PROMPT)))
    assert first == as_wire(rank([embedded], 3)) and hybrid.stats.late == 1
    SlowModel.gate.set()
    wait_for(lambda: len(hybrid._late) == 1)
    again = answer(client, PROMPT)
    assert again[0] == {"text": " slowly", "score": 0.99, "kind": "lyric"} and hybrid.stats.late_hits == 1


def test_a_missing_model_folder_degrades_to_the_embedded_engine_with_a_health_flag(started, tmp_path):
    client, container = started(
        {"DAWAI_GHOST_ENGINE": "hybrid", "DAWAI_GHOST_LM_FOLDER": str(tmp_path / "no-such-model")}
    )
    wait_for(lambda: client.get("/health").json()["ghost_text"]["lm"] != "loading")  # preloaded
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["ghost_text"]["engine"] == "hybrid" and health["ghost_text"]["lm"] == "degraded"
    assert "does not exist" in health["ghost_text"]["reason"] and str(tmp_path) not in str(health)
    assert health["ghost_text"]["counts"] is None
    shown = answer(client, "I walk alone through the ci")
    assert shown and shown[0]["text"] == "ty"
    service = service_of(container)
    assert not isinstance(service.engines[0], HybridCompleter)  # the embedded engine alone
    typed = answer(client, "I walk alone through the cit")  # the typed-ahead cache still works
    assert typed[0]["text"] == "y" and service.cache.hits == 1


def test_an_unknown_engine_setting_stops_start_up():
    with pytest.raises(ConfigError, match=r"ghost_text\.engine"):
        make_settings({"DAWAI_GHOST_ENGINE": "gpt"})
    with pytest.raises(ConfigError, match="lm_deadline_ms"):
        make_settings({"DAWAI_GHOST_LM_DEADLINE_MS": "0"})
