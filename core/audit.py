"""What one AI request did, for its audit event: the model and provider that answered, the
tokens they reported, a cache hit, the in-band error a stream ended with.

The HTTP adapter opens a record for each audited request (``begin``, a context variable:
the tasks a request starts see the same record) and writes the event when the response has
ended (``adapters/http/audit.py``). The core notes each fact where it is known: the
gateway for every model call (route and usage), the local paths (the offline agent, the
embedded generator), the phrase cache and the ghost-text cache, the SSE writer for an
in-band error. Outside an audited request every ``note_*`` does nothing. No text of a
prompt, a reply or a lyric is ever kept here.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass

__all__ = [
    "AuditRecord",
    "begin",
    "current",
    "end",
    "note_cache",
    "note_error",
    "note_route",
    "note_usage",
]


@dataclass(slots=True)
class AuditRecord:
    model: str | None = None  # the upstream model that answered (or was tried last)
    provider: str | None = None
    input_tokens: int | None = None  # summed over the request's model calls, when reported
    output_tokens: int | None = None
    cache_hit: bool | None = None  # None: the route has no cache
    error: str | None = None  # the title of the in-band error a stream ended with


_CURRENT: ContextVar[AuditRecord | None] = ContextVar("dawai_audit_record", default=None)


def begin() -> tuple[AuditRecord, Token[AuditRecord | None]]:
    record = AuditRecord()
    return record, _CURRENT.set(record)


def end(token: Token[AuditRecord | None]) -> None:
    _CURRENT.reset(token)


def current() -> AuditRecord | None:
    return _CURRENT.get()


def note_route(provider: str, model: str) -> None:
    record = _CURRENT.get()
    if record is not None:
        record.provider, record.model = provider, model


def note_usage(input_tokens: int, output_tokens: int) -> None:
    record = _CURRENT.get()
    if record is not None:
        record.input_tokens = (record.input_tokens or 0) + input_tokens
        record.output_tokens = (record.output_tokens or 0) + output_tokens


def note_cache(hit: bool) -> None:
    record = _CURRENT.get()
    if record is not None:
        record.cache_hit = hit


def note_error(title: str) -> None:
    record = _CURRENT.get()
    if record is not None:
        record.error = title
