"""Health: ``/``, ``/health`` and ``/health`` under each API prefix, open to anyone."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from litestar import get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from dawai.adapters.http.route_set import API_PREFIXES, ROOT, Access, RateClass, RouteSet
from dawai.adapters.http.schemas import (
    GhostTextHealthOut,
    HealthResponse,
    InternalOut,
    PluginOut,
    RateLimitsOut,
)
from dawai.adapters.internals import Verdict, plugin_states
from dawai.core.ghost.service import EngineHealth
from dawai.core.routing import ModelRouter
from dawai.plugins.manager import PluginHost

__all__ = ["health_report", "routes"]

PATHS = ["/", "/health", *(f"{prefix}/health" for prefix in API_PREFIXES)]


def health_report(
    router: ModelRouter,
    plugin_host: PluginHost,
    version: str,
    store: str,
    internals: Callable[[], Sequence[Verdict]] = lambda: (),
    rate_limits: Callable[[], Mapping[str, Any]] = lambda: {"storage": "memory", "fallback": False},
    voices: Callable[[], tuple[Mapping[str, str], Mapping[str, str]]] = lambda: ({}, {}),
    ghost_text: Callable[[], EngineHealth] = EngineHealth,
) -> HealthResponse:
    """``degraded`` when a plugin failed, a private part of a dependency changed shape
    (``internals``: its plugins say so too, with the reason), the rate limits' Redis is
    away (``rate_limits.fallback``: each process counts alone meanwhile), a voice cannot
    sing or sings with a caveat (``voices``: failed and warned voices, builds nothing), or
    the ghost-text language model did not load (``ghost_text.lm``: the embedded engine
    answers alone)."""
    catalog = plugin_host.catalog
    verdicts = list(internals())
    plugins = [
        PluginOut(i.name, i.version, i.distribution, status, i.builtin, i.error, warnings)
        for i, status, warnings in plugin_states(plugin_host.infos.values(), verdicts)
    ]
    limits = rate_limits()
    ghost = ghost_text()
    degraded = (
        any(p.status in ("failed", "degraded") for p in plugins)
        or any(v.status == "degraded" for v in verdicts)
        or bool(limits["fallback"])
        or ghost.lm == "degraded"
    )
    failed, warned = voices()
    degraded = degraded or bool(failed) or bool(warned)
    return HealthResponse(
        status="degraded" if degraded else "ok",
        version=version,
        providers={name: router.configured(name) for name in sorted(catalog.providers)},
        voices=sorted(n for n in catalog.voices if n not in failed),
        plugins=plugins,
        store=store,
        internals=[InternalOut(v.name, v.status, v.relies_on, v.fallback, v.reason) for v in verdicts],
        rate_limits=RateLimitsOut(limits["storage"], bool(limits["fallback"])),
        voices_failed=dict(failed),
        voice_warnings=dict(warned),
        ghost_text=GhostTextHealthOut(
            ghost.engine, ghost.lm, ghost.reason, ghost.counts() if ghost.counts is not None else None
        ),
    )


def _report(container: Any) -> Callable[[], HealthResponse]:
    return partial(
        health_report,
        container.model_router(),
        container.plugin_host(),
        container.version(),
        container.store_backend(),
        container.internal_checks,
        container.rate_limits().state,
        lambda: (container.singing_service().failures(), container.singing_service().warnings()),
        lambda: container.ghost_text().health,
    )


async def _health(health: NamedDependency[Callable[[], HealthResponse]]) -> HealthResponse:
    """Service status: version, which providers have a key (never the key), voices,
    plugins, the store backend, and the private parts of dependencies in use
    (``degraded`` with the reason when one changed shape and its public path serves)."""
    return health()


def handlers() -> list[HTTPRouteHandler]:
    return [get(PATHS, summary="Health", tags=["health"])(_health)]


routes = RouteSet(ROOT, handlers, {"health": _report}, access=Access.OPEN, rate=RateClass.UNLIMITED)
