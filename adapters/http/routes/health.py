"""Health: ``/``, ``/health`` and ``/health`` under each API prefix, open to anyone."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from dawai.adapters.http.route_set import API_PREFIXES, ROOT, Access, RouteSet
from dawai.adapters.http.schemas import HealthResponse, PluginOut
from dawai.core.routing import ModelRouter
from dawai.plugins.manager import PluginHost

__all__ = ["health_report", "routes"]

PATHS = ["/", "/health", *(f"{prefix}/health" for prefix in API_PREFIXES)]


def health_report(router: ModelRouter, plugin_host: PluginHost, version: str, store: str) -> HealthResponse:
    catalog = plugin_host.catalog
    plugins = [
        PluginOut(i.name, i.version, i.distribution, i.status, i.builtin, i.error, i.warnings)
        for i in plugin_host.infos.values()
    ]
    degraded = any(p.status == "failed" for p in plugins)
    return HealthResponse(
        status="degraded" if degraded else "ok",
        version=version,
        providers={name: router.configured(name) for name in sorted(catalog.providers)},
        voices=sorted(catalog.voices),
        plugins=plugins,
        store=store,
    )


def _report(container: Any) -> Callable[[], HealthResponse]:
    return partial(
        health_report,
        container.model_router(),
        container.plugin_host(),
        container.version(),
        container.store_backend(),
    )


async def _health(health: NamedDependency[Callable[[], HealthResponse]]) -> HealthResponse:
    """Service status: version, which providers have a key (never the key), voices, plugins
    and the store backend."""
    return health()


def handlers() -> list[HTTPRouteHandler]:
    return [get(PATHS, summary="Health", tags=["health"])(_health)]


routes = RouteSet(ROOT, handlers, {"health": _report}, access=Access.OPEN)
