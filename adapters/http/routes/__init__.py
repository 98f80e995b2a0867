"""Route handlers. ``api_router(prefix)`` builds one router; the app mounts it at ``/api``
and ``/ai/api`` so both prefixes serve identical routes."""

from __future__ import annotations

from litestar import Router

from dawai.adapters.http.routes import chat, health, models

__all__ = ["api_router", "root_handlers"]


def api_router(prefix: str) -> Router:
    return Router(
        path=prefix,
        route_handlers=[*health.api_handlers(), *chat.handlers(), *models.handlers()],
    )


def root_handlers() -> list[object]:
    return health.root_handlers()
