"""Keeping secrets out of responses and logs."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["SECRET_FIELD", "redact"]

# Shapes of provider keys and bearer tokens, wherever they appear in free text.
_KEY_SHAPES = re.compile(
    r"(sk-ant-[A-Za-z0-9_\-]{8,}|sk-(?:proj-)?[A-Za-z0-9_\-]{16,}|AIza[0-9A-Za-z_\-]{20,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._\-]{12,}|(?i:key=)[A-Za-z0-9._\-]{12,})"
)
# Field names whose values are never logged.
SECRET_FIELD = re.compile(r"(?i)(api[_-]?key|apikeys|authorization|token|secret|password|x-goog-api-key)")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with known secrets and anything shaped like a key replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _KEY_SHAPES.sub("***", text)
