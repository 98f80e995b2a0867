"""Shared fixtures: settings from a dict, fresh plugin managers, apps on fake providers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient
from litestar.testing.transport import TestClientTransport

from dawai.bootstrap.config import load_settings
from dawai.bootstrap.container import Container, build_container
from dawai.bootstrap.lifecycle import app_for
from dawai.core.settings import Settings
from dawai.plugins import build_plugin_manager, hookimpl
from dawai.plugins.manager import PluginHost

# Read at import: the autouse fixture below removes DAWAI_* variables per test.
REDIS_URL = os.environ.get("DAWAI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = bool(os.environ.get("CI"))

# The tests talk to 127.0.0.1 only: a proxy set for the machine (say, for its package
# registries) must not carry that traffic. tests/integration/test_proxies.py sets its own.
for _name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
    os.environ.pop(_name, None)
    os.environ.pop(_name.upper(), None)


class ProviderPlugin:
    """A test plugin registering one provider factory under ``name``."""

    def __init__(self, name: str, factory: Callable[..., Any], **options: Any) -> None:
        self.name, self.factory, self.options = name, factory, options

    @hookimpl
    def register_llm_providers(self, register: Callable[..., None]) -> None:
        register(self.name, self.factory, **self.options)


def make_settings(env: Mapping[str, str] | None = None, **tree: Any) -> Settings:
    """Settings from env-style values (no real environment is read)."""
    return load_settings(dict(env or {}))


def make_host(settings: Settings, *extra: tuple[str, Any], entry_points: Any = ()) -> PluginHost:
    """A fresh plugin manager with built-ins, the given test plugins, and no installed ones."""
    return build_plugin_manager(settings, entry_points=entry_points, extra=extra)


def scripted_gateway(
    providers: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    toml: str = "",
    tmp: Any = None,
    sleep: Callable[[float], Any] | None = None,
    telemetry: Any = None,
) -> tuple[Any, Settings]:
    """An ``LLMGateway`` over in-memory providers (``tests/fakes/providers.py``), each
    registered as a plugin serving ``<name>-*`` models; ``toml`` (written under ``tmp``) and
    ``env`` configure it; returned with its settings. Backoff never waits unless ``sleep``
    says otherwise; jitter is fixed; ``telemetry`` (a ``dawai.ports.telemetry.Telemetry``)
    is told what the gateway reports."""
    from dawai.core.gateway import LLMGateway
    from dawai.core.provider_pool import ProviderPool
    from dawai.core.routing import ModelRouter
    from dawai.core.telemetry import NO_TELEMETRY
    from tests.fakes.providers import factory_for

    env = dict(env or {})
    if toml:
        path = tmp / "dawai.toml"
        path.write_text(toml)
        env["DAWAI_CONFIG"] = str(path)
    settings = make_settings(env)
    plugins = [
        (f"test.{n}", ProviderPlugin(n, factory_for(p), prefixes=(f"{n}-",))) for n, p in providers.items()
    ]
    host = make_host(settings, *plugins)

    async def no_sleep(seconds: float) -> None:
        return None

    gateway = LLMGateway(
        router=ModelRouter(settings, host.catalog, host.resolve_model),
        pool=ProviderPool(host.catalog, settings),
        settings=settings,
        sleep=sleep or no_sleep,
        jitter=lambda: 1.0,
        telemetry=telemetry or NO_TELEMETRY,
    )
    return gateway, settings


def make_container(settings: Settings, *extra: tuple[str, Any]) -> Container:
    return build_container(settings, make_host(settings, *extra))


# The app answers only to its allowed Host names (localhost, 127.0.0.1, [::1] by default);
# Litestar's TestClient would send Host: testserver.local.
LOCAL_BASE_URL = "http://127.0.0.1"


class _LoopbackTransport(TestClientTransport):  # type: ignore[type-arg]
    """Litestar's test transport, with the peer a client on this machine has (it says
    ``("testclient", 50000)``, which is no address): admin routes answer loopback only
    while no token is configured."""

    def parse_request(self, request: Any) -> dict[str, Any]:
        scope = super().parse_request(request)
        scope["client"] = ("127.0.0.1", 50000)
        return scope


class LocalTestClient(TestClient):  # type: ignore[type-arg]
    """A TestClient that talks to the app as a client on 127.0.0.1 does."""

    def __init__(self, app: Any, *, raise_server_exceptions: bool = True, **options: Any) -> None:
        super().__init__(
            app, base_url=LOCAL_BASE_URL, raise_server_exceptions=raise_server_exceptions, **options
        )
        transport = _LoopbackTransport(client=self, raise_server_exceptions=raise_server_exceptions)
        httpx.Client.__init__(
            self,
            base_url=LOCAL_BASE_URL,
            headers={"user-agent": "testclient"},
            follow_redirects=True,
            transport=transport,
            timeout=options.get("timeout"),
        )


def local_client(app: Any, **options: Any) -> TestClient:
    """A TestClient that talks to the app as http://127.0.0.1 does, from 127.0.0.1."""
    return LocalTestClient(app, **options)


