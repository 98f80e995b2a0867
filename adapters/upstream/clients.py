"""The HTTP client every SDK sends through: the SDK's own client class on
``Http1Transport`` (docs/adr/0008), or httpx2's own transport when ``llm.transport`` says
so (docs/adr/0020), with the fast paths of ``lean_client_class``
(docs/adr/0010), one shared TLS context, and the environment's proxies.

Building a TLS context reads the trust store; done per SDK client, it would make each
new (key, base URL, shard) client cost as much as a chat request, so one context is
built on first use and shared (docs/adr/0007); a provider with TLS options of its own
(``ca_bundle``, ``verify``) gets a context built once per option set. Hosts the environment
sends through a proxy (``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY``, less ``NO_PROXY``, as httpx2 reads
them) go through httpx2's own proxy transport, as they would without a transport of ours;
should httpx2's helper that reads them change shape (``proxies_problem``), every host goes
through httpx2's own transport while the environment names any proxy (docs/adr/0021).
"""

from __future__ import annotations

import functools
import inspect
import ssl
import urllib.request
from typing import Any

import httpx2

from dawai.adapters.internals import HTTPX2_PROXIES, usable
from dawai.adapters.upstream.connect import HostResolver
from dawai.adapters.upstream.http1 import Http1Transport
from dawai.adapters.upstream.httpx_transport import HttpxTransport
from dawai.adapters.upstream.lean_client import lean_client_class
from dawai.adapters.upstream.slots import ConnectionSlots
from dawai.ports.llm import ProviderConfig

__all__ = [
    "http_client_for_sdk",
    "proxies_problem",
    "proxy_mounts",
    "shared_ssl_context",
    "ssl_context_for",
    "upstream_timeout",
    "upstream_transport",
]


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    return httpx2.create_ssl_context()


def ssl_context_for(config: ProviderConfig) -> ssl.SSLContext:
    """The shared context, unless ``config`` asks for its own CA bundle or no verification."""
    if config.verify and config.ca_bundle is None:
        return shared_ssl_context()
    return _own_ssl_context(config.ca_bundle, config.verify)


@functools.cache
def _own_ssl_context(ca_bundle: str | None, verify: bool) -> ssl.SSLContext:
    if not verify:
        return httpx2.create_ssl_context(verify=False)
    return ssl.create_default_context(cafile=ca_bundle)  # that bundle only, as httpx2's verify=path


@functools.cache
def shared_connection_slots(cap: int) -> ConnectionSlots:
    """One cap per origin for every SDK client of the process (``upstream.max_connections_per_origin``)."""
    return ConnectionSlots(cap)


@functools.cache
def shared_host_resolver(ttl: float) -> HostResolver:
    """One cache of resolved names for every SDK client of the process (``upstream.dns_ttl``)."""
    return HostResolver(ttl)


def upstream_timeout(config: ProviderConfig) -> httpx2.Timeout:
    """``stall_timeout`` between bytes, ``connect_timeout`` to connect, ``pool_timeout``
    for a connection under the cap, ``read_timeout`` for the rest."""
    return httpx2.Timeout(
        config.read_timeout,
        read=config.stall_timeout,
        connect=config.connect_timeout,
        pool=config.pool_timeout,
    )


