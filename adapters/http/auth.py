"""API tokens and their roles: with tokens configured (``DAWAI_API_TOKENS``,
``http.api_tokens``, or ``[[http.tokens]]`` entries with a name, a role and a SHA-256),
a route needs ``Authorization: Bearer <token>`` unless its route set is ``Access.OPEN``
(health) or it is part of the API docs, and an ``Access.ADMIN`` route needs a token whose
role is ``admin``. No token, or an unknown one: 401; a ``user`` token on an admin route: 403.
With no token configured at all, every route is open except the ``Access.ADMIN`` ones
(configuration, plugins, metrics, cache clear), which answer loopback clients only
(127.0.0.0/8, ::1: the operator on the machine, or a trusted proxy's client there) and
any other address with a 403: a server exposed without tokens does not show its
configuration to the network.

``DAWAI_API_TOKENS`` entries are ``<token>`` or ``sha256:<hex digest>`` (role ``user``),
either behind ``admin:`` for an admin token (``admin:sha256:<hex>``). Only digests are
kept and compared, in constant time; a token is known by its name (``[[http.tokens]]``)
or, for a ``DAWAI_API_TOKENS`` entry, by ``token-`` and the first 8 hex digits of its
digest: that name, never the token, is what rate limits count and logs show.

``AccessRules`` says which rule a request path falls under (``PathRules``, read from the
app's mounted routes).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dawai.adapters.http.client_ip import CLIENT_IP
from dawai.adapters.http.problems import send_problem
from dawai.adapters.http.route_rules import PathRules
from dawai.adapters.http.route_set import ACCESS_OPT, Access
from dawai.core.settings import HttpSettings

__all__ = [
    "CLIENT_NAME",
    "AccessRules",
    "ApiCredential",
    "TokenGuard",
    "client_key",
    "client_scoped",
    "credentials_of",
    "token_digest",
    "token_name",
]

# scope["state"] key: the name of the token a request was let through with.
CLIENT_NAME = "dawai.client_name"


def client_key(scope: Any) -> str:
    """Who a request is, for the rate limits and the concurrency caps: ``t:<token name>``
    when the token guard let it through with a token, else ``ip:<address>``."""
    state = scope.get("state") or {}
    name = state.get(CLIENT_NAME)
    return f"t:{name}" if name is not None else f"ip:{state.get(CLIENT_IP, '-')}"


def token_name(scope: Any) -> str | None:
    """The name of the token the token guard let a request through with; None without one."""
    name = (scope.get("state") or {}).get(CLIENT_NAME)
    return None if name is None else str(name)


def client_scoped(scope: Any, local_id: str) -> str:
    """An id a client names (a ghost-text user, a project) as the stores keep it: on a server
    with tokens, ``<token name>/<id>``, so one token's clients can neither read, change nor
    forget another token's users and projects; without tokens (everyone equally trusted)
    the id itself. Token names cannot hold ``/``, nor can the ids, so no two clash."""
    name = token_name(scope)
    return local_id if name is None else f"{name}/{local_id}"


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class ApiCredential:
    name: str
    role: Access  # Access.TOKEN (a user) or Access.ADMIN
    digest: bytes = b""

    def __repr__(self) -> str:  # never the digest, should one be printed
        return f"ApiCredential(name={self.name!r}, role={self.role.name.lower()})"


def _credential(entry: str) -> ApiCredential:
    role = Access.TOKEN
    for prefix, named in (("admin:", Access.ADMIN), ("user:", Access.TOKEN)):
        if entry.startswith(prefix):
            role, entry = named, entry.removeprefix(prefix)
            break
    if entry.startswith("sha256:"):
        digest = bytes.fromhex(entry.removeprefix("sha256:"))
    else:
        digest = token_digest(entry)
    return ApiCredential(f"token-{digest.hex()[:8]}", role, digest)


def credentials_of(http: HttpSettings) -> list[ApiCredential]:
    """Every configured token: ``http.api_tokens`` entries, then ``[[http.tokens]]``."""
    found = [_credential(entry) for entry in http.api_tokens]
    roles = {"user": Access.TOKEN, "admin": Access.ADMIN}
    found += [ApiCredential(t.name, roles[t.role], bytes.fromhex(t.sha256)) for t in http.tokens]
    return found


class AccessRules(PathRules[Access]):
    """The ``Access`` of each path the app serves; ``open_prefixes`` (the docs) are open
    with everything under them; any other path needs a token."""

    def __init__(self, by_path: Mapping[str, Access], open_prefixes: Iterable[str] = ()) -> None:
        super().__init__(by_path, default=Access.TOKEN, open_value=Access.OPEN, open_prefixes=open_prefixes)

    @classmethod
    def of_routes(cls, routes: Iterable[Any], open_prefixes: Iterable[str] = ()) -> AccessRules:
        """From Litestar's routes (``app.routes``); a handler without an access rule
        (Litestar's own) needs a token."""
        return cls(PathRules.read(routes, ACCESS_OPT, Access.TOKEN), open_prefixes)


_CHALLENGE = ((b"www-authenticate", b'Bearer realm="dawai"'),)


def is_loopback(scope: Any) -> bool:
    """Whether the request's client (``ClientAddress``: behind trusted proxies, the one
    ``X-Forwarded-For`` names) is a loopback address."""
    text = (scope.get("state") or {}).get(CLIENT_IP)
    try:
        address = ipaddress.ip_address(str(text))
    except ValueError:  # no address, or not an IP address: not known to be local
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool((mapped or address).is_loopback)


class TokenGuard:
    def __init__(self, app: Any, credentials: Iterable[ApiCredential], rules: AccessRules) -> None:
        self.app = app
        self.credentials = list(credentials)
        self.rules = rules

    def _presented(self, scope: Any) -> ApiCredential | None:
        """The configured token the request carries, or None."""
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    return None
                digest = token_digest(token.strip())
                # Compare against every digest, so timing says nothing about which matched.
                found = None
                for credential in self.credentials:
                    if hmac.compare_digest(digest, credential.digest):
                        found = credential
                return found
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        needed = self.rules.for_scope(scope)
        if not self.credentials:
            if needed is Access.ADMIN and not is_loopback(scope):
                detail = (
                    "Admin routes answer loopback clients only while no API token is configured; "
                    "configure an admin token (DAWAI_API_TOKENS=admin:<token>, or [[http.tokens]] "
                    "with role admin) to reach them from elsewhere."
                )
                await send_problem(send, scope, 403, "Forbidden", detail)
                return
            await self.app(scope, receive, send)
            return
        if needed is Access.OPEN:
            await self.app(scope, receive, send)
            return
        credential = self._presented(scope)
        if credential is None:
            detail = "This server needs an API token: send Authorization: Bearer <token>."
            await send_problem(send, scope, 401, "Unauthorized", detail, _CHALLENGE)
            return
        if credential.role < needed:
            detail = "This route needs an API token whose role is admin."
            await send_problem(send, scope, 403, "Forbidden", detail)
            return
        scope.setdefault("state", {})[CLIENT_NAME] = credential.name
        await self.app(scope, receive, send)
