"""TLS options per provider (``ca_bundle``, ``verify``): a self-hosted HTTPS upstream with
a CA of its own (made with trustme) is refused by default and reached with its bundle, for
every built-in provider, from the settings through ``ProviderConfig`` to the connection,
straight or through a proxy."""

from __future__ import annotations

import asyncio
import ssl

import pytest
import structlog
import trustme

from dawai.adapters.providers.anthropic import AnthropicProvider
from dawai.adapters.providers.gemini import GeminiProvider
from dawai.adapters.providers.openai import OpenAIProvider
from dawai.adapters.upstream.clients import shared_ssl_context, ssl_context_for
from dawai.bootstrap import lifecycle
from dawai.bootstrap.config import ConfigError
from dawai.core.errors import UpstreamError
from dawai.core.models import ChatMessage, LLMRequest
from dawai.ports.llm import ProviderConfig
from tests.conftest import make_container, make_settings, upstream_env
from tests.fakes.forward_proxy import ForwardProxy
from tests.fakes.llm_upstream import DEFAULT_REPLY, FakeUpstream

PROVIDERS = {
    "openai": (OpenAIProvider, "/v1"),
    "anthropic": (AnthropicProvider, ""),
    "google": (GeminiProvider, ""),
}


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def https_upstream(ca):
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    fake = FakeUpstream(tls=server_tls).start()
    yield fake
    fake.stop()


@pytest.fixture
def bundle(ca, tmp_path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


async def _reply(name: str, base_url: str, **tls: object) -> str:
    cls, suffix = PROVIDERS[name]
    provider = cls(ProviderConfig(name=name, api_key="test-key", base_url=base_url + suffix, **tls))
    request = LLMRequest(model="fake", system="", messages=(ChatMessage("user", "hi"),), max_tokens=20)
    try:
        return (await provider.complete(request)).text
    finally:
        await provider.aclose()


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_an_upstream_with_its_own_ca_is_refused_by_default_and_reached_with_its_bundle(
    https_upstream, bundle, name
):
    with pytest.raises(UpstreamError, match="Could not reach") as refused:
        asyncio.run(_reply(name, https_upstream.base_url))
    assert refused.value.retryable
    assert asyncio.run(_reply(name, https_upstream.base_url, ca_bundle=bundle)) == DEFAULT_REPLY
    assert asyncio.run(_reply(name, https_upstream.base_url, verify=False)) == DEFAULT_REPLY


def test_a_bundle_is_the_whole_trust_store_and_contexts_are_built_once_per_option_set(bundle):
    assert ssl_context_for(ProviderConfig("x")) is shared_ssl_context()
    own = ssl_context_for(ProviderConfig("x", ca_bundle=bundle))
    assert own is ssl_context_for(ProviderConfig("y", ca_bundle=bundle)) is not shared_ssl_context()
    assert own.verify_mode == ssl.CERT_REQUIRED and own.check_hostname
    assert len(own.get_ca_certs()) == 1  # the system's CAs are not trusted besides
    unverified = ssl_context_for(ProviderConfig("x", verify=False))
    assert unverified.verify_mode == ssl.CERT_NONE and not unverified.check_hostname


@pytest.mark.parametrize("name", sorted(PROVIDERS))
def test_the_settings_reach_every_built_in_provider(client_for, https_upstream, bundle, tmp_path, name):
    config = tmp_path / "dawai.toml"
    env = upstream_env(https_upstream, DAWAI_CONFIG=str(config), DAWAI_MAX_RETRIES="0")

    def chat(toml: str) -> object:
        config.write_text(toml)
        client = client_for(make_settings(env))
        return client.post("/api/chat", json={"message": "hi", "model": f"{name}/fake"})

    refused = chat("")
    assert refused.status_code == 502, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    reached = chat(f'[providers.{name}]\nca_bundle = "{bundle}"\n')
    assert reached.status_code == 200, reached.text
    assert reached.json()["response"] == DEFAULT_REPLY


def test_hosts_behind_a_proxy_are_verified_with_the_providers_bundle(https_upstream, bundle, monkeypatch):
    async def main(**tls: object) -> tuple[str, list[str]]:
        async with ForwardProxy() as proxy:
            monkeypatch.setenv("HTTPS_PROXY", proxy.url)
            return await _reply("openai", https_upstream.base_url, **tls), proxy.targets

    text, targets = asyncio.run(main(ca_bundle=bundle))
    assert text == DEFAULT_REPLY and targets == [f"127.0.0.1:{https_upstream.port}"]
    with pytest.raises(UpstreamError, match="Could not reach"):
        asyncio.run(main())


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ('ca_bundle = "{missing}"', "no such file"),
        ('ca_bundle = "{garbage}"', "not a PEM file of CA certificates"),
        ('ca_bundle = "{bundle}"\nverify = false', "verify = false"),
    ],
)
def test_a_bad_ca_bundle_stops_start_up_naming_the_setting(tmp_path, bundle, toml, says):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    config = tmp_path / "dawai.toml"
    paths = {"missing": tmp_path / "none.pem", "garbage": garbage, "bundle": bundle}
    config.write_text("[providers.openai]\n" + toml.format(**paths) + "\n")
    with pytest.raises(ConfigError, match=says) as stopped:
        make_settings({"DAWAI_CONFIG": str(config)})
    assert "providers.openai.ca_bundle" in str(stopped.value)


def test_verification_turned_off_is_logged_at_start_up(tmp_path):
    config = tmp_path / "dawai.toml"
    config.write_text("[providers.local]\nkind = 'openai-compatible'\nverify = false\n")
    container = make_container(make_settings({"DAWAI_CONFIG": str(config)}))
    with structlog.testing.capture_logs() as logs:
        asyncio.run(lifecycle.start(container))
        asyncio.run(lifecycle.stop(container))
    off = [entry for entry in logs if entry["event"] == "tls_verification_off"]
    assert off == [
        {
            "event": "tls_verification_off",
            "provider": "local",
            "setting": "providers.local.verify",
            "log_level": "warning",
        }
    ]
