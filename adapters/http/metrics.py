"""Prometheus metrics: ``GET /metrics`` (an admin route), from prometheus-client.

- ``dawai_http_requests_total{route, method, status}`` and
  ``dawai_http_request_duration_seconds{route, method}`` (a histogram; for a stream, the
  time to its last byte). ``route`` is the route's template as Litestar matched it
  (``/api/chat``, ``/diffsinger/voices/{voice_id:str}``), ``unmatched`` for a request no
  route took (a 404, or one refused before routing), so no label takes a client's value.
  ``status`` is the status class (``2xx`` ... ``5xx``).
- ``dawai_http_open_streams``: SSE responses open now.
- ``dawai_rate_limit_refusals_total{route_class}``: 429s from this server's rate limits.
- ``dawai_upstream_first_token_seconds{provider}`` (a histogram, each stream attempt) and
  ``dawai_upstream_errors_total{provider, kind}`` (each failed attempt, retries included;
  ``kind`` from ``dawai.ports.telemetry.UpstreamErrorKind``).
- ``dawai_cache_lookups_total{cache, result}``: ``phrase``, ``summary`` and
  ``ghost_typeahead`` lookups, ``hit`` or ``miss`` (the hit ratio is hits over both).
- ``dawai_synthesis_real_time_factor{voice}``: seconds of audio per second of rendering.
- ``dawai_ghost_text_seconds{engine}``: each engine's time per completion.

``HttpMetrics`` is the core's ``Telemetry`` (``dawai.ports.telemetry``). No label takes a
client's value: routes are templates, methods outside the standard ones are ``other``,
provider, voice and engine names are those configured, and each of those three admits at
most ``MAX_NAMES`` distinct values (more are ``other``) however many were installed.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``dawai serve --workers N`` sets one of its own when
the operator has not), every worker writes its samples there and ``/metrics`` adds up all
of them (prometheus-client's multi-process mode; the gauge sums the live workers' open
streams, each worker marking itself dead as it stops).
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from dawai.ports.telemetry import CacheName, UpstreamErrorKind

__all__ = ["MAX_NAMES", "HttpMetrics", "MetricsMiddleware"]

_UNMATCHED = "unmatched"
_OTHER = "other"
MAX_NAMES = 32
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_FIRST_TOKEN_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_RTF_BUCKETS = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
_GHOST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)


class _Names:
    """A label fed by configured names: the first ``limit`` distinct ones, then ``other``."""

    def __init__(self, limit: int = MAX_NAMES) -> None:
        self._seen: set[str] = set()
        self._limit = limit

    def __call__(self, name: str) -> str:
        if name in self._seen:
            return name
        if len(self._seen) >= self._limit or not name:
            return _OTHER
        self._seen.add(name)
        return name


class HttpMetrics:
    """The metrics of one app, in a registry of their own (tests build many apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        registry = None if multiprocess else self.registry
        self.multiprocess = multiprocess
        self.requests = Counter(
            "dawai_http_requests", "HTTP requests answered", ("route", "method", "status"), registry=registry
        )
        self.duration = Histogram(
            "dawai_http_request_duration_seconds",
            "Time to a response's last byte",
            ("route", "method"),
            buckets=_BUCKETS,
            registry=registry,
        )
        gauge_options: dict[str, Any] = {"multiprocess_mode": "livesum"} if multiprocess else {}
        self.open_streams = Gauge(
            "dawai_http_open_streams",
            "Server-Sent Event responses open now",
            registry=registry,
            **gauge_options,
        )
        self.refusals = Counter(
            "dawai_rate_limit_refusals",
            "Requests refused by the rate limits",
            ("route_class",),
            registry=registry,
        )

        self.first_token = Histogram(
            "dawai_upstream_first_token_seconds",
            "Time from opening an upstream stream to its first token",
            ("provider",),
            buckets=_FIRST_TOKEN_BUCKETS,
            registry=registry,
        )
        self.upstream_errors = Counter(
            "dawai_upstream_errors", "Failed upstream attempts", ("provider", "kind"), registry=registry
        )
        self.cache_lookups = Counter(
            "dawai_cache_lookups", "Cache lookups, hit or miss", ("cache", "result"), registry=registry
        )
        self.real_time = Histogram(
            "dawai_synthesis_real_time_factor",
            "Seconds of audio rendered per second of rendering",
            ("voice",),
            buckets=_RTF_BUCKETS,
            registry=registry,
        )
        self.ghost_latency = Histogram(
            "dawai_ghost_text_seconds",
            "A ghost-text engine's time per completion",
            ("engine",),
            buckets=_GHOST_BUCKETS,
            registry=registry,
        )
        self._providers, self._voices, self._engines = _Names(), _Names(), _Names()

    def refused(self, rate_class: Any) -> None:
        self.refusals.labels(rate_class.setting).inc()

    # -- the core's Telemetry (dawai.ports.telemetry) -------------------------------------

    def upstream_first_token(self, provider: str, seconds: float) -> None:
        self.first_token.labels(self._providers(provider)).observe(seconds)

    def upstream_error(self, provider: str, kind: UpstreamErrorKind) -> None:
        self.upstream_errors.labels(self._providers(provider), kind).inc()

    def cache_lookup(self, cache: CacheName, hit: bool) -> None:
        self.cache_lookups.labels(cache, "hit" if hit else "miss").inc()

    def synthesis(self, voice: str, real_time_factor: float) -> None:
        self.real_time.labels(self._voices(voice)).observe(real_time_factor)

    def ghost_text(self, engine: str, seconds: float) -> None:
        self.ghost_latency.labels(self._engines(engine)).observe(seconds)

    def process_stopped(self) -> None:
        """In multi-process mode, drop this worker's live gauge (its open streams)."""
        if self.multiprocess:
            mark_process_dead(os.getpid())

    def exposition(self) -> bytes:
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


class MetricsMiddleware:
    def __init__(self, app: Any, metrics: HttpMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        streaming = False
        metrics = self.metrics

        async def send_counted(message: Any) -> None:
            nonlocal status, streaming
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", ()):
                    if name == b"content-type" and value.startswith(b"text/event-stream"):
                        streaming = True
                        metrics.open_streams.inc()
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            if streaming:
                metrics.open_streams.dec()
            route = scope.get("path_template") or _UNMATCHED
            method = scope.get("method", "")
            method = method if method in _METHODS else _OTHER
            metrics.requests.labels(route, method, f"{status // 100}xx" if status else "none").inc()
            metrics.duration.labels(route, method).observe(time.perf_counter() - started)
