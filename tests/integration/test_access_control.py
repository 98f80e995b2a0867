"""Roles and IP rules through the whole app: every route set's declared ``Access``, the
token guard, and the IP lists in front of everything."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import pytest
from litestar import post
from litestar.handlers import HTTPRouteHandler

from dawai.adapters.http.route_set import ACCESS_OPT, API_PREFIXES, Access, RouteSet
from dawai.adapters.http.routes import ROUTES
from dawai.bootstrap.config import ConfigError
from dawai.bootstrap.lifecycle import app_for
from tests.conftest import local_client, make_container, make_settings
from tests.integration.test_http_foundation import assert_problem

USER, ADMIN, ENV_ADMIN = "user-token-1234", "admin-token-5678", "env-admin-9999"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def config(tmp_path: Any, extra: str = "") -> str:
    path = tmp_path / "dawai.toml"
    path.write_text(
        f"""
[[http.tokens]]
name = "frontend"
sha256 = "{digest(USER)}"

[[http.tokens]]
name = "ops"
role = "admin"
sha256 = "{digest(ADMIN)}"
{extra}
"""
    )
    return str(path)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _clear() -> dict[str, int]:
    """A test admin action on a set whose other routes are a user's."""
    return {"cleared": 0}


def _mixed_handlers() -> list[HTTPRouteHandler]:
    return [post("/test-cache/clear", opt={ACCESS_OPT: Access.ADMIN}, status_code=200)(_clear)]


MIXED = RouteSet(API_PREFIXES, _mixed_handlers)


@pytest.fixture
def client(tmp_path):
    env = {"DAWAI_CONFIG": config(tmp_path), "DAWAI_API_TOKENS": f"admin:{ENV_ADMIN}"}
    container = make_container(make_settings(env))
    with local_client(app_for(container, (*ROUTES, MIXED)), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("prefix", API_PREFIXES)
@pytest.mark.parametrize("path", ["/admin/config", "/admin/plugins", "/test-cache/clear"])
def test_admin_routes_need_an_admin_token(client, prefix, path):
    url = prefix + path
    method = client.post if "clear" in path else client.get
    response = method(url)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = method(url, headers=bearer(USER))
    assert_problem(response, 403)
    assert "admin" in response.json()["detail"]
    assert "www-authenticate" not in response.headers
    assert method(url, headers=bearer(ADMIN)).status_code == 200
    assert method(url, headers=bearer(ENV_ADMIN)).status_code == 200  # admin:<token> in DAWAI_API_TOKENS
    assert_problem(method(url, headers=bearer("admin-token-567")), 401)


def test_user_tokens_reach_user_routes_and_health_stays_open(client):
    assert client.get("/api/models", headers=bearer(USER)).status_code == 200
    assert client.get("/api/models", headers=bearer(ADMIN)).status_code == 200  # admin includes user
    assert_problem(client.get("/api/models"), 401)
    assert client.get("/health").status_code == 200
    assert client.get("/schema/openapi.json").status_code == 200


def test_config_shows_no_secret(client, tmp_path):
    shown = client.get("/api/admin/config", headers=bearer(ADMIN)).json()
    tokens = shown["http"]["tokens"]
    assert [t["name"] for t in tokens] == ["frontend", "ops"] and {t["sha256"] for t in tokens} == {"***"}
    assert shown["http"]["api_tokens"] == ["***"]
    text = client.get("/api/admin/config", headers=bearer(ADMIN)).text
    for secret in (USER, ADMIN, ENV_ADMIN, digest(USER), digest(ADMIN), digest(ENV_ADMIN)):
        assert secret not in text


def test_the_schema_lists_403_on_admin_routes_only(client):
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert "403" in paths["/api/admin/config"]["get"]["responses"]
    assert "403" in paths["/api/test-cache/clear"]["post"]["responses"]
    assert "403" not in paths["/api/models"]["get"]["responses"]


ADMIN_ROUTES = [
    ("GET", "/api/admin/config"),
    ("GET", "/ai/api/admin/plugins"),
    ("GET", "/metrics"),
    ("POST", "/diffsinger/cache/clear"),
]


async def _from(app: Any, peer: str, method: str, path: str, **options: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        return await http.request(method, path, **options)


def _statuses(env: dict[str, str], peer: str, **options: Any) -> list[int]:
    app = app_for(make_container(make_settings(env)))

    async def run() -> list[int]:
        async with app.lifespan():
            return [(await _from(app, peer, m, p, **options)).status_code for m, p in ADMIN_ROUTES]

    return asyncio.run(run())


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_without_tokens_admin_routes_answer_loopback_clients(peer):
    assert _statuses({}, peer) == [200] * len(ADMIN_ROUTES)


@pytest.mark.parametrize("peer", ["192.0.2.1", "10.0.0.5", "2001:db8::1", "::ffff:192.0.2.1"])
def test_without_tokens_admin_routes_refuse_everyone_else(peer):
    app = app_for(make_container(make_settings()))

    async def run() -> None:
        async with app.lifespan():
            for method, path in ADMIN_ROUTES:
                response = await _from(app, peer, method, path)
                assert_problem(response, 403)
                assert "loopback" in response.json()["detail"] and "admin" in response.json()["detail"]
            # Every other route stays open without tokens.
            assert (await _from(app, peer, "GET", "/api/models")).status_code == 200

    asyncio.run(run())


def test_a_loopback_proxy_does_not_make_its_clients_local():
    """Behind a reverse proxy on this machine (listed in trusted_proxies), the client is the
    one X-Forwarded-For names, and a remote one is refused."""
    env = {"DAWAI_TRUSTED_PROXIES": "127.0.0.1"}
    forwarded = {"headers": {"X-Forwarded-For": "203.0.113.5"}}
    assert _statuses(env, "127.0.0.1", **forwarded) == [403] * len(ADMIN_ROUTES)
    local = {"headers": {"X-Forwarded-For": "127.0.0.1"}}
    assert _statuses(env, "127.0.0.1", **local) == [200] * len(ADMIN_ROUTES)


def test_with_an_admin_token_admin_routes_answer_any_address_that_brings_it():
    env = {"DAWAI_API_TOKENS": f"admin:{ADMIN}"}
    assert _statuses(env, "192.0.2.1", headers=bearer(ADMIN)) == [200] * len(ADMIN_ROUTES)
    assert _statuses(env, "127.0.0.1") == [401] * len(ADMIN_ROUTES)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"DAWAI_IP_ALLOW": "10.0.0.0/33"}, "http.ip_allow (from DAWAI_IP_ALLOW)"),
        ({"DAWAI_IP_DENY": "example.com"}, "http.ip_deny (from DAWAI_IP_DENY)"),
        ({"DAWAI_TRUSTED_PROXIES": "10.0.0.1,10.0.0.300"}, "http.trusted_proxies"),
        ({"DAWAI_API_TOKENS": "sha256:abc"}, "64 hex digits"),
        ({"DAWAI_API_TOKENS": "admin:"}, "an empty token"),
    ],
)
def test_bad_access_settings_stop_start_up(env, needle):
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        make_settings(env)


