"""Adapters: implementations of the ports (providers, inference, HTTP)."""

__all__: list[str] = []
