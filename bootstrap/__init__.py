"""The composition root: settings -> plugin manager -> container -> app.

This is the only package that imports adapters, plugins and the container together.
"""

__all__: list[str] = []
