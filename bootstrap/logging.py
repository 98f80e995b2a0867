"""structlog set-up: JSON lines (or console), with secrets redacted from every event.

Our own events go straight through structlog. Everything that logs through the standard
library — uvicorn's start-up, shutdown and error lines, asyncio, the SDKs' HTTP clients,
``warnings`` — goes through structlog's ``ProcessorFormatter`` with the same renderer, so
with ``log.format = json`` every line on stderr is one JSON object with ``level``,
``logger``, ``event`` and ``timestamp``. ``stdlib_logging_config`` is the ``dictConfig``
both uvicorn (its public ``log_config``) and ``configure_logging`` apply.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import Any

import structlog
from structlog.typing import EventDict, WrappedLogger

from dawai.core.redaction import SECRET_FIELD, redact
from dawai.core.settings import LogSettings

__all__ = [
    "configure_logging",
    "redact_event",
    "stdlib_formatter",
    "stdlib_logging_config",
    "summarize_exception",
]

# Libraries that log through the standard library must not print request URLs or headers
# at INFO (the SDKs' HTTP clients log every request there).
_QUIET_LIBRARIES = ("httpx", "httpx2", "httpcore", "httpcore2", "anthropic", "openai", "google_genai")


def redact_event(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Mask secret-named fields and key-shaped strings anywhere in the event."""
    for key, value in list(event.items()):
        if SECRET_FIELD.search(key):
            event[key] = "***"
        elif isinstance(value, str):
            event[key] = redact(value)
    return event


def summarize_exception(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """A record's exception as its type name only: no stack trace reaches a log line."""
    exc_info = event.pop("exc_info", None)
    event.pop("stack_info", None)
    if isinstance(exc_info, tuple) and exc_info[0] is not None:
        event["error_type"] = exc_info[0].__name__
    elif isinstance(exc_info, BaseException):
        event["error_type"] = type(exc_info).__name__
    return event


def _renderer(log_format: str) -> Any:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


def stdlib_formatter(log_format: str = "json") -> logging.Formatter:
    """The formatter of standard-library records (a ``dictConfig`` factory, hence a function)."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            summarize_exception,
            redact_event,
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(log_format)],
    )


def stdlib_logging_config(settings: LogSettings) -> dict[str, Any]:
    """``logging.config.dictConfig`` for the standard library: one stderr handler on the root
    logger with ``stdlib_formatter``, uvicorn's loggers at our level and propagating to it."""
    level = settings.level.upper()
    quiet = {"level": "WARNING"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structlog": {"()": stdlib_formatter, "log_format": settings.format}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "structlog",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": max(logging.getLevelName(level), logging.WARNING)},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # Off, as `dawai serve` asks uvicorn (access_log=False): our access log has the request id.
            "uvicorn.access": {"handlers": [], "propagate": False},
            **{name: quiet for name in _QUIET_LIBRARIES},
        },
    }


def configure_logging(settings: LogSettings) -> None:
    level = getattr(logging, settings.level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_event,
            _renderer(settings.format),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    logging.config.dictConfig(stdlib_logging_config(settings))
    logging.captureWarnings(True)  # warnings.warn() output as log records, not plain text
