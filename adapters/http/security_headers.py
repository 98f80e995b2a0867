"""Security headers on every response: JSON, problems from any layer, SSE streams, the docs.

- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and
  ``X-Frame-Options: DENY`` (for browsers older than ``frame-ancestors``).
- ``Content-Security-Policy``: for the API's own answers, which no browser should render,
  ``default-src 'none'; frame-ancestors 'none'; ...``. For an HTML page (only the API docs
  at ``/schema`` are HTML, ADR 12) a policy that lets that page work and nothing more:
  scripts and styles from this server (Swagger UI's files under ``/schema/assets``), the
  page's own inline scripts by their SHA-256 (the page is read whole to hash them; it holds
  the schema), inline styles, ``data:`` images (Swagger UI's icons), and requests to this
  server only (the schema, "Try it out").

A header a handler set itself is left as it is.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

__all__ = ["API_POLICY", "SECURITY_HEADERS", "SecurityHeaders", "page_policy"]

Header = tuple[bytes, bytes]
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_COMMON = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
# What every answer carries, for code that writes its own (the socket-level 431).
SECURITY_HEADERS = (*_COMMON, (b"content-security-policy", API_POLICY.encode()))
_INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def page_policy(html: bytes) -> str:
    """The policy for an HTML page of this server: its inline scripts allowed by hash."""
    scripts = ["'self'"] + [
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    ]
    return (
        f"default-src 'none'; script-src {' '.join(scripts)}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(name == b"content-type" and value.startswith(b"text/html") for name, value in headers)


class SecurityHeaders:
    def __init__(self, app: Any) -> None:
        self.app = app
        self._api = (b"content-security-policy", API_POLICY.encode())

    def _added(self, headers: list[Header], policy: Header) -> list[Header]:
        present = {name.lower() for name, _ in headers}
        return [*headers, *(h for h in (*_COMMON, policy) if h[0] not in present)]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        page: dict[str, Any] | None = None  # an HTML page's start message and body so far

        async def send_with_headers(message: Any) -> None:
            nonlocal page
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if _is_html(headers):
                    page = {"start": message, "body": []}
                    return
                message["headers"] = self._added(headers, self._api)
            elif page is not None and message["type"] == "http.response.body":
                page["body"].append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(page["body"])
                start = page["start"]
                policy = (b"content-security-policy", page_policy(body).encode())
                start["headers"] = self._added(list(start.get("headers", ())), policy)
                page = None
                await send(start)
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_with_headers)
