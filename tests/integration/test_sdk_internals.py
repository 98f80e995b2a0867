"""The private parts of httpx2 and the SDKs the adapters rely on (docs/adr/0021): each is
checked, a changed one is logged and reported (``/health``, ``dawai plugins``) and its
public path serves chat instead, through the real SDKs against the loopback fake.

A changed internal is simulated by replacing the one thing its check inspects with a
look-alike of another shape that still works for the SDK itself (the one place these
tests monkeypatch a dependency), so what keeps chat working is the public path alone.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import structlog

from dawai.adapters import internals
from dawai.bootstrap.lifecycle import app_for
from tests.conftest import local_client, make_container, make_settings, upstream_env
from tests.fakes.llm_upstream import DEFAULT_REPLY


@pytest.fixture(autouse=True)
def _fresh_verdicts() -> Iterator[None]:
    internals.forget()
    yield
    internals.forget()  # the next test sees the libraries as they really are


def _bound_async_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2._client

    class Changed(httpx2._client.BoundAsyncStream):  # a new optional parameter
        def __init__(self, stream, start, *, clock=None) -> None:
            super().__init__(stream, start)

    monkeypatch.setattr(httpx2._client, "BoundAsyncStream", Changed)


def _environment_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2._utils

    original = httpx2._utils.get_environment_proxies

    def changed(environ=None):  # now takes the environment
        return original()

    monkeypatch.setattr(httpx2._utils, "get_environment_proxies", changed)


def _raw_header(sdk: str) -> Callable[[pytest.MonkeyPatch], None]:
    def change(monkeypatch: pytest.MonkeyPatch) -> None:
        import importlib

        # The SDK's own modules hold the header they imported: only the check sees this.
        monkeypatch.setattr(importlib.import_module(f"{sdk}._constants"), "RAW_RESPONSE_HEADER", "X-Raw")

    return change


def _gemini_api_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from google.genai._api_client import BaseApiClient

    original = BaseApiClient._async_request

    async def changed(self, http_request, http_options=None, stream=False, retries=None):
        return await original(self, http_request, http_options, stream)

    monkeypatch.setattr(BaseApiClient, "_async_request", changed)


@dataclass(frozen=True)
class Change:
    internal: str
    apply: Callable[[pytest.MonkeyPatch], None]
    says: str  # in the reason
    providers: tuple[str, ...]  # served through the public path
    plugins: tuple[str, ...]


CHANGES = [
    Change(
        internals.HTTPX2_LEAN_CLIENT,
        _bound_async_stream,
        "BoundAsyncStream takes (stream, start, clock)",
        ("anthropic", "openai", "google"),
        ("dawai.anthropic", "dawai.openai", "dawai.google"),
    ),
    Change(
        internals.HTTPX2_PROXIES,
        _environment_proxies,
        "get_environment_proxies takes (environ)",
        ("openai",),
        ("dawai.anthropic", "dawai.openai", "dawai.google"),
    ),
    Change(
        internals.OPENAI_RAW_STREAMS,
        _raw_header("openai"),
        "RAW_RESPONSE_HEADER is 'X-Raw'",
        ("openai", "local"),
        ("dawai.openai",),
    ),
    Change(
        internals.ANTHROPIC_RAW_STREAMS,
        _raw_header("anthropic"),
        "RAW_RESPONSE_HEADER is 'X-Raw'",
        ("anthropic",),
        ("dawai.anthropic",),
    ),
    Change(
        internals.GEMINI_RAW_PATH,
        _gemini_api_client,
        "_async_request takes (http_request, http_options, stream, retries)",
        ("google",),
        ("dawai.google",),
    ),
]


def test_every_internal_has_the_shape_we_verified():
    """On the versions installed (constraints.txt): nothing is degraded."""
    found = internals.verdicts(load=True)
    assert [v.name for v in found] == [i.name for i in internals.INTERNALS]
    assert [(v.name, v.status, v.reason) for v in found if v.status != "ok"] == []


def test_a_check_that_cannot_even_look_is_a_changed_shape_not_a_crash(monkeypatch):
    import httpx2._utils

    monkeypatch.delattr(httpx2._utils, "get_environment_proxies")
    monkeypatch.setattr(httpx2, "Headers", None)  # the lean check's probe now raises
    assert internals.problem(internals.HTTPX2_PROXIES) == "httpx2._utils.get_environment_proxies is gone"
    reason = internals.problem(internals.HTTPX2_LEAN_CLIENT)
    assert reason is not None and reason.startswith("the check failed (TypeError")


def _app(upstream, tmp_path, **env: str):
    config = tmp_path / "dawai.toml"
    config.write_text(
        f'[providers.local]\nkind = "openai-compatible"\nbase_url = "{upstream.base_url}/compat/v1"\n'
        "[reliability]\nbackoff_base = 0.01\nbackoff_max = 0.05\n"
    )
    container = make_container(make_settings(upstream_env(upstream, DAWAI_CONFIG=str(config), **env)))
    return container, local_client(app_for(container), raise_server_exceptions=False)


def _texts(response) -> str:
    pieces = []
    for block in response.text.split("\n\n"):
        if block.startswith("data: {"):
            event = json.loads(block[6:])
            if event["type"] == "text":
                pieces.append(event["content"])
    return "".join(pieces)


def _private_path_taken(provider: object, internal: str) -> bool:
    """Whether ``provider`` (a view from the pool) would take ``internal``'s private path."""
    from dawai.adapters.upstream.http1 import Http1Transport
    from dawai.adapters.upstream.lean_client import _LeanClient
    from tests.integration.test_http1_transport import _http_clients_of

    clients = _http_clients_of(provider)
    assert clients, provider
    if internal == internals.HTTPX2_LEAN_CLIENT:
        return any(isinstance(c, _LeanClient) for c in clients)
    if internal == internals.HTTPX2_PROXIES:  # no proxy set: our transport, as before
        return not all(isinstance(c._transport, Http1Transport) for c in clients)
    return bool(provider._raw_path)  # type: ignore[attr-defined]


