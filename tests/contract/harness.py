"""Harnesses that build an ``LLMProvider`` for a scenario, for the contract suite.

A plugin author adds a harness for their provider (see docs/plugins.md) and runs
``pytest tests/contract``. ``make`` returns ``None`` for scenarios the provider cannot be
put into (an offline provider never sees a 429); those checks are skipped for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from dawai.core.errors import RateLimited, UpstreamAuthError, UpstreamError
from dawai.core.models import TextDelta
from dawai.ports.llm import LLMProvider, ProviderConfig
from tests.fakes.providers import ScriptedProvider, ok_script

JAPANESE = "こんにちは、音楽を作りましょう。"


@dataclass
class Harness:
    name: str
    make: Callable[[str], tuple[LLMProvider, str] | None]
    """scenario -> (provider, upstream model id to ask for) or None when unsupported."""
    expected_text: Callable[[str, str], str | None] = field(default=lambda scenario, message: None)
    """The reply text the scenario should produce, when the harness knows it."""
    structured: Callable[[], tuple[LLMProvider, str, object] | None] = field(default=lambda: None)
    """(provider, model, the JSON value ``complete_json`` and ``stream_json`` must give),
    when it can produce one."""
    structured_truncated: Callable[[], tuple[LLMProvider, str] | None] = field(default=lambda: None)
    """(provider, model) whose structured stream is cut before its stop signal, when it can."""


def scripted_harness() -> Harness:
    scripts = {
        "ok": ok_script("Hello ", "there."),
        "japanese": ok_script(*JAPANESE),
        "truncated": [TextDelta("cut ")],
        "auth": [UpstreamAuthError("The provider rejected the API key.")],
        "rate_limited": [RateLimited("slow down", retry_after=1.0)],
        "server_error": [UpstreamError("boom", retryable=True)],
    }
    texts = {"ok": "Hello there.", "japanese": JAPANESE}

    def make(scenario: str) -> tuple[LLMProvider, str]:
        return ScriptedProvider([scripts[scenario]]), "scripted"

    def structured() -> tuple[LLMProvider, str, object]:
        return ScriptedProvider([ok_script("x")]), "scripted", {"text": "x"}

    return Harness("scripted", make, lambda scenario, _m: texts.get(scenario), structured)


def echo_harness() -> Harness | None:
    try:
        from dawai_echo import EchoProvider
    except ImportError:  # the example plugin is not installed
        return None

    def make(scenario: str) -> tuple[LLMProvider, str] | None:
        if scenario not in ("ok", "japanese"):
            return None
        return EchoProvider(ProviderConfig(name="echo")), "parrot"

    def structured() -> tuple[LLMProvider, str, object]:
        return EchoProvider(ProviderConfig(name="echo")), "parrot", {"echo": "Suggest a tempo and key"}

    return Harness("echo-plugin", make, lambda _s, message: message, structured)


def upstream_harness(
    provider: str, fake: object, transport: str = "dawai", *, public: bool = False
) -> Harness:
    """One of our SDK adapters, pointed at the loopback fake upstream, on ``transport``
    (``llm.transport``); with ``public``, on the SDK's public path that serves when the
    private one it reads raw bodies through has changed shape (docs/adr/0021)."""
    from tests.fakes.llm_upstream import DEFAULT_REPLY, STRUCTURED_REPLY

    directives = {
        "ok": "",
        "japanese": "+chunks=11",
        "truncated": "+chunks=6+cut_after=2",
        "auth": "+status=401",
        "rate_limited": "+status=429+retry_after=2",
        "server_error": "+status=500",
    }

    def make(scenario: str) -> tuple[LLMProvider, str]:
        if provider == "anthropic":
            from dawai.adapters.providers.anthropic import AnthropicProvider as cls

            base = fake.anthropic_base_url  # type: ignore[attr-defined]
        elif provider == "google":
            from dawai.adapters.providers.gemini import GeminiProvider as cls  # type: ignore[assignment]

            base = fake.gemini_base_url  # type: ignore[attr-defined]
        else:
            from dawai.adapters.providers.openai import OpenAIProvider as cls  # type: ignore[assignment]

            base = fake.openai_base_url  # type: ignore[attr-defined]
        config = ProviderConfig(
            name=provider, api_key="test-key", base_url=base, read_timeout=10, transport=transport
        )
        made = cls(config)
        if public:
            made._raw_path = False
        return made, "fake" + directives[scenario]

    def structured() -> tuple[LLMProvider, str, object]:
        made, _ = make("ok")
        return made, "fake+chunks=9", json.loads(STRUCTURED_REPLY)

    def structured_truncated() -> tuple[LLMProvider, str]:
        made, _ = make("ok")
        return made, "fake+chunks=9+cut_after=3"

    return Harness(
        provider + ("" if transport == "dawai" else f"-{transport}") + ("-public" if public else ""),
        make,
        lambda scenario, _m: DEFAULT_REPLY if scenario in ("ok", "japanese") else None,
        structured,
        structured_truncated,
    )
