"""The route modules: each declares its ``routes`` (a ``RouteSet``: prefixes, handlers,
dependencies, access rule), and ``ROUTES`` lists them all; ``create_app`` mounts them.
A new feature is one module here plus one line below."""

from __future__ import annotations

from dawai.adapters.http.route_set import RouteSet
from dawai.adapters.http.routes import (
    admin,
    agent,
    chat,
    generate,
    ghost_text,
    health,
    metrics,
    models,
    render_jobs,
    singing,
    summary,
)

__all__ = ["ROUTES"]

ROUTES: tuple[RouteSet, ...] = (
    health.routes,
    chat.routes,
    models.routes,
    summary.routes,
    admin.routes,
    metrics.routes,
    generate.routes,
    ghost_text.routes,
    agent.routes,
    singing.routes,
    singing.voice_routes,
    singing.health_routes,
    render_jobs.routes,
)
