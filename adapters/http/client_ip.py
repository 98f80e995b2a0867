"""The client's address, and the IP allow and deny lists, before anything else reads the request.

- The client is the connection's peer, unless that peer is one of ``http.trusted_proxies``:
  then ``X-Forwarded-For`` is read from the right (the hop the nearest proxy appended),
  skipping trusted proxies, and the first address that is not one is the client. Hops a
  client wrote itself lie to the left of that and are never reached; an unparseable hop
  reached on the way is a 400. Without trusted proxies the header is ignored. At most
  ``http.max_forwarded_hops`` hops are read, however long the header: when all of them
  are trusted proxies, the last one read stands for the client (so a client inside a
  trusted network cannot make the server walk, or believe, an arbitrarily long chain).
  ``trusted_proxies`` must list only the proxies themselves: an address in it that a
  client can send from makes that client's own ``X-Forwarded-For`` believed.
- ``http.ip_deny`` refuses an address in any of its networks; a non-empty
  ``http.ip_allow`` refuses every address in none of its networks. Both are 403 problems.
- The address, as a string, is kept in ``scope["state"][CLIENT_IP]`` for the rate limits.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from dawai.adapters.http.problems import send_problem

__all__ = ["CLIENT_IP", "ClientAddress", "Networks", "client_address"]

CLIENT_IP = "dawai.client_ip"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class Networks:
    """A set of networks (``10.0.0.0/8``, ``::1``); an IPv4-mapped IPv6 address matches as IPv4."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = [ipaddress.ip_network(e.strip(), strict=False) for e in entries]

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, address: Address) -> bool:
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None:
            address = mapped
        return any(address in network for network in self.networks)


def _parse(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None


class BadForwardedFor(ValueError):
    pass


MAX_FORWARDED_HOPS = 8


def _last_hops(scope: Any, limit: int) -> list[str]:
    """The rightmost ``limit`` hops of every ``X-Forwarded-For`` field (joined in order),
    split without reading further left than that."""
    fields = [value for name, value in scope["headers"] if name == b"x-forwarded-for"]
    if not fields:
        return []
    joined = b",".join(fields).decode("latin-1")
    return joined.rsplit(",", limit)[-limit:]


def client_address(scope: Any, trusted: Networks, max_hops: int = MAX_FORWARDED_HOPS) -> Address | None:
    """The client's address for ``scope`` (None when the server gave no peer, as in
    some test transports, or the peer is not an IP address)."""
    client = scope.get("client")
    peer = _parse(str(client[0])) if client else None
    if peer is None or not trusted or peer not in trusted:
        return peer
    address = peer
    for hop in reversed(_last_hops(scope, max_hops)):
        parsed = _parse(hop)
        if parsed is None:
            raise BadForwardedFor(hop.strip()[:64])
        address = parsed
        if address not in trusted:
            break
    return address


class ClientAddress:
    def __init__(
        self,
        app: Any,
        *,
        allow: Iterable[str] = (),
        deny: Iterable[str] = (),
        trusted_proxies: Iterable[str] = (),
        max_forwarded_hops: int = MAX_FORWARDED_HOPS,
    ) -> None:
        self.app = app
        self.allow, self.deny = Networks(allow), Networks(deny)
        self.trusted = Networks(trusted_proxies)
        self.max_hops = max_forwarded_hops

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not (self.trusted or self.allow or self.deny):  # nothing to check: the peer, as given
            client = scope.get("client")
            if client:
                scope.setdefault("state", {})[CLIENT_IP] = str(client[0])
            await self.app(scope, receive, send)
            return
        try:
            address = client_address(scope, self.trusted, self.max_hops)
        except BadForwardedFor:
            detail = "X-Forwarded-For holds a hop that is not an IP address."
            await send_problem(send, scope, 400, "Invalid request", detail)
            return
        if self.allow or self.deny:
            refused = (
                address is None or address in self.deny or (bool(self.allow) and address not in self.allow)
            )
            if refused:
                detail = "Requests from this address are not allowed (http.ip_allow, http.ip_deny)."
                await send_problem(send, scope, 403, "Forbidden", detail)
                return
        if address is not None:
            scope.setdefault("state", {})[CLIENT_IP] = str(address)
        await self.app(scope, receive, send)
