"""API tokens: with ``DAWAI_API_TOKENS`` (or ``http.api_tokens``) set, every route but
health and the API docs needs ``Authorization: Bearer <token>``.

Tokens may be given plain or as ``sha256:<hex digest>`` (so a config file need not hold
them); either way only digests are kept and compared, in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from dawai.adapters.http.problems import send_problem

__all__ = ["OPEN_PATHS", "TokenGuard", "token_digest"]

OPEN_PATHS = frozenset({"/", "/health", "/api/health", "/ai/api/health"})


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _digest_of(entry: str) -> bytes:
    if entry.startswith("sha256:"):
        return bytes.fromhex(entry.removeprefix("sha256:"))
    return token_digest(entry)


class TokenGuard:
    def __init__(self, app: Any, tokens: Iterable[str]) -> None:
        self.app = app
        self.digests = [_digest_of(t) for t in tokens]

    def _allowed(self, scope: Any) -> bool:
        path = scope.get("path", "")
        if path in OPEN_PATHS or path == "/schema" or path.startswith("/schema/"):
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
