"""``lean_client_class``: the same requests and responses as httpx2's own client, redirects,
cookies, auth and hooks included; checked side by side over one in-memory transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx2
import openai
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.adapters.upstream.lean_client import lean_client_class

Lean = lean_client_class(httpx2.AsyncClient)
Seen = list[tuple[str, str, list[tuple[str, str]], bytes]]


def _pair(
    handler: Callable[[httpx2.Request], httpx2.Response], **options: object
) -> tuple[httpx2.AsyncClient, httpx2.AsyncClient, Seen, Seen]:
    """A lean and a plain client, each on its own ``MockTransport`` running ``handler``;
    each list records what its transport received."""
    seen: tuple[Seen, Seen] = ([], [])

    def recording(log: Seen) -> httpx2.MockTransport:
        def handle(request: httpx2.Request) -> httpx2.Response:
            log.append((request.method, str(request.url), request.headers.multi_items(), request.read()))
            return handler(request)

        return httpx2.MockTransport(handle)

    lean = Lean(transport=recording(seen[0]), **options)
    plain = httpx2.AsyncClient(transport=recording(seen[1]), **options)
    return lean, plain, seen[0], seen[1]


def _summary(response: httpx2.Response) -> tuple[object, ...]:
    return (
        response.status_code,
        response.headers.multi_items(),
        response.content,
        [(r.status_code, str(r.url)) for r in response.history],
        str(response.next_request.url) if response.next_request else None,
        str(response.request.url),
    )


_NOWHERE = httpx2.MockTransport(lambda request: httpx2.Response(204))
names = st.sampled_from(["Accept", "accept", "User-Agent", "X-Stainless-Lang", "Content-Type", "X-Custom"])
values = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/-*", min_size=1, max_size=12)
header_lists = st.lists(st.tuples(names, values), max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    defaults=header_lists,
    headers=st.one_of(st.none(), header_lists, st.dictionaries(names, values, max_size=4)),
    url=st.sampled_from(
        ["https://api.example.com/v1/chat/completions", "http://127.0.0.1:8080/x?alt=sse", "/rel", "q?x=1"]
    ),
    content=st.one_of(st.none(), st.binary(max_size=20)),
    method=st.sampled_from(["GET", "POST"]),
)
def test_build_request_builds_what_httpx2_builds(defaults, headers, url, content, method):
    options = {"headers": defaults, "base_url": "https://base.example.org/api", "transport": _NOWHERE}
    lean, plain = Lean(**options), httpx2.AsyncClient(**options)
    for _ in range(2):  # the second time from the URL cache
        ours = lean.build_request(method, url, headers=headers, content=content, timeout=7.0)
        theirs = plain.build_request(method, url, headers=headers, content=content, timeout=7.0)
        assert (ours.method, ours.url, ours.headers.multi_items(), ours.read(), ours.extensions) == (
            theirs.method,
            theirs.url,
            theirs.headers.multi_items(),
            theirs.read(),
            theirs.extensions,
        )


def test_a_changed_base_url_applies_to_relative_urls():
    client = Lean(base_url="https://one.example/v1", transport=_NOWHERE)
    assert str(client.build_request("GET", "/x").url) == "https://one.example/v1/x"
    client.base_url = "https://two.example/v2"
    assert str(client.build_request("GET", "/x").url) == "https://two.example/v2/x"


def _redirecting(request: httpx2.Request) -> httpx2.Response:
    if request.url.path == "/old":
        return httpx2.Response(307, headers={"Location": "/new"}, content=b"moved")
    if request.url.path == "/cookie":
        return httpx2.Response(200, headers={"Set-Cookie": "session=abc; Path=/"}, content=b"set")
    echo = {"X-Echo": request.headers.get("cookie", "-")}
    return httpx2.Response(200, headers=echo, content=request.read())


@pytest.mark.parametrize(
    ("path", "follow", "stream"),
    [("/plain", True, False), ("/plain", True, True), ("/old", True, False), ("/old", False, False)],
)
def test_send_answers_as_httpx2_does(path, follow, stream):
    async def main():
        lean, plain, seen_lean, seen_plain = _pair(_redirecting, base_url="http://up.example")
        out = []
        for client in (lean, plain):
            request = client.build_request("POST", path, content=b'{"a": 1}')
            response = await client.send(request, stream=stream, follow_redirects=follow)
            if stream:
                await response.aread()
            out.append(_summary(response))
            await client.aclose()
        return out, seen_lean, seen_plain

    (ours, theirs), seen_lean, seen_plain = asyncio.run(main())
    assert ours == theirs
    assert seen_lean == seen_plain
    if path == "/old":
        assert len(seen_lean) == (2 if follow else 1)


def test_cookies_are_kept_and_sent_back_as_httpx2_does():
    async def main():
        lean, plain, seen_lean, seen_plain = _pair(_redirecting, base_url="http://up.example")
        echoes = []
        for client in (lean, plain):
            await client.post("/cookie")
            response = await client.post("/echo", content=b"x")
            echoes.append(response.headers["x-echo"])
        return echoes, seen_lean, seen_plain

    echoes, seen_lean, seen_plain = asyncio.run(main())
    assert echoes == ["session=abc", "session=abc"]
    assert seen_lean == seen_plain


def test_auth_and_hooks_take_httpx2s_own_path():
    async def main():
        hooked: list[str] = []

        async def hook(request: httpx2.Request) -> None:
            hooked.append(str(request.url))

        lean, plain, seen_lean, seen_plain = _pair(_redirecting, event_hooks={"request": [hook]})
        for client in (lean, plain):
            await client.post("http://user:pw@up.example/echo", content=b"1")
            await client.post("http://up.example/echo", content=b"2", auth=("u", "p"))
        return hooked, seen_lean, seen_plain

    hooked, seen_lean, seen_plain = asyncio.run(main())
    assert len(hooked) == 4
    assert seen_lean == seen_plain
    assert all(("authorization", "Basic dXNlcjpwdw==") in headers for _, _, headers, _ in seen_lean[:1])


def test_a_closed_client_refuses_to_send():
    async def main():
        lean, *_ = _pair(_redirecting)
        await lean.aclose()
        with pytest.raises(RuntimeError):
            await lean.send(lean.build_request("GET", "http://up.example/x"))

    asyncio.run(main())


def test_transport_errors_carry_their_request():
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused")

    async def main():
        client = Lean(transport=httpx2.MockTransport(refuse))
        request = client.build_request("GET", "http://up.example/x")
        with pytest.raises(httpx2.ConnectError) as caught:
            await client.send(request)
        return caught.value, request

    error, request = asyncio.run(main())
    assert error.request is request


def test_the_sdks_default_client_keeps_its_defaults():
    client = lean_client_class(openai.DefaultAsyncHttpxClient)()
    reference = openai.DefaultAsyncHttpxClient()
    assert isinstance(client, openai.DefaultAsyncHttpxClient)
    assert (client.follow_redirects, client.timeout) == (reference.follow_redirects, reference.timeout)
    assert lean_client_class(openai.DefaultAsyncHttpxClient) is type(client)
    assert lean_client_class(type(client)) is type(client)


async def _outcome(client: httpx2.AsyncClient, make: Callable[[httpx2.AsyncClient], object]) -> object:
    """What a call gives: the response's summary, or the exception's type and message."""
    try:
        result = make(client)
        if asyncio.iscoroutine(result):
            result = await result
    except Exception as exc:
        return type(exc).__name__, str(exc)
    if isinstance(result, httpx2.Request):
        return result.method, str(result.url), result.headers.raw
    assert isinstance(result, httpx2.Response)
    return _summary(result)


def _with_a_non_ascii_default(client: httpx2.AsyncClient) -> httpx2.Request:
    client.headers["X-É"] = "default"  # possible after construction only
    return client.build_request("GET", "http://x.example/", headers=[(b"X-\xc3\x89", b"given")])


def _history_carrying(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, history=[httpx2.Response(399)], content=b"ok")


@pytest.mark.parametrize(
    ("handler", "options", "make"),
    [
        # a non-ASCII header name: httpx2 decodes names while merging, and refuses this one
        (
            _redirecting,
            {},
            lambda c: c.build_request("GET", "http://x.example/", headers=[(b"X-Caf\xc3\xa9", b"1")]),
        ),
        (_redirecting, {}, _with_a_non_ascii_default),
        # a body that only a sync client can send
        (
            _redirecting,
            {},
            lambda c: c.send(httpx2.Request("POST", "http://x.example/echo", content=iter([b"ab"]))),
        ),
        # whatever history a transport's response carries, the client's is its own
        (_history_carrying, {}, lambda c: c.get("http://x.example/")),
        (_redirecting, {"max_redirects": -1}, lambda c: c.get("http://x.example/plain")),
        (
            _redirecting,
            {"follow_redirects": False},
            lambda c: c.post("http://x.example/old", follow_redirects=httpx2._client.UseClientDefault()),
        ),
    ],
)
def test_edge_cases_answer_as_httpx2_does(handler, options, make):
    async def main():
        lean, plain, seen_lean, seen_plain = _pair(handler, **options)
        return [await _outcome(client, make) for client in (lean, plain)], seen_lean, seen_plain

    (ours, theirs), seen_lean, seen_plain = asyncio.run(main())
    assert ours == theirs
    assert seen_lean == seen_plain


def test_a_base_that_overrides_what_the_fast_paths_replace_is_left_as_it_is():
    class Routed(httpx2.AsyncClient):
        async def send(self, request, **kwargs):  # e.g. a pool per event loop
            return await super().send(request, **kwargs)

    assert lean_client_class(Routed) is Routed


def test_a_patched_httpx2_send_is_honoured(monkeypatch):
    calls = []
    original = httpx2.AsyncClient.send

    async def instrumented(self, request, **kwargs):
        calls.append(str(request.url))
        return await original(self, request, **kwargs)

    async def main():
        lean, *_ = _pair(_redirecting)
        monkeypatch.setattr(httpx2.AsyncClient, "send", instrumented)
        response = await lean.get("http://x.example/plain")
        return response.status_code

    assert asyncio.run(main()) == 200
    assert calls == ["http://x.example/plain"]
