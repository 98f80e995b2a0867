"""``GET /api/admin/config`` and ``GET /api/admin/plugins``: what an operator needs to see
of a running server, for admin tokens only (``Access.ADMIN``; to loopback clients only while
no API token is configured: adapters/http/auth.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from dawai.adapters.http.route_set import API_PREFIXES, Access, RouteSet
from dawai.adapters.internals import plugin_states
from dawai.plugins.manager import PluginInfo

__all__ = ["routes"]


async def _config(settings: NamedDependency[Callable[[], dict[str, Any]]]) -> dict[str, Any]:
    """The effective settings (defaults < config file < environment), every secret
    (keys, tokens, token digests, the Redis URL) shown as `***`: what `dawai config` prints."""
    return settings()


async def _plugins(plugins: NamedDependency[Callable[[], list[PluginInfo]]]) -> list[PluginInfo]:
    """Every plugin: its origin, status (`degraded` with the reasons when a private part
    of a dependency it uses changed shape) and what it registered."""
    return plugins()


def _plugin_list(container: Any) -> Callable[[], list[PluginInfo]]:
    host = container.plugin_host()

    def listed() -> list[PluginInfo]:
        return [
            msgspec.structs.replace(info, status=status, warnings=warnings)
            for info, status, warnings in plugin_states(host.infos.values(), container.internal_checks())
        ]

    return listed


def handlers() -> list[HTTPRouteHandler]:
    return [
        get("/admin/config", summary="Effective settings, secrets redacted", tags=["admin"])(_config),
        get("/admin/plugins", summary="Plugins and what each registered", tags=["admin"])(_plugins),
    ]


routes = RouteSet(
    API_PREFIXES,
    handlers,
    {"settings": lambda container: container.effective_settings, "plugins": _plugin_list},
    access=Access.ADMIN,
)
