"""The Litestar HTTP adapter: ``create_app(container)``."""

from dawai.adapters.http.app import create_app

__all__ = ["create_app"]
