"""What every SDK client shares: one TLS context, the HTTP client the SDKs send through,
and raw-response helpers.

Building a TLS context reads the trust store (~20 ms); done per SDK client, it would make
each new (key, base URL, shard) client cost as much as a chat request. One context is
built on first use and shared (docs/adr/0007). The SDKs send through ``Http1Transport``
(docs/adr/0008).
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx2
import msgspec

from dawai.adapters.providers.http1 import Http1Transport

__all__ = ["JSON_BODY", "RAW_STREAM", "encode_body", "sdk_http_client", "shared_ssl_context"]

# Request options for the SDKs' ``post(path, content=encode_body(body), ...)``. We hand
# them the JSON already encoded (msgspec), which spares the SDK a deep copy of the body
# and a ``json.dumps`` per request. RAW_STREAM also asks for the raw HTTP response: the
# SDK still builds the request, authenticates, applies timeouts and turns error statuses
# into its exceptions, but leaves the body to us (docs/adr/0007).
JSON_BODY = {"headers": {"Content-Type": "application/json"}}
RAW_STREAM = {"headers": {"Content-Type": "application/json", "X-Stainless-Raw-Response": "stream"}}
encode_body = msgspec.json.Encoder().encode


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    return httpx2.create_ssl_context()


def sdk_http_client(
    client_class: type[httpx2.AsyncClient], read_timeout: float, connect_timeout: float
) -> Any:
    """An SDK's own default client class (``DefaultAsyncHttpxClient``, which keeps the
    SDK's defaults) on ``Http1Transport`` and the shared TLS context."""
    return client_class(
        transport=Http1Transport(ssl_context=shared_ssl_context()),
        timeout=httpx2.Timeout(read_timeout, connect=connect_timeout),
    )
