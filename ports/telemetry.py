"""The telemetry port: what the core tells the outside world about its own work.

The core reports facts (an upstream's first token took this long, a cache answered, a
render ran this fast); an adapter turns them into metrics (``adapters/http/metrics.py``:
Prometheus). Every label a fact carries comes from a fixed set or from configuration,
never from a client: provider, voice and engine names are those the operator installed,
``kind`` and ``cache`` are the literals below.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

__all__ = ["CacheName", "Telemetry", "UpstreamErrorKind"]

UpstreamErrorKind = Literal[
    "rate_limited", "timeout", "auth", "truncated", "unstructured", "server", "refused"
]
"""Why an upstream attempt failed: 429; a first-token or total timeout; the key was
rejected; the stream ended before its stop signal; prose where JSON was asked for; a 5xx
or a broken connection (what is retried); any other refusal (a 4xx)."""

CacheName = Literal["phrase", "summary", "ghost_typeahead"]
"""The caches whose lookups are counted: rendered phrases, stored project summaries (read
into prompts), ghost text's typed-ahead answers."""


@runtime_checkable
class Telemetry(Protocol):
    """Synchronous, cheap and free of I/O: called on the event loop, on hot paths."""

    def upstream_first_token(self, provider: str, seconds: float) -> None:
        """A stream attempt to ``provider`` gave its first token after ``seconds``."""
        ...

    def upstream_error(self, provider: str, kind: UpstreamErrorKind) -> None:
        """An attempt to ``provider`` failed (each retry counts once)."""
        ...

    def cache_lookup(self, cache: CacheName, hit: bool) -> None: ...

    def synthesis(self, voice: str, real_time_factor: float) -> None:
        """``voice`` rendered audio ``real_time_factor`` times faster than it plays."""
        ...

    def ghost_text(self, engine: str, seconds: float) -> None:
        """``engine`` answered one completion in ``seconds``."""
        ...
