"""Raw bodies through an Anthropic- or OpenAI-style SDK: the SDK builds, authenticates and
sends the request and turns error statuses into its exceptions, but the response body is
ours to parse (docs/adr/0007); and per-request keys as views over one SDK client
(docs/adr/0015).
"""

from __future__ import annotations

import copy
from typing import Any, Self

import httpx2
import msgspec

__all__ = [
    "NO_KEY",
    "RawKeyViews",
    "RawOptions",
    "key_headers",
    "key_template",
    "post_raw",
]

_JSON = {"Content-Type": "application/json"}
# Asks the SDK for the raw HTTP response: it still builds the request, authenticates,
# applies timeouts and turns error statuses into its exceptions, but leaves the body to
# us (docs/adr/0007).
_RAW_STREAM = {**_JSON, "X-Stainless-Raw-Response": "stream"}
_encode = msgspec.json.Encoder().encode


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
