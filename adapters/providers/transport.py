"""What every SDK client shares: one TLS context, and raw-response helpers.

Building a TLS context reads the trust store (~20 ms); done per SDK client, it would make
each new (key, base URL, shard) client cost as much as a chat request. One context is
built on first use and shared (docs/adr/0007).
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx2

__all__ = ["RAW_STREAM", "client_options", "shared_ssl_context"]

# Asks the official SDKs for the raw HTTP response: the SDK still builds the request,
# authenticates, applies timeouts and turns error statuses into its exceptions, but leaves
# the body to us (docs/adr/0007).
RAW_STREAM = {"headers": {"X-Stainless-Raw-Response": "stream"}}


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    return httpx2.create_ssl_context()


def client_options(read_timeout: float, connect_timeout: float) -> dict[str, Any]:
    """Options for an SDK's ``DefaultAioHttpClient``: the aiohttp transport reads a stream
    at about half the CPU of the default one (docs/adr/0007), on the shared TLS context."""
    return {
        "verify": shared_ssl_context(),
        "timeout": httpx2.Timeout(read_timeout, connect=connect_timeout),
        "limits": httpx2.Limits(max_connections=1000, max_keepalive_connections=100),
    }
