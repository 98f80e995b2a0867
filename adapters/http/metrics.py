"""Prometheus metrics: ``GET /metrics`` (an admin route), from prometheus-client.

- ``dawai_http_requests_total{route, method, status}`` and
  ``dawai_http_request_duration_seconds{route, method}`` (a histogram; for a stream, the
  time to its last byte). ``route`` is the route's template as Litestar matched it
  (``/api/chat``, ``/diffsinger/voices/{voice_id:str}``), ``unmatched`` for a request no
  route took (a 404, or one refused before routing), so no label takes a client's value.
  ``status`` is the status class (``2xx`` ... ``5xx``).
- ``dawai_http_open_streams``: SSE responses open now.
- ``dawai_rate_limit_refusals_total{route_class}``: 429s from this server's rate limits.

With ``PROMETHEUS_MULTIPROC_DIR`` set (to an empty folder, before ``dawai serve --workers N``
starts), every worker writes its samples there and ``/metrics`` adds up all of them
(prometheus-client's multi-process mode; the gauge sums the workers' open streams).
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

__all__ = ["HttpMetrics", "MetricsMiddleware"]

_UNMATCHED = "unmatched"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


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

    def refused(self, rate_class: Any) -> None:
        self.refusals.labels(rate_class.setting).inc()

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
            metrics.requests.labels(route, method, f"{status // 100}xx" if status else "none").inc()
            metrics.duration.labels(route, method).observe(time.perf_counter() - started)
