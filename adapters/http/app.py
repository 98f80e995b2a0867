"""``create_app(container, routes=ROUTES)``: the Litestar application.

The routes come from their modules' declarations (``dawai.adapters.http.route_set``);
start-up and shutdown are the composition root's (``dawai.bootstrap.lifecycle``), handed
in as hooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.types import LifespanHook

from dawai.adapters.http.audit import AuditLog, AuditRules
from dawai.adapters.http.auth import AccessRules, TokenGuard, credentials_of
from dawai.adapters.http.client_ip import ClientAddress
from dawai.adapters.http.concurrency import ConcurrencyGuard, SlotRules
from dawai.adapters.http.context import RequestContext
from dawai.adapters.http.cors import CORS
from dawai.adapters.http.docs import (
    DOCS_PATH,
    docs_assets_router,
    docs_not_found_as_problem,
    docs_render_plugins,
)
from dawai.adapters.http.drain import STREAM_DRAIN_STATE_KEY, DrainGate, DrainRules
from dawai.adapters.http.head_guard import HeadGuard
from dawai.adapters.http.hosts import default_allowed_hosts
from dawai.adapters.http.json_body import BoundedJsonRequest, check_json_request
from dawai.adapters.http.metrics import HttpMetrics, MetricsMiddleware
from dawai.adapters.http.openapi import RefinedRender, ServedSchema, body_types
from dawai.adapters.http.problems import EXCEPTION_HANDLERS
from dawai.adapters.http.rate_limit import RateLimitGuard, RateLimits, RateRules
from dawai.adapters.http.route_set import Access, RouteSet
from dawai.adapters.http.routes import ROUTES
from dawai.adapters.http.security_headers import SecurityHeaders
from dawai.core.settings import Settings

__all__ = ["create_app"]

EXPOSED_HEADERS = ("X-Request-ID", "Retry-After", "X-Cache", "X-Render-Time-Ms")


def create_app(
    container: Any,
    *,
    routes: Sequence[RouteSet] = ROUTES,
    on_startup: Sequence[LifespanHook] = (),
    on_shutdown: Sequence[LifespanHook] = (),
) -> Litestar:
    """Build the app from a container (``dawai.bootstrap.container.Container``), mounting
    each route set; the hooks run when the server starts and stops."""
    settings: Settings = container.settings()
    version: str = container.version()

    http = settings.http

    credentials = credentials_of(http)
    limits: RateLimits = container.rate_limits()
    counters = container.slot_counters()

    def needs_token(path: str) -> bool:
        return bool(credentials) and access.for_documented(path) is not Access.OPEN

    def may_forbid(path: str) -> bool:
        """403: an address the IP lists refuse; on an admin route, a user's token, or
        (with no token configured) a client that is not on loopback."""
        admin_only = access.for_documented(path) is Access.ADMIN
        return admin_only or bool(http.ip_allow or http.ip_deny)

    served = ServedSchema(
        lambda: body_types(app.routes),
        needs_token,
        may_forbid,
        lambda: [m.id for m in container.model_router().models()],
        head_as_get=True,  # HeadGuard, below
        limited=lambda path: limits.limited(rate_classes.for_documented(path)),
        capped=lambda path: slots.for_documented(path) in counters,
    )
    renderers = [*docs_render_plugins(), JsonRenderPlugin()]
    app = Litestar(
        route_handlers=[*(router for rs in routes for router in rs.routers(container)), docs_assets_router()],
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
        on_startup=list(on_startup),
        on_shutdown=list(on_shutdown),
        debug=False,
        logging_config=None,  # logging is the composition root's (bootstrap/logging.py)
    )
    # Each route's access rule, from its set's declaration; the API docs are open.
    access = AccessRules.of_routes(app.routes, open_prefixes=(DOCS_PATH,))
    rate_classes = RateRules.of_routes(app.routes, open_prefixes=(DOCS_PATH,))
    slots = SlotRules.of_routes(app.routes, open_prefixes=(DOCS_PATH,))
    # Outside Litestar's own handler, so 404s, 405s and preflights pass through them too:
    # request context, then the client's address (IP allow and deny lists), then the head's
    # size and Host (and HEAD as GET), then CORS (preflights need no token), then the audit
    # log (AI routes), then the token
    # and its role, then (for a stream) the shutdown's gate, then the rate limit of the path's
    # class for that token (or address), then the caps on streams and renders open at once.
    inner: Any = app.asgi_handler
    if counters:
        inner = ConcurrencyGuard(inner, counters, slots, settings.limits.busy_retry_after)
    if limits.enabled:
        inner = RateLimitGuard(inner, limits, rate_classes, on_refusal=container.http_metrics().refused)
    # Streams counted while open, and new ones refused once the server stops (drain.py).
    inner = DrainGate(inner, container.stream_drain(), DrainRules.of_routes(app.routes))
    guarded: Any = TokenGuard(inner, credentials, access)
    if settings.audit.enabled:  # AI requests, refused ones included (audit.py)
        sink = container.audit_sink()
        guarded = AuditLog(
            guarded, settings.audit, AuditRules.of_routes(app.routes), sink, http.max_body_bytes
        )
    cors = CORS(guarded, origins=http.allowed_origins, expose=EXPOSED_HEADERS)
    hosts = http.allowed_hosts if http.allowed_hosts is not None else default_allowed_hosts(http.host)
    head_checked = HeadGuard(cors, allowed_hosts=hosts)
    addressed = ClientAddress(
        head_checked,
        allow=http.ip_allow,
        deny=http.ip_deny,
        trusted_proxies=http.trusted_proxies,
        max_forwarded_hops=http.max_forwarded_hops,
    )
    # Security headers on every answer, a refused address's included.
    secured = SecurityHeaders(addressed)
    # Counted per route template (known once Litestar has routed), outside everything else.
    metrics: HttpMetrics = container.http_metrics()
    counted = MetricsMiddleware(secured, metrics)
    app.asgi_handler = RequestContext(counted, access_log_enabled=settings.log.access)
    return app
