"""API tokens: with ``DAWAI_API_TOKENS`` (or ``http.api_tokens``) set, a route needs
``Authorization: Bearer <token>`` unless its route set is ``Access.OPEN`` (health) or it
is part of the API docs.

Tokens may be given plain or as ``sha256:<hex digest>`` (so a config file need not hold
them); either way only digests are kept and compared, in constant time.

``AccessRules`` says which rule a request path falls under. It is read from the app's
mounted routes (each handler's ``opt`` carries its set's ``Access``, route_set.py), so
parameterised paths are covered and no list of open paths is kept by hand. A path no
route serves (a 404) needs a token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any

from litestar.routes import HTTPRoute

from dawai.adapters.http.problems import send_problem
from dawai.adapters.http.route_set import ACCESS_OPT, Access

__all__ = ["AccessRules", "TokenGuard", "token_digest"]

# ``/{name:type}`` in a Litestar path; a ``path`` parameter takes the rest, slashes included.
_PARAMETER = re.compile(r"/\{([^}:]+):([^}]+)\}")


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _digest_of(entry: str) -> bytes:
    if entry.startswith("sha256:"):
        return bytes.fromhex(entry.removeprefix("sha256:"))
    return token_digest(entry)


def _path_pattern(path: str) -> re.Pattern[str]:
    parts, end = [], 0
    for match in _PARAMETER.finditer(path):
        parts.append(re.escape(path[end : match.start()]))
        parts.append("(?:/.*)?" if match.group(2) == "path" else "/[^/]+")
        end = match.end()
    parts.append(re.escape(path[end:]))
    return re.compile("".join(parts), re.DOTALL)


class AccessRules:
    """The ``Access`` of each path the app serves (``by_path``, in Litestar's syntax:
    ``/voices/{voice_id:str}``); ``open_prefixes`` (the docs) are open with everything
    under them; any other path needs a token."""

    def __init__(self, by_path: Mapping[str, Access], open_prefixes: Iterable[str] = ()) -> None:
        self._exact = {p: a for p, a in by_path.items() if "{" not in p}
        self._patterns = [(_path_pattern(p), a) for p, a in by_path.items() if "{" in p]
        # The same paths as the OpenAPI schema writes them: /voices/{voice_id:str} -> /voices/{voice_id}
        self._documented = {_PARAMETER.sub(r"/{\1}", p): a for p, a in by_path.items()}
        self._open_prefixes = tuple(open_prefixes)

    @classmethod
    def of_routes(cls, routes: Iterable[Any], open_prefixes: Iterable[str] = ()) -> AccessRules:
        """From Litestar's routes (``app.routes``); a handler without an access rule
        (Litestar's own) needs a token."""
        found: dict[str, Access] = {}
        for route in routes:
            if not isinstance(route, HTTPRoute):
                continue
            # One set serves a path; a handler that sets its own rule (its ``opt``) may
            # make the path stricter than its set's.
            rules = [h.opt.get(ACCESS_OPT, Access.TOKEN) for h in route.route_handlers]
            found[route.path] = max(rules, default=Access.TOKEN)
        return cls(found, open_prefixes)

    def _opened(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self._open_prefixes)

    def for_path(self, path: str) -> Access:
        """The rule for a request path. A static route wins over parameterised ones (as
        Litestar routes); where several parameterised paths match, the strictest."""
        if self._opened(path):
            return Access.OPEN
        rule = self._exact.get(path)
        if rule is not None:
            return rule
        matched = [a for pattern, a in self._patterns if pattern.fullmatch(path)]
        return max(matched) if matched else Access.TOKEN

    def for_documented(self, path: str) -> Access:
        """The rule for a path as the OpenAPI schema writes it (``/voices/{voice_id}``)."""
        if self._opened(path):
            return Access.OPEN
        return self._documented.get(path, Access.TOKEN)


class TokenGuard:
    def __init__(self, app: Any, tokens: Iterable[str], rules: AccessRules) -> None:
        self.app = app
        self.digests = [_digest_of(t) for t in tokens]
        self.rules = rules

    def _allowed(self, scope: Any) -> bool:
        if self.rules.for_path(scope.get("path", "")) is Access.OPEN:
            return True
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer" or not token.strip():
                    return False
                digest = token_digest(token.strip())
                # Compare against every digest, so timing says nothing about which matched.
                return sum(hmac.compare_digest(digest, d) for d in self.digests) > 0
        return False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.digests or self._allowed(scope):
            await self.app(scope, receive, send)
            return
        detail = "This server needs an API token: send Authorization: Bearer <token>."
        challenge = ((b"www-authenticate", b'Bearer realm="dawai"'),)
        await send_problem(send, scope, 401, "Unauthorized", detail, challenge)