def http_client_for_sdk(
    client_class: type[httpx2.AsyncClient],
    config: ProviderConfig | float,
    connect_timeout: float | None = None,
) -> Any:
    """An SDK's own default client class (``DefaultAsyncHttpxClient``, which keeps the
    SDK's defaults) on ``Http1Transport`` and the shared TLS context, with the fast paths
    of ``lean_client_class``. A response head may take ``read_timeout`` (a reply sent
    whole starts once written); the body may stall ``stall_timeout`` between bytes.

    The older form ``http_client_for_sdk(client_class, read_timeout, connect_timeout)``
    (plugins use it) keeps its meaning: ``read_timeout`` between bytes too, default limits."""
    if not isinstance(config, ProviderConfig):
        read = float(config)
        connect = 5.0 if connect_timeout is None else connect_timeout
        config = ProviderConfig("", read_timeout=read, stall_timeout=read, connect_timeout=connect)
    tls = ssl_context_for(config)
    client = lean_client_class(client_class)
    timeout = upstream_timeout(config)
    if not usable(HTTPX2_PROXIES) and urllib.request.getproxies():
        # We cannot tell which hosts the environment proxies: httpx2 routes them all itself.
        return client(verify=tls, timeout=timeout, limits=_PROXY_LIMITS)
    return client(transport=upstream_transport(config, tls), mounts=proxy_mounts(tls), timeout=timeout)


def upstream_transport(
    config: ProviderConfig, tls: ssl.SSLContext | None = None
) -> httpx2.AsyncBaseTransport:
    """What ``config.transport`` names (``llm.transport``): ``Http1Transport``, or httpx2's
    own under ``HttpxTransport`` (docs/adr/0020), each on ``tls`` (default: the provider's
    context, ``ssl_context_for``) with the same timeouts and limits."""
    tls = ssl_context_for(config) if tls is None else tls
    if config.transport == "httpx":
        return HttpxTransport(ssl_context=tls, head_timeout=config.read_timeout, limits=config.limits)
    return Http1Transport(
        ssl_context=tls,
        head_timeout=config.read_timeout,
        limits=config.limits,
        connection_slots=shared_connection_slots(config.limits.max_connections_per_origin),
        host_resolver=shared_host_resolver(config.limits.dns_ttl),
    )


def proxy_mounts(ssl_context: ssl.SSLContext | None = None) -> dict[str, httpx2.AsyncBaseTransport | None]:
    """httpx2's proxy transports for the URL patterns the environment proxies; ``None``
    (our transport) for the ones ``NO_PROXY`` exempts. Empty when no proxy is set.

    httpx2 reads the environment's proxies only for a client built without a transport;
    this gives a client on ``Http1Transport``, which speaks no proxy protocol, the same
    routing. ``ssl_context`` (default: the shared one) verifies the hosts behind a proxy."""
    if not usable(HTTPX2_PROXIES):
        return {}
    import httpx2._utils

    proxies = httpx2._utils.get_environment_proxies()
    if not any(proxies.values()):
        return {}
    tls = shared_ssl_context() if ssl_context is None else ssl_context
    return {
        pattern: None
        if url is None
        else httpx2.AsyncHTTPTransport(proxy=url, verify=tls, limits=_PROXY_LIMITS)
        for pattern, url in proxies.items()
    }


# No cap on open connections: httpx2's would count per SDK client, bounding nothing for the
# process while queueing its 101st stream (upstream.max_connections_per_origin applies to
# Http1Transport's hosts only, docs/adr/0008); 32 kept idle.
_PROXY_LIMITS = httpx2.Limits(max_connections=None, max_keepalive_connections=32)


def proxies_problem() -> str | None:
    """``None`` when httpx2's ``get_environment_proxies`` is there as ``proxy_mounts``
    uses it (no parameters; ``{URL pattern: proxy URL or None}``), else what differs
    (``dawai.adapters.internals``)."""
    import httpx2._utils

    found = getattr(httpx2._utils, "get_environment_proxies", None)
    if found is None:
        return "httpx2._utils.get_environment_proxies is gone"
    parameters = tuple(inspect.signature(found).parameters)
    if parameters:
        return f"httpx2._utils.get_environment_proxies takes ({', '.join(parameters)}), not ()"
    proxies = found()
    if not isinstance(proxies, dict) or not all(
        isinstance(pattern, str) and (url is None or isinstance(url, str)) for pattern, url in proxies.items()
    ):
        return "httpx2._utils.get_environment_proxies no longer returns {URL pattern: proxy URL or None}"
    return None
