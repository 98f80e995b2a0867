"""Per-provider upstream concurrency (core/upstream_slots.py) through LLMGateway's four
calls, on in-memory scripted providers: the cap, the bounded wait, the fallback, and a
slot given back once on every path."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from dawai.core.errors import DawaiError, Overloaded, UpstreamAuthError
from dawai.core.gateway import Credentials, LLMGateway
from dawai.core.models import ChatMessage, Finish, LLMRequest, Route, TextDelta, Usage
from dawai.core.upstream_slots import UpstreamSlots
from tests.conftest import make_settings, scripted_gateway
from tests.fakes.providers import ScriptedProvider, ok_script

pytestmark = pytest.mark.timeout(60)

NO_KEYS = Credentials()
HELD = [TextDelta("first"), 30.0, Usage(1, 1), Finish("stop")]
CAPPED = "[providers.a]\nmax_concurrency = 1\n"
FALLBACK = '[llm.fallbacks]\n"a-model" = ["b-model"]\n'


def build(route: Route) -> LLMRequest:
    return LLMRequest(route.model, "Be brief.", (ChatMessage("user", "hi"),), max_tokens=32)


def gateway_for(
    providers: dict[str, ScriptedProvider], tmp, toml: str = CAPPED, wait: str = "0.05"
) -> LLMGateway:
    return scripted_gateway(providers, toml=toml, tmp=tmp, env={"DAWAI_POOL_TIMEOUT": wait})[0]


def slots(gateway: LLMGateway) -> UpstreamSlots:
    return gateway.upstream_slots


def test_past_the_cap_a_request_waits_then_is_overloaded_and_the_slot_comes_back(tmp_path):
    provider = ScriptedProvider([HELD, ok_script("ok")])
    gateway = gateway_for({"a": provider}, tmp_path)

    async def main() -> None:
        held = gateway.stream("a-model", NO_KEYS, build)
        assert await held.opened(5)
        assert slots(gateway).in_flight("a") == 1
        for call in (
            gateway.complete("a-model", NO_KEYS, build),
            gateway.complete_json("a-model", NO_KEYS, build, {"type": "object"}),
            anext(aiter(gateway.stream("a-model", NO_KEYS, build))),
        ):
            with pytest.raises(Overloaded) as refused:
                await call
            assert refused.value.retry_after == 2
            assert "providers.a.max_concurrency" in refused.value.detail
        assert len(provider.calls) == 1  # the refused requests never reached the provider
        await held.aclose()
        assert slots(gateway).in_flight("a") == 0
        assert (await gateway.complete("a-model", NO_KEYS, build)).text == "ok"
        assert slots(gateway).in_flight("a") == 0

    asyncio.run(main())


def test_a_request_that_waits_gets_the_slot_when_it_frees(tmp_path):
    provider = ScriptedProvider([HELD, ok_script("next")])
    gateway = gateway_for({"a": provider}, tmp_path, wait="30")

    async def main() -> None:
        held = gateway.stream("a-model", NO_KEYS, build)
        assert await held.opened(5)
        waiting = asyncio.ensure_future(gateway.complete("a-model", NO_KEYS, build))
        await asyncio.sleep(0.05)
        assert not waiting.done() and len(provider.calls) == 1
        await held.aclose()
        assert (await waiting).text == "next"
        assert slots(gateway).in_flight("a") == 0

    asyncio.run(main())


def test_a_busy_provider_falls_back_to_the_next_target(tmp_path):
    primary = ScriptedProvider([HELD])
    backup = ScriptedProvider([ok_script("from b")])
    gateway = gateway_for({"a": primary, "b": backup}, tmp_path, toml=CAPPED + FALLBACK)

    async def main() -> None:
        held = gateway.stream("a-model", NO_KEYS, build)
        assert await held.opened(5)
        reply = await gateway.complete("a-model", NO_KEYS, build)
        assert (reply.text, reply.route.provider) == ("from b", "b")
        await held.aclose()

    asyncio.run(main())


@pytest.mark.parametrize(
    "script",
    [
        [UpstreamAuthError("no", provider="a")],  # fails before the first token
        [TextDelta("a"), UpstreamAuthError("no", provider="a")],  # fails after it
        [TextDelta("a")],  # cut: no stop signal
        ok_script("fine"),
    ],
    ids=["error-before-first-token", "error-after-it", "truncated", "normal-end"],
)
def test_every_way_a_stream_ends_gives_its_slot_back(tmp_path, script):
    provider = ScriptedProvider([script])
    gateway = gateway_for({"a": provider}, tmp_path)

    async def main() -> None:
        for _ in range(3):
            stream = gateway.stream("a-model", NO_KEYS, build)
            try:
                async for _event in stream:
                    pass
            except DawaiError as exc:
                assert not isinstance(exc, Overloaded)
            assert slots(gateway).in_flight("a") == 0
            with contextlib.suppress(DawaiError):
                await gateway.complete("a-model", NO_KEYS, build)
            assert slots(gateway).in_flight("a") == 0

    asyncio.run(main())


def test_cancelled_waiting_or_holding_gives_nothing_away(tmp_path):
    provider = ScriptedProvider([[60.0, *ok_script("late")]])
    gateway = gateway_for({"a": provider}, tmp_path, wait="30")

    async def main() -> None:
        holding = asyncio.ensure_future(gateway.complete("a-model", NO_KEYS, build))
        await asyncio.sleep(0.05)
        waiting = asyncio.ensure_future(gateway.complete("a-model", NO_KEYS, build))
        await asyncio.sleep(0.05)
        assert slots(gateway).in_flight("a") == 1
        waiting.cancel()
        holding.cancel()
        for task in (waiting, holding):
            with pytest.raises(asyncio.CancelledError):
                await task
        assert slots(gateway).in_flight("a") == 0
        provider.scripts = [ok_script("again")]
        assert (await gateway.complete("a-model", NO_KEYS, build)).text == "again"

    asyncio.run(main())


def test_the_default_cap_and_a_provider_of_its_own():
    settings = make_settings(
        {"DAWAI_PROVIDER_MAX_CONCURRENCY": "7"},
    )
    assert UpstreamSlots.of(settings).cap("openai") == 7
    uncapped = UpstreamSlots.of(make_settings({"DAWAI_PROVIDER_MAX_CONCURRENCY": "0"}))

    async def main() -> None:
        releases = [await uncapped.acquire("openai") for _ in range(100)]
        assert uncapped.in_flight("openai") == 0  # no cap: nothing is counted or waited for
        for release in releases:
            release()

    asyncio.run(main())
