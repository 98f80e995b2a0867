"""What LLMGateway tells its telemetry: each stream attempt's time to first token and each
failed attempt by provider and kind, retries, failures after the first token and the total
timeout included (scripted providers, a recording telemetry)."""

from __future__ import annotations

import asyncio

import pytest

from dawai.core.errors import (
    RateLimited,
    UpstreamAuthError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamTruncated,
)
from dawai.core.gateway import Credentials
from dawai.core.models import ChatMessage, Finish, LLMRequest, Route, TextDelta
from dawai.core.telemetry import error_kind
from dawai.ports.telemetry import Telemetry
from tests.conftest import scripted_gateway
from tests.fakes.providers import ScriptedProvider, ok_script


class Recorded:
    def __init__(self) -> None:
        self.first_tokens: list[str] = []
        self.errors: list[tuple[str, str]] = []

    def upstream_first_token(self, provider: str, seconds: float) -> None:
        assert seconds >= 0
        self.first_tokens.append(provider)

    def upstream_error(self, provider: str, kind: str) -> None:
        self.errors.append((provider, kind))

    def cache_lookup(self, cache: str, hit: bool) -> None: ...

    def synthesis(self, voice: str, real_time_factor: float) -> None: ...

    def ghost_text(self, engine: str, seconds: float) -> None: ...


def build(route: Route) -> LLMRequest:
    return LLMRequest(route.model, "", (ChatMessage("user", "hi"),), max_tokens=8)


def drained(gateway, model: str) -> list:
    async def main():
        return [event async for event in gateway.stream(model, Credentials(), build)]

    return asyncio.run(main())


def test_a_retried_then_fallen_back_stream_counts_each_failure_and_the_kept_first_token(tmp_path):
    telemetry = Recorded()
    assert isinstance(telemetry, Telemetry)
    flaky = ScriptedProvider([[UpstreamError("5xx", retryable=True)], [UpstreamAuthError("no")]])
    backup = ScriptedProvider([ok_script("ok")])
    toml = '[llm.fallbacks]\n"a-model" = ["b-model"]\n'
    gateway, _ = scripted_gateway({"a": flaky, "b": backup}, toml=toml, tmp=tmp_path, telemetry=telemetry)
    assert any(isinstance(e, TextDelta) for e in drained(gateway, "a-model"))
    assert telemetry.errors == [("a", "server"), ("a", "auth")]
    assert telemetry.first_tokens == ["b"]


def test_a_stream_cut_after_its_first_token_counts_as_truncated():
    telemetry = Recorded()
    cut = ScriptedProvider([[TextDelta("half")]])  # no Finish: cut
    gateway, _ = scripted_gateway({"a": cut}, telemetry=telemetry)
    with pytest.raises(UpstreamTruncated):
        drained(gateway, "a-model")
    assert telemetry.first_tokens == ["a"] and telemetry.errors == [("a", "truncated")]


def test_the_total_timeout_counts_for_the_provider_being_tried():
    telemetry = Recorded()
    slow = ScriptedProvider([[TextDelta("a"), 5.0, Finish("stop")]])
    gateway, _ = scripted_gateway({"a": slow}, env={"DAWAI_TOTAL_TIMEOUT": "0.05"}, telemetry=telemetry)
    with pytest.raises(UpstreamTimeout):
        drained(gateway, "a-model")
    slow_reply = ScriptedProvider([[0.5, TextDelta("a"), Finish("stop")]])
    gateway, _ = scripted_gateway({"a": slow_reply}, env={"DAWAI_TOTAL_TIMEOUT": "0.05"}, telemetry=telemetry)
    with pytest.raises(UpstreamTimeout):
        asyncio.run(gateway.complete("a-model", Credentials(), build))
    assert telemetry.errors == [("a", "timeout"), ("a", "timeout")]


def test_error_kinds_come_from_a_fixed_set():
    assert error_kind(RateLimited("slow down")) == "rate_limited"
    assert error_kind(UpstreamError("bad request")) == "refused"
    assert error_kind(UpstreamError("502", retryable=True)) == "server"
