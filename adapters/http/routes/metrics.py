"""``GET /metrics``: Prometheus metrics (adapters/http/metrics.py), for admin tokens only
(to loopback clients only while no API token is configured); never rate limited."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from dawai.adapters.http.metrics import HttpMetrics
from dawai.adapters.http.route_set import ROOT, Access, RateClass, RouteSet

__all__ = ["routes"]

MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def _metrics(metrics: NamedDependency[HttpMetrics]) -> Response[Any]:
    """Requests and latency per route template, open streams and rate-limit refusals, in
    Prometheus' text format (every worker's, with PROMETHEUS_MULTIPROC_DIR set)."""
    return Response(content=metrics.exposition(), media_type=MEDIA_TYPE)


def handlers() -> list[HTTPRouteHandler]:
    return [get("/metrics", summary="Prometheus metrics", tags=["admin"], media_type=MEDIA_TYPE)(_metrics)]


routes = RouteSet(
    ROOT,
    handlers,
    {"metrics": lambda container: container.http_metrics()},
    access=Access.ADMIN,
    rate=RateClass.UNLIMITED,
)
