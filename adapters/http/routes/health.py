"""Health: ``/``, ``/health``, ``/api/health``, ``/ai/api/health``."""

from __future__ import annotations

from collections.abc import Callable

from litestar import get
from litestar.di import NamedDependency

from dawai.adapters.http.schemas import HealthResponse, PluginOut
from dawai.core.routing import ModelRouter
from dawai.plugins.manager import PluginHost

__all__ = ["api_handlers", "health_report", "root_handlers"]


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


async def _health(health: NamedDependency[Callable[[], HealthResponse]]) -> HealthResponse:
    """Service status: version, which providers have a key (never the key), voices, plugins
    and the store backend."""
    return health()


def root_handlers() -> list[object]:
    return [get(["/", "/health"], summary="Health", tags=["health"])(_health)]


def api_handlers() -> list[object]:
    return [get("/health", summary="Health", tags=["health"])(_health)]
