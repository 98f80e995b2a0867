"""``lean_client_class``: the SDKs' own httpx2 client class, with the work it repeats
on every request for the same outcome done once, or skipped where nothing applies.

Every chat request goes through the SDK's ``build_request`` and ``send`` on this client.
httpx2 parses the same absolute URL again for every request, copies and re-normalises
the client's default headers twice, and runs an auth flow, a redirect loop and event
hooks that an API client with its key in a header never uses (docs/adr/0010). The
subclass keeps every behaviour and skips only work whose outcome is known:

- an absolute URL string is parsed once (``httpx2.URL`` is immutable) and reused;
- the client's default headers are merged with the request's in one pass, with
  ``Headers.update``'s outcome (the request's names replace the defaults');
- ``send`` goes straight to the transport when there is no auth and no event hook,
  then follows redirects and keeps cookies exactly as httpx2 does (the cookie jar only
  when a ``Set-Cookie`` came). Anything else takes httpx2's own path.

``tests/unit/test_lean_client.py`` checks it against httpx2's own client, side by side.
"""

from __future__ import annotations

import contextlib
import logging
import time
from functools import cache
from typing import Any

import httpx2
from httpx2 import USE_CLIENT_DEFAULT
from httpx2._client import BoundAsyncStream, ClientState, UseClientDefault
from httpx2._exceptions import request_context

__all__ = ["lean_client_class"]

_URL_CACHE_SIZE = 256
_logger = logging.getLogger("httpx2")
# What the fast paths stand in for. A base class that overrides one of them, or a patch
# of httpx2's own (instrumentation does that), gets httpx2's path, never ours.
_STOOD_IN_FOR = (
    "send",
    "_send_handling_auth",
    "_send_handling_redirects",
    "_send_single_request",
    "_build_request_auth",
    "_merge_url",
    "_merge_headers",
)
_ORIGINALS = {name: getattr(httpx2.AsyncClient, name) for name in _STOOD_IN_FOR}


def _httpx2_unpatched() -> bool:
    return all(getattr(httpx2.AsyncClient, name) is original for name, original in _ORIGINALS.items())


class _LeanClient(httpx2.AsyncClient):
    _lean_urls: dict[str, httpx2.URL]

    def _merge_url(self, url: httpx2.URL | str) -> httpx2.URL:
        if type(url) is not str:
            return super()._merge_url(url)
        urls = self.__dict__.get("_lean_urls")
        if urls is None:
            urls = self._lean_urls = {}
        parsed = urls.get(url)
        if parsed is None:
            parsed = httpx2.URL(url)
            if parsed.is_relative_url:  # depends on base_url, which may change: not cached
                return super()._merge_url(parsed)
            if len(urls) >= _URL_CACHE_SIZE:
                urls.clear()
            urls[url] = parsed
        return parsed

    def _merge_headers(self, headers: Any = None) -> Any:
        if headers is None:
            return httpx2.Headers(self.headers)
        given = headers if isinstance(headers, httpx2.Headers) else httpx2.Headers(headers)
        names = {lower for _, lower, _ in given._list}
        if not all(name.isascii() for name in names):  # httpx2 decodes and may refuse them
            return super()._merge_headers(given)
        merged = httpx2.Headers()
        merged._list = [item for item in self.headers._list if item[1] not in names] + given._list
        return merged

    async def send(
        self,
        request: httpx2.Request,
        *,
        stream: bool = False,
        auth: Any = USE_CLIENT_DEFAULT,
        follow_redirects: Any = USE_CLIENT_DEFAULT,
    ) -> httpx2.Response:
        url = request.url
        if (
            not isinstance(auth, UseClientDefault)
            or self._auth is not None
            or url.username
            or url.password
            or self._event_hooks["request"]
            or self._event_hooks["response"]
            or self.is_closed
            or self.max_redirects < 0
            or not isinstance(request.stream, httpx2.AsyncByteStream)
            or not _httpx2_unpatched()
        ):
            return await super().send(request, stream=stream, auth=auth, follow_redirects=follow_redirects)
        self._state = ClientState.OPENED
        if isinstance(follow_redirects, UseClientDefault):
            follow_redirects = self.follow_redirects
        self._set_timeout(request)
        response = await self._send_once(request)
        try:
            if response.has_redirect_location:
                if follow_redirects:
                    following = self._build_redirect_request(request, response)
                    await response.aread()
                    response = await self._send_handling_redirects(
                        following, follow_redirects=True, history=[response]
                    )
                else:
                    with contextlib.suppress(httpx2.RemoteProtocolError):
                        response.next_request = self._build_redirect_request(request, response)
            if not stream:
                await response.aread()
            return response
        except BaseException:
            await response.aclose()
            raise

    async def _send_once(self, request: httpx2.Request) -> httpx2.Response:
        """httpx2's ``_send_single_request``, with the cookie jar touched only when a
        cookie is involved."""
        transport = self._transport_for_url(request.url)
        start = time.perf_counter()
        with request_context(request=request):
            response = await transport.handle_async_request(request)
        response.request = request
        assert isinstance(response.stream, httpx2.AsyncByteStream)  # an async transport's, as httpx2 checks
        response.stream = BoundAsyncStream(response.stream, start=start)
        response.history = []
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            self.cookies.extract_cookies(response)
        response.default_encoding = self._default_encoding
        if _logger.isEnabledFor(logging.INFO):
            _logger.info(
                'HTTP Request: %s %s "%s %d %s"',
                request.method,
                request.url,
                response.http_version,
                response.status_code,
                response.reason_phrase,
            )
        return response


@cache
def lean_client_class(base: type[httpx2.AsyncClient]) -> type[httpx2.AsyncClient]:
    """``base`` (an SDK's ``DefaultAsyncHttpxClient``, or ``httpx2.AsyncClient``) with the
    fast paths above; its own defaults are kept. A ``base`` that overrides what they
    stand in for is returned as it is."""
    if issubclass(base, _LeanClient):
        return base
    if any(getattr(base, name) is not getattr(httpx2.AsyncClient, name) for name in _STOOD_IN_FOR):
        return base
    return type(f"Lean{base.__name__}", (_LeanClient, base), {})
