"""``create_app(container)``: the Litestar application."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

import structlog
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin

from dawai.adapters.http.auth import OPEN_PATHS, TokenGuard
from dawai.adapters.http.context import RequestContext
from dawai.adapters.http.cors import CORS
from dawai.adapters.http.docs import (
    DOCS_PATH,
    docs_assets_router,
    docs_not_found_as_problem,
    docs_render_plugins,
)
from dawai.adapters.http.drain import STREAM_DRAIN_STATE_KEY
from dawai.adapters.http.head_guard import HeadGuard
from dawai.adapters.http.hosts import default_allowed_hosts
from dawai.adapters.http.json_body import BoundedJsonRequest, check_json_request
from dawai.adapters.http.openapi import RefinedRender, ServedSchema, body_types
from dawai.adapters.http.problems import EXCEPTION_HANDLERS
from dawai.adapters.http.routes import api_router, root_handlers
from dawai.adapters.http.routes.health import health_report
from dawai.adapters.http.schemas import HealthResponse
from dawai.core.chat import ChatService
from dawai.core.routing import ModelRouter
from dawai.core.settings import Settings
from dawai.plugins.manager import PluginHost

__all__ = ["API_PREFIXES", "create_app"]

log = structlog.get_logger("dawai.app")
API_PREFIXES = ("/api", "/ai/api")
EXPOSED_HEADERS = ("X-Request-ID", "Retry-After", "X-Cache", "X-Render-Time-Ms")


async def _maybe_await(result: Any) -> None:
    """dependency-injector returns an awaitable only when some resource is async."""
    if inspect.isawaitable(result):
        await result


def create_app(container: Any) -> Litestar:
    """Build the app from a container (``dawai.bootstrap.container.Container``)."""
    settings: Settings = container.settings()
    plugin_host: PluginHost = container.plugin_host()
    version: str = container.version()
    store_backend: str = container.store_backend()

    # Small typed functions: Litestar inspects their signatures, never the container's.
    # One dependency per handler: Litestar resolves several in an anyio task group, which
    # costs more than the handler itself.
    def provide_chat() -> ChatService:
        return container.chat_service()

    def provide_router() -> ModelRouter:
        return container.model_router()

    def provide_health() -> Callable[[], HealthResponse]:
        return partial(health_report, container.model_router(), plugin_host, version, store_backend)

    async def startup() -> None:
        # Fail fast on a broken strategy choice, and open the resources.
        container.prompt_strategy()
        for problem in container.model_router().problems():
            log.warning("routing_problem", problem=problem)
        await _maybe_await(container.init_resources())
        settle = container.heap_settler()
        if settle is not None:
            settle()

    async def shutdown() -> None:
        await _maybe_await(container.shutdown_resources())

    http = settings.http

    def needs_token(path: str) -> bool:
        return bool(http.api_tokens) and path not in OPEN_PATHS

    served = ServedSchema(
        lambda: body_types(app.routes),
        needs_token,
        lambda: [m.id for m in container.model_router().models()],
        head_as_get=True,  # HeadGuard, below
    )
    renderers = [*docs_render_plugins(), JsonRenderPlugin()]
    app = Litestar(
        route_handlers=[
            *root_handlers(),
            *(api_router(prefix) for prefix in API_PREFIXES),
            docs_assets_router(),
        ],
        dependencies={
            "chat": Provide(provide_chat, sync_to_thread=False, use_cache=True),
            "router": Provide(provide_router, sync_to_thread=False, use_cache=True),
            "health": Provide(provide_health, sync_to_thread=False, use_cache=True),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        # Open SSE streams end in-band when the server stops (bootstrap/server.py).
        state=State({STREAM_DRAIN_STATE_KEY: container.stream_drain()}),
        openapi_config=OpenAPIConfig(
            title="DAWAI backend",
            version=version,
            description="Chat, agent, MIDI generation, singing synthesis and ghost text for the DAWAI DAW.",
            path=DOCS_PATH,
            render_plugins=[RefinedRender(plugin, served) for plugin in renderers],
        ),
        request_max_body_size=http.max_body_bytes,
        # JSON bodies: application/json only, present, at most 64 deep (json_body.py).
        request_class=BoundedJsonRequest,
        before_request=check_json_request,
        after_request=docs_not_found_as_problem,
        on_startup=[startup],
        on_shutdown=[shutdown],
        debug=False,
        logging_config=None,  # logging is the composition root's (bootstrap/logging.py)
    )
    # Outside Litestar's own handler, so 404s, 405s and preflights pass through them too:
    # request context, then the head's size and Host (and HEAD as GET), then CORS
    # (preflights need no token), then the token check.
    guarded = TokenGuard(app.asgi_handler, http.api_tokens)
    cors = CORS(guarded, origins=http.allowed_origins, expose=EXPOSED_HEADERS)
    hosts = http.allowed_hosts if http.allowed_hosts is not None else default_allowed_hosts(http.host)
    head_checked = HeadGuard(cors, allowed_hosts=hosts)
    app.asgi_handler = RequestContext(head_checked, access_log_enabled=settings.log.access)
    return app
