"""Start-up and shutdown of a served app: the composition root's, handed to the app as
hooks (``app_for``), so the HTTP adapter opens and closes nothing itself.

Start-up fails fast on a prompt strategy that is not registered, logs each routing
problem (a fallback or alias that routes nowhere) and each provider whose TLS certificates
are not verified (``verify = false``), checks the private parts of dependencies the
providers rely on (those whose library loads cheaply now, each SDK's when it loads; a
changed one is logged, reported by ``/health`` and served by its public path:
docs/adr/0021), opens the container's resources and settles the heap (docs/adr/0009);
shutdown closes the resources (SDK clients, Redis).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import structlog
from litestar import Litestar

from dawai.adapters.http.app import create_app
from dawai.adapters.http.route_set import RouteSet
from dawai.adapters.http.routes import ROUTES

__all__ = ["app_for", "start", "stop"]

log = structlog.get_logger("dawai.app")


async def _maybe_await(result: Any) -> None:
    """dependency-injector returns an awaitable only when some resource is async."""
    if inspect.isawaitable(result):
        await result


async def start(container: Any) -> None:
    container.prompt_strategy()
    for problem in container.model_router().problems():
        log.warning("routing_problem", problem=problem)
    for name, endpoint in container.settings().providers.items():
        if not endpoint.verify:
            log.warning("tls_verification_off", provider=name, setting=f"providers.{name}.verify")
    container.internal_checks()  # each one found changed is logged as it is found
    await _maybe_await(container.init_resources())
    settle = container.heap_settler()
    if settle is not None:
        settle()


async def stop(container: Any) -> None:
    await _maybe_await(container.shutdown_resources())


def app_for(container: Any, routes: Sequence[RouteSet] = ROUTES) -> Litestar:
    """The app over ``container``, serving ``routes``, started and stopped by the hooks above."""

    async def on_startup() -> None:
        await start(container)

    async def on_shutdown() -> None:
        await stop(container)

    return create_app(container, routes=routes, on_startup=[on_startup], on_shutdown=[on_shutdown])
