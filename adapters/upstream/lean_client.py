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

``tests/unit/test_lean_client.py`` checks it against httpx2's own client, side by side;
``shape_problem`` checks at start-up that the httpx2 installed has the shape that test
verified, and ``lean_client_class`` hands back the SDK's own class when it has not
(``dawai.adapters.internals``, docs/adr/0021).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from typing import Any

import httpx2
from httpx2 import USE_CLIENT_DEFAULT

from dawai.adapters.internals import HTTPX2_LEAN_CLIENT, usable

try:
    from httpx2._client import BoundAsyncStream, ClientState, UseClientDefault
    from httpx2._exceptions import request_context
except ImportError:  # a newer httpx2: shape_problem says so, and the SDK's own class is used
    BoundAsyncStream = ClientState = UseClientDefault = request_context = None  # type: ignore[assignment,misc]

__all__ = ["lean_client_class", "shape_problem"]

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
_ORIGINALS = {name: getattr(httpx2.AsyncClient, name, None) for name in _STOOD_IN_FOR}


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


def lean_client_class(base: type[httpx2.AsyncClient]) -> type[httpx2.AsyncClient]:
    """``base`` (an SDK's ``DefaultAsyncHttpxClient``, or ``httpx2.AsyncClient``) with the
    fast paths above; its own defaults are kept. A ``base`` that overrides what they
    stand in for is returned as it is, and so is any while the installed httpx2 is not
    shaped as verified (``shape_problem``)."""
    if not usable(HTTPX2_LEAN_CLIENT):
        return base
    made = _MADE.get(base)
    if made is None:
        made = _MADE[base] = _lean_class(base)
    return made


_MADE: dict[type[httpx2.AsyncClient], type[httpx2.AsyncClient]] = {}


def _lean_class(base: type[httpx2.AsyncClient]) -> type[httpx2.AsyncClient]:
    if issubclass(base, _LeanClient):
        return base
    if any(getattr(base, name) is not getattr(httpx2.AsyncClient, name) for name in _STOOD_IN_FOR):
        return base
    return type(f"Lean{base.__name__}", (_LeanClient, base), {})


# What the fast paths call, with the parameters ``tests/unit/test_lean_client.py`` verified
# (``self`` left out). Any other shape, a new optional parameter included, is a change.
_CALLED: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("httpx2._client", "BoundAsyncStream", ("stream", "start")),
    ("httpx2._exceptions", "request_context", ("request",)),
    ("httpx2.AsyncClient", "send", ("request", "stream", "auth", "follow_redirects")),
    ("httpx2.AsyncClient", "_merge_url", ("url",)),
    ("httpx2.AsyncClient", "_merge_headers", ("headers",)),
    ("httpx2.AsyncClient", "_set_timeout", ("request",)),
    ("httpx2.AsyncClient", "_transport_for_url", ("url",)),
    ("httpx2.AsyncClient", "_build_redirect_request", ("request", "response")),
    ("httpx2.AsyncClient", "_send_handling_redirects", ("request", "follow_redirects", "history")),
)
# What they read or set on a client, beyond its public attributes.
_CLIENT_STATE = ("_auth", "_event_hooks", "_state", "_default_encoding", "_transport", "cookies")


def _parameters(found: Any) -> tuple[str, ...]:
    return tuple(name for name in inspect.signature(found).parameters if name != "self")


def shape_problem() -> str | None:
    """``None`` when the installed httpx2 has the internals the fast paths use, in the
    shape verified side by side; else what differs (``dawai.adapters.internals``)."""
    import httpx2._client
    import httpx2._exceptions

    owners: dict[str, Any] = {
        "httpx2._client": httpx2._client,
        "httpx2._exceptions": httpx2._exceptions,
        "httpx2.AsyncClient": httpx2.AsyncClient,
    }
    for owner, name, expected in _CALLED:
        found = getattr(owners[owner], name, None)
        if found is None:
            return f"{owner}.{name} is gone"
        got = _parameters(found)
        if got != expected:
            return f"{owner}.{name} takes ({', '.join(got)}), not ({', '.join(expected)})"
    state = getattr(httpx2._client, "ClientState", None)
    if state is None or not hasattr(state, "OPENED"):
        return "httpx2._client.ClientState.OPENED is gone"
    default = getattr(httpx2._client, "UseClientDefault", None)
    if not isinstance(default, type) or not isinstance(USE_CLIENT_DEFAULT, default):
        return "httpx2.USE_CLIENT_DEFAULT is no longer an httpx2._client.UseClientDefault"
    headers = httpx2.Headers({"X-Probe": "v"})
    if getattr(headers, "_list", None) != [(b"X-Probe", b"x-probe", b"v")]:
        return "httpx2.Headers._list is no longer [(raw name, lower-case name, value)]"
    merged = httpx2.Headers()
    merged._list = list(headers._list)
    if merged.get("x-probe") != "v" or merged.raw != [(b"X-Probe", b"v")]:
        return "httpx2.Headers built from _list no longer reads it"
    probe = httpx2.AsyncClient(
        transport=httpx2.MockTransport(lambda _: httpx2.Response(204)), trust_env=False
    )
    missing = [name for name in _CLIENT_STATE if not hasattr(probe, name)]
    if missing:
        return f"httpx2.AsyncClient has no {', '.join(missing)}"
    hooks = probe._event_hooks
    if not isinstance(hooks, dict) or not {"request", "response"} <= set(hooks):
        return "httpx2.AsyncClient._event_hooks is no longer {'request': [...], 'response': [...]}"
    return None
