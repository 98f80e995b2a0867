"""The upstream HTTP stack the provider SDKs send through: ``Http1Transport`` (a lean
HTTP/1.1 transport on ``httptools``) or ``HttpxTransport`` (httpx2's own, kept to the same
timeouts and limits), the lean httpx2 client class, the client factory
``http_client_for_sdk`` and the SSE reader. Nothing here knows a provider.
"""

from dawai.adapters.upstream.clients import (
    http_client_for_sdk,
    proxy_mounts,
    shared_ssl_context,
    ssl_context_for,
    upstream_timeout,
    upstream_transport,
)
from dawai.adapters.upstream.http1 import Http1Transport, ResponseTooLarge, response_chunks
from dawai.adapters.upstream.httpx_transport import HttpxTransport
from dawai.adapters.upstream.sse_reader import SSEParser, sse_events

__all__ = [
    "Http1Transport",
    "HttpxTransport",
    "ResponseTooLarge",
    "SSEParser",
    "http_client_for_sdk",
    "proxy_mounts",
    "response_chunks",
    "shared_ssl_context",
    "sse_events",
    "ssl_context_for",
    "upstream_timeout",
    "upstream_transport",
]
