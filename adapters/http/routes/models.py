"""``GET /api/models``: what can be asked for now."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from dawai.adapters.http.route_set import API_PREFIXES, RouteSet
from dawai.adapters.http.schemas import ModelOut, ModelsResponse
from dawai.core.routing import ModelRouter
from dawai.core.settings import DEFAULT_MODEL

__all__ = ["routes"]


async def _models(router: NamedDependency[ModelRouter]) -> ModelsResponse:
    """Aliases, configured endpoints' models and plugin models; ``configured`` says whether
    the server holds a key for it (a request may still bring its own)."""
    return ModelsResponse(
        models=[ModelOut(m.id, m.provider, m.upstream, m.kind, m.configured) for m in router.models()],
        default=DEFAULT_MODEL,
    )


def handlers() -> list[HTTPRouteHandler]:
    return [get("/models", summary="List usable models", tags=["chat"])(_models)]


routes = RouteSet(API_PREFIXES, handlers, {"router": lambda container: container.model_router()})