def test_a_token_name_used_twice_stops_start_up(tmp_path):
    path = tmp_path / "dawai.toml"
    path.write_text(f'[[http.tokens]]\nname = "a"\nsha256 = "{digest("x")}"\n' * 2)
    with pytest.raises(ConfigError, match="'a' is used twice"):
        make_settings({"DAWAI_CONFIG": str(path)})


def test_a_role_must_be_user_or_admin(tmp_path):
    path = tmp_path / "dawai.toml"
    path.write_text(f'[[http.tokens]]\nname = "a"\nrole = "root"\nsha256 = "{digest("x")}"\n')
    with pytest.raises(ConfigError, match=r"http\.tokens"):
        make_settings({"DAWAI_CONFIG": str(path)})


async def _get(app: Any, peer: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        return await http.get(path, headers=headers)


def test_ip_lists_come_before_everything_else():
    env = {
        "DAWAI_IP_ALLOW": "192.0.2.0/24,2001:db8::/32",
        "DAWAI_IP_DENY": "192.0.2.66",
        "DAWAI_TRUSTED_PROXIES": "127.0.0.1",
        "DAWAI_API_TOKENS": USER,
    }
    app = app_for(make_container(make_settings(env)))

    async def run() -> None:
        assert (await _get(app, "192.0.2.5", "/health")).status_code == 200
        assert (await _get(app, "2001:db8::7", "/health")).status_code == 200
        for peer, path in [("192.0.2.66", "/health"), ("198.51.100.1", "/schema/openapi.json")]:
            assert_problem(await _get(app, peer, path), 403)
        # Before the token check: a refused address learns nothing of tokens.
        refused = await _get(app, "198.51.100.1", "/api/models")
        assert_problem(refused, 403)
        assert "www-authenticate" not in refused.headers
        # Before the Host check too.
        assert_problem(await _get(app, "198.51.100.1", "/health", {"Host": "evil.example"}), 403)
        via_proxy = await _get(
            app, "127.0.0.1", "/api/models", {"X-Forwarded-For": "192.0.2.9", **bearer(USER)}
        )
        assert via_proxy.status_code == 200
        assert_problem(await _get(app, "127.0.0.1", "/health", {"X-Forwarded-For": "192.0.2.66"}), 403)
        assert_problem(await _get(app, "127.0.0.1", "/health", {"X-Forwarded-For": "nonsense"}), 400)
        # A peer that is not a trusted proxy cannot claim another address.
        assert_problem(await _get(app, "198.51.100.1", "/health", {"X-Forwarded-For": "192.0.2.5"}), 403)

    asyncio.run(run())


def test_the_schema_lists_403_everywhere_when_ip_lists_are_set():
    app = app_for(make_container(make_settings({"DAWAI_IP_DENY": "192.0.2.0/24"})))
    paths = asyncio.run(_get(app, "198.51.100.1", "/schema/openapi.json")).json()
    assert all("403" in op["responses"] for item in paths["paths"].values() for op in item.values())


@pytest.mark.parametrize(
    "variant",
    [
        "/api/admin/config/",
        "//api/admin/config",
        "/api//admin/config",
        "/api/admin/config//",
        "/ai/api/admin/config/",
    ],
)
def test_a_path_spelt_another_way_keeps_its_routes_rule(client, variant):
    # Litestar routes each of these to the admin route; the token guard must read it so too.
    url = f"{client.base_url}{variant}"  # whole, so that // is a path and not a host
    assert_problem(client.get(url), 401)
    assert_problem(client.get(url, headers=bearer(USER)), 403)
    assert client.get(url, headers=bearer(ADMIN)).status_code == 200
