"""CORS exactly as the contract says: listed origins only; GET, POST, OPTIONS; the headers
Content-Type, Authorization and X-Request-ID; preflights cached for an hour. A disallowed origin gets no
CORS header at all (its preflight gets a 403 problem document)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from dawai.adapters.http.problems import send_problem

__all__ = ["CORS"]


class CORS:
    def __init__(
        self,
        app: Any,
        *,
        origins: Iterable[str],
        methods: Iterable[str] = ("GET", "POST", "OPTIONS"),
        headers: Iterable[str] = ("Content-Type", "Authorization", "X-Request-ID"),
        expose: Iterable[str] = (),
        max_age: int = 3600,
    ) -> None:
        self.app = app
        self.any_origin = "*" in set(origins)
        self.origins = {o.rstrip("/") for o in origins}
        self.methods = tuple(methods)
        self.preflight_headers = [
            (b"access-control-allow-methods", ", ".join(self.methods).encode()),
            (b"access-control-allow-headers", ", ".join(headers).encode()),
            (b"access-control-max-age", str(max_age).encode()),
            (b"vary", b"Origin"),
        ]
        self.expose = ", ".join(expose).encode()

    def allowed(self, origin: str) -> bool:
        return self.any_origin or origin in self.origins

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = requested_method = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"access-control-request-method":
                requested_method = value.decode("latin-1")
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and requested_method is not None:
            await self._preflight(scope, send, origin, requested_method)
            return
        if not self.allowed(origin):
            await self.app(scope, receive, send)
            return
        extra = [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
        if self.expose:
            extra.append((b"access-control-expose-headers", self.expose))

        async def send_with_cors(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Any, send: Any, origin: str, method: str) -> None:
        if self.allowed(origin) and method.upper() in self.methods:
            headers = [(b"access-control-allow-origin", origin.encode("latin-1")), *self.preflight_headers]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        detail = (
            f"Method {method} is not allowed cross-origin."
            if self.allowed(origin)
            else "This origin is not allowed to call the API (see ALLOWED_ORIGINS)."
        )
        await send_problem(send, scope, 403, "Forbidden", detail)
