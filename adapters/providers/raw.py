"""Raw bodies through an Anthropic- or OpenAI-style SDK: the SDK builds, authenticates and
sends the request and turns error statuses into its exceptions, but the response body is
ours to parse (docs/adr/0007); and per-request keys as views over one SDK client
(docs/adr/0015).
"""

from __future__ import annotations

import copy
import importlib
import inspect
from typing import Any, Self

import httpx2
import msgspec

__all__ = [
    "NO_KEY",
    "RAW_RESPONSE_HEADER",
    "RawKeyViews",
    "RawOptions",
    "anthropic_problem",
    "key_headers",
    "key_template",
    "openai_problem",
    "post_raw",
    "public_stream",
]

_JSON = {"Content-Type": "application/json"}
# Asks the SDK for the raw HTTP response: it still builds the request, authenticates,
# applies timeouts and turns error statuses into its exceptions, but leaves the body to
# us (docs/adr/0007). A private header of the SDKs: checked at start-up (``*_problem``).
RAW_RESPONSE_HEADER = "X-Stainless-Raw-Response"
_RAW_STREAM = {**_JSON, RAW_RESPONSE_HEADER: "stream"}
_encode = msgspec.json.Encoder().encode


class RawOptions:
    """The request options ``post_raw`` hands an Anthropic- or OpenAI-style SDK, with
    ``headers`` (a key, per request) merged over the SDK client's own, once per view."""

    __slots__ = ("headers", "reply", "stream")

    def __init__(self, headers: dict[str, str] | None = None) -> None:
        extra = self.headers = headers or {}
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


async def public_stream(resource: Any, body: dict[str, Any], options: RawOptions = _PLAIN) -> httpx2.Response:
    """A streamed body through the SDK's public ``with_streaming_response`` (``resource``:
    ``client.chat.completions``, ``client.messages``), for when the raw-response header
    is not as verified: the SDK builds the request from typed parameters (``body`` as
    keyword arguments) and hands over its raw response, whose body is ours to read as
    ``post_raw``'s is. Closing that response ends the SDK's context too."""
    manager = resource.with_streaming_response.create(**body, extra_headers=options.headers or None)
    response = await manager.__aenter__()
    return response.http_response


def openai_problem() -> str | None:
    """``None`` when the openai SDK streams a body raw for ``RAW_RESPONSE_HEADER`` as
    verified, else what differs (``dawai.adapters.internals``)."""
    import openai

    return _raw_stream_problem("openai", openai.AsyncOpenAI)


def anthropic_problem() -> str | None:
    """As ``openai_problem``, for the anthropic SDK."""
    import anthropic

    return _raw_stream_problem("anthropic", anthropic.AsyncAnthropic)


def _raw_stream_problem(sdk: str, client_class: Any) -> str | None:
    constants = importlib.import_module(f"{sdk}._constants")
    header = getattr(constants, "RAW_RESPONSE_HEADER", None)
    if header != RAW_RESPONSE_HEADER:
        return f"{sdk}._constants.RAW_RESPONSE_HEADER is {header!r}, not {RAW_RESPONSE_HEADER!r}"
    decide = getattr(client_class, "_should_stream_response_body", None)
    if decide is None:
        return f"{sdk}'s client has no _should_stream_response_body"
    parameters = tuple(p for p in inspect.signature(decide).parameters if p != "self")
    if parameters != ("request",):
        return f"{sdk}'s _should_stream_response_body takes ({', '.join(parameters)}), not (request)"
    post = tuple(inspect.signature(client_class.post).parameters)
    missing = [name for name in ("path", "cast_to", "content", "options") if name not in post]
    if missing:
        return f"{sdk}'s client.post takes no {', '.join(missing)}"
    probe = client_class(
        api_key=NO_KEY,
        base_url="http://127.0.0.1:9",
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(lambda _: httpx2.Response(204))),
    )
    url = "http://127.0.0.1:9/probe"
    raw = httpx2.Request("POST", url, headers={RAW_RESPONSE_HEADER: "stream"})
    if probe._should_stream_response_body(request=raw) is not True:
        return f"{sdk} no longer leaves the body unread for {RAW_RESPONSE_HEADER}: stream"
    if probe._should_stream_response_body(request=httpx2.Request("POST", url)) is not False:
        return f"{sdk} now streams every body, with or without {RAW_RESPONSE_HEADER}"
    return None
