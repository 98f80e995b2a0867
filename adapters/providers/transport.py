"""What every SDK client shares: one TLS context, the HTTP client the SDKs send through,
and raw-response helpers.

Building a TLS context reads the trust store (~20 ms); done per SDK client, it would make
each new (key, base URL, shard) client cost as much as a chat request. One context is
built on first use and shared (docs/adr/0007). The SDKs send through ``Http1Transport``
(docs/adr/0008), except to hosts the environment sends through a proxy
(``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, less ``NO_PROXY``, as httpx2 reads them):
those go through httpx2's own proxy transport, as they would without a transport of ours.
"""

from __future__ import annotations

import copy
import functools
import ssl
from typing import Any, Self

import httpx2
import msgspec
from httpx2._utils import get_environment_proxies

from dawai.adapters.providers.http1 import Http1Transport
from dawai.adapters.providers.lean_client import lean_client_class
from dawai.ports.llm import ProviderConfig

__all__ = [
    "NO_KEY",
    "RawKeyViews",
    "RawOptions",
    "key_headers",
    "key_template",
    "post_raw",
    "proxy_mounts",
    "sdk_http_client",
    "sdk_timeout",
    "shared_ssl_context",
]

_JSON = {"Content-Type": "application/json"}
# Asks the SDK for the raw HTTP response: it still builds the request, authenticates,
# applies timeouts and turns error statuses into its exceptions, but leaves the body to
# us (docs/adr/0007).
_RAW_STREAM = {**_JSON, "X-Stainless-Raw-Response": "stream"}
_encode = msgspec.json.Encoder().encode


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    return httpx2.create_ssl_context()


class RawOptions:
    """The request options ``post_raw`` hands an Anthropic- or OpenAI-style SDK, with
    ``headers`` (a key, per request) merged over the SDK client's own, once per view."""

    __slots__ = ("reply", "stream")

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        extra = headers or {}
        self.reply = {"headers": {**_JSON, **extra}}
        self.stream = {"headers": {**_RAW_STREAM, **extra}}


_PLAIN = RawOptions()
NO_KEY = "not-needed"  # what a shared client is built with; each view sends its own key


def key_template(auth_headers: Any, api_key: str | None, fallback: dict[str, str]) -> dict[str, str]:
    """The SDK client's own credential headers (its public ``auth_headers``) with the key it
    was built with replaced by ``NO_KEY``: what ``key_headers`` fills in per view, so a
    request carries exactly the headers the SDK would send for its key. ``fallback`` (in
    the same form) should the SDK show none."""
    built = api_key or NO_KEY
    template = {
        name: value.replace(built, NO_KEY) for name, value in dict(auth_headers).items() if built in value
    }
    return template or fallback


def key_headers(template: dict[str, str], api_key: str | None) -> dict[str, str]:
    key = api_key or NO_KEY
    return {name: value.replace(NO_KEY, key) for name, value in template.items()}


class RawKeyViews:
    """``with_key`` (``KeyedProvider``) for adapters that send through ``post_raw``: a view
    is a shallow copy whose ``_options`` carry its key's headers, filled into ``_auth``
    (``key_template``, set by the adapter once its SDK client exists). The instance
    itself sends with no extra headers and owns the client; a view owns nothing."""

    _key: str | None
    _auth: dict[str, str]
    _options: RawOptions = _PLAIN
    _owner = True

    def with_key(self, api_key: str | None) -> Self:
        """A view sending ``api_key`` over this instance's client."""
        view = copy.copy(self)
        view._key, view._owner = api_key, False
        view._options = RawOptions(key_headers(self._auth, api_key))
        return view


async def post_raw(
    client: Any, path: str, body: dict[str, Any], *, stream: bool, options: RawOptions = _PLAIN
) -> httpx2.Response:
    """``client.post`` of an Anthropic- or OpenAI-style SDK, answered by the raw response.

    The body goes already encoded (msgspec), which spares the SDK a deep copy of it and a
    ``json.dumps`` per request. The SDK's own errors propagate."""
    return await client.post(
        path,
        content=_encode(body),
        cast_to=httpx2.Response,
        options=options.stream if stream else options.reply,
    )


def sdk_timeout(config: ProviderConfig) -> httpx2.Timeout:
    """``stall_timeout`` between bytes, ``connect_timeout`` to connect, ``read_timeout``
    for the rest."""
    return httpx2.Timeout(config.read_timeout, read=config.stall_timeout, connect=config.connect_timeout)


def sdk_http_client(
    client_class: type[httpx2.AsyncClient],
    config: ProviderConfig | float,
    connect_timeout: float | None = None,
) -> Any:
    """An SDK's own default client class (``DefaultAsyncHttpxClient``, which keeps the
    SDK's defaults) on ``Http1Transport`` and the shared TLS context, with the fast paths
    of ``lean_client_class``. A response head may take ``read_timeout`` (a reply sent
    whole starts once written); the body may stall ``stall_timeout`` between bytes.

    The older form ``sdk_http_client(client_class, read_timeout, connect_timeout)``
    (plugins use it) keeps its meaning: ``read_timeout`` between bytes too, default limits."""
    if not isinstance(config, ProviderConfig):
        read = float(config)
        connect = 5.0 if connect_timeout is None else connect_timeout
        config = ProviderConfig("", read_timeout=read, stall_timeout=read, connect_timeout=connect)
    transport = Http1Transport(
        ssl_context=shared_ssl_context(), head_timeout=config.read_timeout, limits=config.limits
    )
    return lean_client_class(client_class)(
        transport=transport, mounts=proxy_mounts(), timeout=sdk_timeout(config)
    )


def proxy_mounts() -> dict[str, httpx2.AsyncBaseTransport | None]:
    """httpx2's proxy transports for the URL patterns the environment proxies; ``None``
    (our transport) for the ones ``NO_PROXY`` exempts. Empty when no proxy is set.

    httpx2 reads the environment's proxies only for a client built without a transport;
    this gives a client on ``Http1Transport``, which speaks no proxy protocol, the same
    routing."""
    proxies = get_environment_proxies()
    if not any(proxies.values()):
        return {}
    # As Http1Transport: no cap on open connections (httpx2's default of 100 would queue
    # the 101st stream), 32 kept idle.
    limits = httpx2.Limits(max_connections=None, max_keepalive_connections=32)
    return {
        pattern: None
        if url is None
        else httpx2.AsyncHTTPTransport(proxy=url, verify=shared_ssl_context(), limits=limits)
        for pattern, url in proxies.items()
    }