@pytest.mark.parametrize("change", CHANGES, ids=[c.internal for c in CHANGES])
def test_a_changed_internal_degrades_reports_and_chat_works_on_the_public_path(
    change, monkeypatch, upstream, tmp_path
):
    change.apply(monkeypatch)
    upstream.reset()
    container, client = _app(upstream, tmp_path)
    with structlog.testing.capture_logs() as logs, client:
        for provider in change.providers:  # builds the providers: their SDKs' checks run
            reply = client.post("/api/chat", json={"message": "hi", "model": f"{provider}/fake"})
            assert reply.status_code == 200, (provider, reply.text)
            assert reply.json()["response"] == DEFAULT_REPLY
            stream = client.post(
                "/api/stream/chat", json={"message": "hi", "model": f"{provider}/fake+chunks=5"}
            )
            assert stream.status_code == 200 and _texts(stream) == DEFAULT_REPLY, (provider, stream.text)
            assert stream.text.endswith("data: [DONE]\n\n")
            assert not _private_path_taken(container.provider_pool().get(provider, None), change.internal)
        health = client.get("/health").json()
    logged = [e for e in logs if e["event"] == "sdk_internal_changed"]
    assert [e["internal"] for e in logged] == [change.internal]
    assert change.says in logged[0]["reason"]

    assert health["status"] == "degraded"
    states = {i["name"]: i for i in health["internals"]}
    assert states[change.internal]["status"] == "degraded"
    assert change.says in states[change.internal]["reason"]
    assert all(i["status"] != "degraded" for name, i in states.items() if name != change.internal)
    plugins = {p["name"]: p for p in health["plugins"]}
    for name in change.plugins:
        assert plugins[name]["status"] == "degraded"
        assert any(change.says in w and "instead" in w for w in plugins[name]["warnings"]), plugins[name]
    assert plugins["dawai.prompts"]["status"] == "loaded"


@pytest.mark.parametrize("change", [c for c in CHANGES if "raw" in c.internal], ids=lambda c: c.internal)
def test_the_public_path_keeps_the_failure_mapping(change, monkeypatch, upstream, tmp_path):
    """Rejected keys, rate limits, retries and cut streams mean the same on the public path."""
    change.apply(monkeypatch)
    _, client = _app(upstream, tmp_path)
    provider = change.providers[0]
    with client:
        for path in ("/api/chat", "/api/stream/chat"):
            rejected = client.post(path, json={"message": "x", "model": f"{provider}/fake+status=401"})
            assert rejected.status_code == 502 and "rejected the API key" in rejected.json()["detail"]
            limited = client.post(
                path, json={"message": "x", "model": f"{provider}/fake+status=429+retry_after=30"}
            )
            assert limited.status_code == 429 and limited.headers["retry-after"] == "30"
        cut = client.post(
            "/api/stream/chat", json={"message": "x", "model": f"{provider}/fake+chunks=6+cut_after=2"}
        )
        kinds = [json.loads(b[6:])["type"] for b in cut.text.split("\n\n") if b.startswith("data: {")]
        assert kinds == ["text", "text", "error"], cut.text
        blocked = client.post("/api/chat", json={"message": "x", "model": "google/fake+blocked=1"})
        if provider == "google":
            assert blocked.json()["detail"] == "The google provider blocked the prompt (SAFETY)."


