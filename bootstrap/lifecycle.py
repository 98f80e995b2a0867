"""Start-up and shutdown of a served app: the composition root's, handed to the app as
hooks (``app_for``), so the HTTP adapter opens and closes nothing itself.

Start-up fails fast on a prompt strategy that is not registered, logs each routing
problem (a fallback or alias that routes nowhere) and each provider whose TLS certificates
are not verified (``verify = false``), checks the private parts of dependencies the
providers rely on (those whose library loads cheaply now, each SDK's when it loads; a
changed one is logged, reported by ``/health`` and served by its public path:
docs/adr/0021), opens the container's resources, starts loading ghost text when a
language model is configured, and settles the heap (docs/adr/0009);
shutdown closes the resources (SDK clients, Redis) and, with several workers, drops
the worker's live metrics.

``Drains`` is the registry of long-running things the server lets finish when it is asked
to stop (``dawai.ports.draining.Drainable``): the container builds it with the open SSE
streams in it (``_drains`` in bootstrap/container.py; render jobs join the same way), and
the server calls ``request`` from its signal handler (bootstrap/server.py, docs/adr/0029).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import signal
import threading
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from litestar import Litestar

from dawai.adapters.http.app import create_app
from dawai.adapters.http.route_set import RouteSet
from dawai.adapters.http.routes import ROUTES
from dawai.ports.draining import Drainable

__all__ = ["Drains", "app_for", "drain_on_stop_signals", "start", "stop"]

log = structlog.get_logger("dawai.app")


async def _maybe_await(result: Any) -> None:
    """dependency-injector returns an awaitable only when some resource is async."""
    if inspect.isawaitable(result):
        await result


class Drains:
    """Things to drain when the server stops, by name. ``request(then)``, on the first
    stop signal: every one refuses new work; all get up to ``timeout`` seconds together to
    finish what they have open; what is still open then is ended (each with its in-band
    error); then ``then()`` runs (uvicorn's own stop: no new connections, the app's
    shutdown). A second signal meanwhile cuts the wait short."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._items: dict[str, Drainable] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hurry: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.started = False  # request() was called (and the loop was bound)

    def add(self, name: str, item: Drainable) -> None:
        if name in self._items:
            raise ValueError(f"{name!r} is already drained")
        self._items[name] = item

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._items)

    def bind(self) -> None:
        """Remember the running loop (at start-up): ``request`` schedules the drain on it."""
        self._loop = asyncio.get_running_loop()

    def request(self, then: Callable[[], None]) -> bool:
        """Begin the drain; ``then`` runs when it is over. Safe from a signal handler or
        another thread. False (and nothing done) before ``bind``: stop at once."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        if self.started:
            loop.call_soon_threadsafe(self._cut_short)
            return True
        self.started = True
        # A fresh context: a signal handler runs inside whatever request was interrupted.
        loop.call_soon_threadsafe(self._begin, then, context=contextvars.Context())
        return True

    def _cut_short(self) -> None:
        if self._hurry is not None:
            self._hurry.set()

    def _begin(self, then: Callable[[], None]) -> None:
        self._hurry = asyncio.Event()

        async def run() -> None:
            try:
                await self.drain()
            finally:
                then()

        self._task = asyncio.get_running_loop().create_task(run())

    async def drain(self) -> None:
        """The drain itself, on the event loop."""
        hurry = self._hurry or asyncio.Event()
        for item in self._items.values():
            item.refuse_new()
        open_now = {name: item.open_count for name, item in self._items.items()}
        log.info("drain_started", timeout=self.timeout, open=open_now)
        waiting = asyncio.ensure_future(asyncio.gather(*(item.idle() for item in self._items.values())))
        hurried = asyncio.ensure_future(hurry.wait())
        try:
            await asyncio.wait((waiting, hurried), timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
            hurried.cancel()
            await asyncio.gather(waiting, hurried, return_exceptions=True)
        left = {name: item.open_count for name, item in self._items.items() if item.open_count}
        if left:
            log.warning("drain_timeout", ended=left)
            await asyncio.gather(*(item.end_open() for item in self._items.values()), return_exceptions=True)
        log.info("drain_finished")


async def start(container: Any) -> None:
    container.prompt_strategy()
    for problem in container.model_router().problems():
        log.warning("routing_problem", problem=problem)
    for name, endpoint in container.settings().providers.items():
        if not endpoint.verify:
            log.warning("tls_verification_off", provider=name, setting=f"providers.{name}.verify")
    container.internal_checks()  # each one found changed is logged as it is found
    await _maybe_await(container.init_resources())
    if container.settings().ghost_text.engine != "embedded":
        container.ghost_text().preload()  # /health tells soon whether the model loaded
    settle = container.heap_settler()
    if settle is not None:
        settle()
    container.drains().bind()


async def stop(container: Any) -> None:
    await _maybe_await(container.shutdown_resources())
    container.http_metrics().process_stopped()


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def drain_on_stop_signals(drains: Drains) -> bool:
    """In a worker that uvicorn's supervisor started (``--workers N``, ``--reload``): put
    the drain in front of the stop handlers uvicorn's ``Server`` installed before it ran
    the app's start-up, so a stop signal drains first and then reaches uvicorn as before.
    Only a handler that is a ``uvicorn.Server`` method is wrapped (anything else, and a
    thread that is not the main one, is left alone and said in the log): False then."""
    import uvicorn

    if threading.current_thread() is not threading.main_thread():
        return False
    found: dict[int, Any] = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
    if not all(isinstance(getattr(h, "__self__", None), uvicorn.Server) for h in found.values()):
        log.warning("streams_not_drained", reason="the stop signals are not uvicorn's")
        return False
    drained = False

    def after_drain(handler: Any, sig: int, frame: Any) -> None:
        nonlocal drained
        drained = True
        handler(sig, frame)

    def on_signal(sig: int, frame: Any) -> None:
        handler = found[sig]
        if drained or not drains.request(lambda: after_drain(handler, sig, frame)):
            handler(sig, frame)

    for sig in _STOP_SIGNALS:
        signal.signal(sig, on_signal)
    return True


def app_for(container: Any, routes: Sequence[RouteSet] = ROUTES, *, chain_signals: bool = False) -> Litestar:
    """The app over ``container``, serving ``routes``, started and stopped by the hooks
    above; ``chain_signals``: in a worker of uvicorn's supervisor, drain on a stop signal
    (``drain_on_stop_signals``)."""

    async def on_startup() -> None:
        await start(container)
        if chain_signals:
            drain_on_stop_signals(container.drains())

    async def on_shutdown() -> None:
        await stop(container)

    return create_app(container, routes=routes, on_startup=[on_startup], on_shutdown=[on_shutdown])
