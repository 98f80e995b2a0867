"""Parametrizes the contract suite over every available provider harness."""

from __future__ import annotations

import pytest

from tests.conftest import TRANSPORTS
from tests.contract.harness import echo_harness, scripted_harness, upstream_harness
from tests.fakes.llm_upstream import FakeUpstream

_FAKE: FakeUpstream | None = None


def _fake() -> FakeUpstream:
    global _FAKE
    if _FAKE is None:
        _FAKE = FakeUpstream().start()
    return _FAKE


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _FAKE is not None:
        _FAKE.stop()


def _harnesses():
    found = [scripted_harness()]
    found += [
        upstream_harness(p, _fake(), transport)
        for transport in TRANSPORTS
        for p in ("anthropic", "openai", "google")
    ]
    found += [upstream_harness(p, _fake(), public=True) for p in ("anthropic", "openai", "google")]
    echo = echo_harness()
    if echo is not None:
        found.append(echo)
    return found


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "harness" in metafunc.fixturenames:
        harnesses = _harnesses()
        metafunc.parametrize("harness", harnesses, ids=[h.name for h in harnesses])
