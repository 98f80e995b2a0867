"""Parametrizes the contract suite over every available provider harness."""

from __future__ import annotations

import pytest

from tests.contract.harness import echo_harness, scripted_harness


def _harnesses():
    found = [scripted_harness()]
    echo = echo_harness()
    if echo is not None:
        found.append(echo)
    return found


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "harness" in metafunc.fixturenames:
        harnesses = _harnesses()
        metafunc.parametrize("harness", harnesses, ids=[h.name for h in harnesses])
