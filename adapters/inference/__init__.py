"""Inference adapters: onnxruntime sessions, DiffSinger voices, ghost-text language models.

Modules here import onnxruntime at module import; the built-in plugins import them only
inside factories.
"""

__all__: list[str] = []
