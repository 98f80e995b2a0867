"""Route sets: a module declares its prefixes, handlers, dependencies and access rule, and
the app, the token guard and the OpenAPI schema take them from there. The feature routes
here are the product's singing sets (adapters/http/routes/singing.py: ``/diffsinger`` and
``/ai/api/voice``, guarded, and ``/ai/api/voice/health``, open) and one below, added
through ``app_for``'s ``routes`` as ``ROUTES`` lists the product's."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from litestar import get, post
from litestar.exceptions import ImproperlyConfiguredException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.testing import TestClient

from dawai.adapters.http.route_set import API_PREFIXES, Access, RouteSet
from dawai.adapters.http.routes import ROUTES, singing
from dawai.bootstrap.lifecycle import app_for
from dawai.plugins import hookimpl
from tests.conftest import local_client, make_container, make_settings
from tests.integration.test_http_foundation import assert_problem

TOKEN = {"Authorization": "Bearer a-token"}


class VoicesPlugin:
    @hookimpl
    def register_voices(self, register: Callable[..., None]) -> None:
        register("alto", lambda config: None)  # a broken voice: its factory returns nothing


async def _take(take_id: FromPath[int]) -> dict[str, int]:
    """An open test route with a typed path parameter."""
    return {"take": take_id}


def _open_handlers() -> list[HTTPRouteHandler]:
    return [get("/test-takes/{take_id:int}", summary="A test take", tags=["test"])(_take)]


OPEN_TAKES = RouteSet(("/diffsinger",), _open_handlers, access=Access.OPEN)
FEATURES = (*ROUTES, OPEN_TAKES)
PREFIXES = ("/diffsinger", "/ai/api/voice")
NOTE = {"notes": [{"pitch": 69, "start": 0, "duration": 0.2, "lyric": "la"}]}


@pytest.fixture
def client_with() -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(env: dict[str, str] | None = None, routes: tuple[RouteSet, ...] = FEATURES) -> TestClient:
        container = make_container(make_settings(env), ("voices", VoicesPlugin()))
        client = local_client(app_for(container, routes), raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_a_feature_prefix_serves_its_routes_with_their_dependency(client_with, prefix):
    client = client_with()
    sung = client.post(f"{prefix}/synthesize", json=NOTE)
    assert sung.status_code == 200 and sung.headers["content-type"] == "audio/wav"
    # The service the sets share: the broken voice is reported, the others serve.
    models = client.get("/diffsinger/models").json()
    assert [v["id"] for v in models if v["status"] == "ok"] == ["default"]
    assert [(v["id"], v["status"]) for v in models if v["status"] != "ok"] == [("alto", "failed")]
    health = client.get("/ai/api/voice/health").json()
    assert health["status"] == "degraded" and "alto" in health["failed"]
    assert client.head("/diffsinger/models").status_code == 200
    assert client.get("/api/models").status_code == 200  # the product's routes as before


def test_api_tokens_follow_each_sets_access_rule(client_with):
    client = client_with({"DAWAI_API_TOKENS": "a-token"})
    for prefix in PREFIXES:
        body = assert_problem(client.post(f"{prefix}/synthesize", json=NOTE), 401)
        assert "Bearer" in body["detail"]
        assert client.post(f"{prefix}/synthesize", json=NOTE, headers=TOKEN).status_code == 200
    assert_problem(client.get("/diffsinger/models"), 401)
    assert client.get("/diffsinger/models", headers=TOKEN).status_code == 200
    # An open set under the same prefix as a guarded one: its path needs no token.
    assert client.get("/ai/api/voice/health").json()["voices"] == ["default"]
    # An open set's parameterised path needs no token, whatever the parameter.
    assert client.get("/diffsinger/test-takes/7").json() == {"take": 7}
    # A value its type refuses routes nowhere: a 404, still without a token.
    assert_problem(client.get("/diffsinger/test-takes/seven"), 404)
    # Paths no set serves need a token, also under a feature's prefix.
    assert_problem(client.get("/diffsinger/nothing-here"), 401)
    assert_problem(client.get("/diffsinger/nothing-here", headers=TOKEN), 404)
    assert_problem(client.get("/ai/api/voice/health/more"), 401)
    assert_problem(client.get("/diffsinger/test-takes/7/more"), 401)
    for path in ("/", "/health", *(f"{p}/health" for p in API_PREFIXES), "/schema/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_the_schema_says_which_routes_need_a_token(client_with):
    spec = client_with({"DAWAI_API_TOKENS": "a-token"}).get("/schema/openapi.json").json()
    for prefix in PREFIXES:
        sing = spec["paths"][f"{prefix}/synthesize"]["post"]
        assert sing["security"] == [{"apiToken": []}]
        assert {"401", "404", "413"} <= set(sing["responses"])
    health = spec["paths"]["/ai/api/voice/health"]["get"]
    assert "security" not in health and "401" not in health["responses"]
    take = spec["paths"]["/diffsinger/test-takes/{take_id}"]["get"]
    assert "security" not in take and "401" not in take["responses"]
    assert "404" in take["responses"]
    assert "404" not in spec["paths"]["/api/models"]["get"]["responses"]  # no path parameter


def test_a_path_belongs_to_one_set():
    """Litestar refuses a second router's handlers at a path another router serves (even for
    another method), so each path has one set and one rule."""
    twice = (*ROUTES, singing.routes)
    with pytest.raises(ImproperlyConfiguredException):
        app_for(make_container(make_settings()), twice)

    async def _post_take(take_id: FromPath[int]) -> dict[str, int]:
        return {"posted": take_id}

    def posting() -> list[HTTPRouteHandler]:
        return [post("/test-takes/{take_id:int}", status_code=200)(_post_take)]

    with pytest.raises(ImproperlyConfiguredException):
        app_for(make_container(make_settings()), (*FEATURES, RouteSet(("/diffsinger",), posting)))
