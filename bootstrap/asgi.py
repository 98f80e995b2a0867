"""The ASGI entry point uvicorn imports (``dawai.bootstrap.asgi:create``, a factory)."""

from __future__ import annotations

from dependency_injector import providers
from litestar import Litestar

from dawai.bootstrap.config import load_settings
from dawai.bootstrap.container import Container, build_container
from dawai.bootstrap.heap import settle_heap
from dawai.bootstrap.lifecycle import app_for
from dawai.bootstrap.logging import configure_logging
from dawai.core.settings import Settings

__all__ = ["build", "create"]


def build(settings: Settings, *, chain_signals: bool = False) -> tuple[Litestar, Container]:
    """Settings -> logging -> container -> app; the container too, for the server's wiring."""
    configure_logging(settings.log)
    container = build_container(settings)
    container.heap_settler.override(providers.Object(settle_heap))
    return app_for(container, chain_signals=chain_signals), container


def create() -> Litestar:
    """The app, from the environment's settings. Each uvicorn worker calls this once; its
    stop signals drain first (bootstrap/lifecycle.py's ``drain_on_stop_signals``)."""
    return build(load_settings(), chain_signals=True)[0]
