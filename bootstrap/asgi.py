"""The ASGI entry point uvicorn imports (``dawai.bootstrap.asgi:create``, a factory)."""

from __future__ import annotations

from dependency_injector import providers
from litestar import Litestar

from dawai.adapters.http.app import create_app
from dawai.bootstrap.config import load_settings
from dawai.bootstrap.container import build_container
from dawai.bootstrap.heap import settle_heap
from dawai.bootstrap.logging import configure_logging

__all__ = ["create"]


def create() -> Litestar:
    """Settings -> logging -> container -> app. Each uvicorn worker calls this once."""
    settings = load_settings()
    configure_logging(settings.log)
    container = build_container(settings)
    container.heap_settler.override(providers.Object(settle_heap))
    return create_app(container)
