"""The DAWAI domain core: models, errors, settings and services.

Imports only ``dawai.ports`` and the standard library (plus msgspec); never adapters,
Litestar, a provider SDK or onnxruntime. ``tests/unit/test_architecture.py`` enforces it.
"""

from dawai.core import errors, models

__all__ = ["errors", "models"]