def test_without_the_lean_client_each_sdk_gets_its_own_client_class(monkeypatch):
    from dawai.adapters.providers.openai import OpenAIProvider
    from dawai.adapters.upstream.lean_client import _LeanClient
    from dawai.ports.llm import ProviderConfig
    from tests.integration.test_http1_transport import _http_clients_of

    async def classes():
        provider = OpenAIProvider(ProviderConfig("openai", api_key="k", base_url="http://127.0.0.1:9"))
        found = [type(c) for c in _http_clients_of(provider)]
        await provider.aclose()
        return found

    assert all(issubclass(c, _LeanClient) for c in asyncio.run(classes()))
    _bound_async_stream(monkeypatch)
    internals.forget()
    assert not any(issubclass(c, _LeanClient) for c in asyncio.run(classes()))


def test_without_httpx2s_proxy_helper_a_proxied_environment_goes_through_httpx2(monkeypatch, upstream):
    """Which hosts a proxy serves is unknown then: httpx2's own transport routes them all,
    through the proxy the environment names; without one, our transport as before."""
    from dawai.adapters.providers.openai import OpenAIProvider
    from dawai.adapters.upstream.http1 import Http1Transport
    from dawai.core.models import ChatMessage, LLMRequest, TextDelta
    from dawai.ports.llm import ProviderConfig
    from tests.integration.test_http1_transport import _http_clients_of
    from tests.integration.test_proxies import PROXY_VARIABLES, ForwardProxy

    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    _environment_proxies(monkeypatch)
    request = LLMRequest(model="fake", system="", messages=(ChatMessage("user", "hi"),), max_tokens=9)

    async def main():
        async with ForwardProxy() as proxy:
            plain = OpenAIProvider(ProviderConfig("openai", api_key="k", base_url=upstream.openai_base_url))
            assert all(isinstance(c._transport, Http1Transport) for c in _http_clients_of(plain))
            await plain.aclose()
            monkeypatch.setenv("HTTP_PROXY", proxy.url)
            proxied = OpenAIProvider(ProviderConfig("openai", api_key="k", base_url=upstream.openai_base_url))
            assert not any(isinstance(c._transport, Http1Transport) for c in _http_clients_of(proxied))
            try:
                text = "".join([e.content async for e in proxied.stream(request) if isinstance(e, TextDelta)])
            finally:
                await proxied.aclose()
            return text, proxy.targets

    text, targets = asyncio.run(main())
    assert text == DEFAULT_REPLY
    assert targets and all(t.startswith(upstream.openai_base_url) for t in targets)


def test_dawai_plugins_says_which_plugin_is_degraded_and_why(monkeypatch, capsys):
    from argparse import Namespace

    from dawai.bootstrap.cli import _plugins  # not main(): it would configure this process's logging

    _raw_header("openai")(monkeypatch)
    assert _plugins(Namespace(json=False)) == 0
    text = capsys.readouterr().out
    assert "dawai.openai           degraded" in text
    assert "degraded: openai.raw-streams: openai._constants.RAW_RESPONSE_HEADER is 'X-Raw'" in text
    assert "dawai.anthropic        loaded" in text
    assert "reason: openai._constants.RAW_RESPONSE_HEADER is 'X-Raw'" in text

    internals.forget()
    assert _plugins(Namespace(json=True)) == 0
    out = capsys.readouterr().out  # unconfigured here, structlog writes its warning there too
    infos = {i["name"]: i for i in json.loads(out[out.index("[\n") :])}
    assert infos["dawai.openai"]["status"] == "degraded"
    assert any("X-Raw" in w for w in infos["dawai.openai"]["warnings"])
    assert infos["dawai.google"]["status"] == "loaded"


def test_start_up_checks_what_loads_cheaply_and_leaves_the_sdks_unloaded():
    """A fresh server checks httpx2's internals at start-up; each SDK's wait until it
    loads (a provider nobody calls costs no memory)."""
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from dawai.bootstrap.asgi import create\n"
        "from litestar.testing import TestClient\n"
        "with TestClient(create(), base_url='http://127.0.0.1') as c:\n"
        "    states = {i['name']: i['status'] for i in c.get('/health').json()['internals']}\n"
        "print(json.dumps(states))\n"
        "print([m for m in ('anthropic', 'openai', 'google.genai') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    states, loaded = out.stdout.strip().splitlines()[-2:]
    assert json.loads(states) == {
        internals.HTTPX2_LEAN_CLIENT: "ok",
        internals.HTTPX2_PROXIES: "ok",
        internals.OPENAI_RAW_STREAMS: "unchecked",
        internals.ANTHROPIC_RAW_STREAMS: "unchecked",
        internals.GEMINI_RAW_PATH: "unchecked",
    }
    assert loaded == "[]"
