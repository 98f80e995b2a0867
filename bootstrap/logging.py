"""structlog set-up: JSON lines (or console), with secrets redacted from every event."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from dawai.core.redaction import SECRET_FIELD, redact
from dawai.core.settings import LogSettings

__all__ = ["configure_logging", "redact_event"]


def redact_event(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Mask secret-named fields and key-shaped strings anywhere in the event."""
    for key, value in list(event.items()):
        if SECRET_FIELD.search(key):
            event[key] = "***"
        elif isinstance(value, str):
            event[key] = redact(value)
    return event


def configure_logging(settings: LogSettings) -> None:
    level = getattr(logging, settings.level.upper())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries that log through the standard library (uvicorn, the SDKs' HTTP clients)
    # must not print request URLs or headers at INFO.
    logging.basicConfig(
        level=max(level, logging.WARNING), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "anthropic", "openai", "google_genai"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