@pytest.fixture
def client_for() -> Iterator[Callable[..., TestClient]]:
    """``client_for(settings, *plugins)`` -> a started Litestar TestClient."""
    clients: list[TestClient] = []

    def make(settings: Settings | None = None, *extra: tuple[str, Any]) -> TestClient:
        container = make_container(settings or make_settings(), *extra)
        client = local_client(app_for(container), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _no_real_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's real keys or base URLs."""
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_BASE_URL")) or name.startswith("DAWAI_"):
            monkeypatch.delenv(name, raising=False)


# ``llm.transport``: every provider test that goes through the SDKs runs on each.
TRANSPORTS = ("dawai", "httpx")


@pytest.fixture(params=TRANSPORTS)
def llm_transport(request: pytest.FixtureRequest) -> str:
    """Each of ``llm.transport``'s values in turn."""
    return str(request.param)


@pytest.fixture(scope="session")
def upstream() -> Iterator[Any]:
    """The loopback fake of the Anthropic, OpenAI and Gemini APIs (one per test session)."""
    from tests.fakes.llm_upstream import FakeUpstream

    fake = FakeUpstream().start()
    yield fake
    fake.stop()


# For tests that load a server past a client's default limits (30 chats a minute): the
# limits are their own tests' subject (tests/integration/test_rate_limits.py).
UNLIMITED_RATES = {
    f"DAWAI_RATE_LIMIT_{name}": "unlimited" for name in ("CHAT", "SYNTHESIS", "GHOST_TEXT", "OTHER")
}

# Likewise past one client's caps on open streams and renders (tests/integration/test_concurrency_caps.py).
UNCAPPED = {"DAWAI_MAX_STREAMS_PER_CLIENT": "0", "DAWAI_MAX_RENDERS_PER_CLIENT": "0"}


def upstream_env(fake: Any, **extra: str) -> dict[str, str]:
    """Env that points all three official SDKs at the fake, with test keys."""
    return {
        "ANTHROPIC_API_KEY": "sk-ant-api03-" + "t" * 40,
        "ANTHROPIC_BASE_URL": fake.anthropic_base_url,
        "OPENAI_API_KEY": "sk-proj-" + "t" * 40,
        "OPENAI_BASE_URL": fake.openai_base_url,
        "GEMINI_API_KEY": "AIza" + "t" * 35,
        "GOOGLE_GEMINI_BASE_URL": fake.gemini_base_url,
        # Ghost-text feedback in a database that lives as long as the server process.
        "DAWAI_GHOST_FEEDBACK_PATH": ":memory:",
        **extra,
    }


async def _ping(url: str) -> None:
    from dawai.adapters.stores import redis_client

    # Generous: a loaded machine can take a while to answer even a local ping.
    client = redis_client(url, connect_timeout=5.0)
    try:
        await client.ping()
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis for tests marked ``redis``: skipped without one, failed under CI."""
    try:
        asyncio.run(_ping(REDIS_URL))
    except Exception as exc:  # any failure to reach it means there is no usable Redis
        reason = f"Redis at {REDIS_URL} unreachable ({type(exc).__name__}: {exc})"
        if IN_CI:
            pytest.fail(f"{reason}; CI is set, so the Redis tests must run")
        pytest.skip(f"{reason}; set DAWAI_TEST_REDIS_URL or start redis-server")
    return REDIS_URL
