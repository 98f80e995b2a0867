"""The LLM provider port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from dawai.core.models import ChatEvent, LLMReply, LLMRequest
from dawai.core.settings import UpstreamLimits

__all__ = ["JsonStreamingProvider", "KeyedProvider", "LLMProvider", "ProviderConfig", "ProviderFactory"]


class ProviderConfig(msgspec.Struct, frozen=True):
    """What a provider factory gets: one credential set and the network limits.

    A provider instance is built once per (provider, key, base URL) and reused; it owns
    its SDK client and closes it in ``aclose``. A provider registered with
    ``keys_per_request=True`` is built once per (provider, base URL) with ``api_key=None``
    and given each request's key through ``KeyedProvider.with_key``.
    """

    name: str
    api_key: str | None = None
    base_url: str | None = None
    connect_timeout: float = 5.0  # name resolution, TCP and TLS together
    pool_timeout: float = 10.0  # the wait for a connection while the per-origin cap is reached
    read_timeout: float = 300.0  # the whole response; its head may take this long
    stall_timeout: float = 30.0  # the most seconds between two pieces of a response
    limits: UpstreamLimits = UpstreamLimits()
    options: dict[str, Any] = {}
    ca_bundle: str | None = None  # a PEM file trusted instead of the system's CAs
    verify: bool = True  # False: TLS certificates are not checked (logged at start-up)
    # Who moves the bytes under the SDK clients (``llm.transport``): our HTTP/1.1 transport,
    # or httpx2's own (docs/adr/0020).
    transport: Literal["dawai", "httpx"] = "dawai"


@runtime_checkable
class LLMProvider(Protocol):
    """A chat model backend (Claude, OpenAI, Gemini, an OpenAI-compatible server, a plugin).

    Contract (checked by ``tests/contract``):

    * ``stream`` yields ``TextDelta`` pieces as they arrive, ``Usage`` when known, and a
      ``Finish`` event only when the upstream's stop signal was seen. A stream that ends
      without one must raise ``UpstreamTruncated`` instead of ending quietly.
    * Upstream failures raise the domain errors: ``UpstreamAuthError`` (key rejected),
      ``RateLimited`` (with ``retry_after``), ``UpstreamError`` (``retryable`` for 5xx and
      connection failures), ``UpstreamTimeout``.
    * Closing the iterator (``aclose``) or cancelling the task reading it closes the
      upstream connection.

    A provider may also stream structured output (``JsonStreamingProvider.stream_json``);
    it is optional, so a provider written before it existed still satisfies this port.
    """

    name: str

    async def complete(self, request: LLMRequest) -> LLMReply: ...

    def stream(self, request: LLMRequest) -> AsyncIterator[ChatEvent]: ...

    async def complete_json(self, request: LLMRequest, schema: dict[str, Any]) -> Any:
        """Structured output: a JSON value matching ``schema``, by the upstream's own
        mechanism (as well as it allows: callers check what matters)."""
        ...

    async def aclose(self) -> None: ...


ProviderFactory = Callable[[ProviderConfig], LLMProvider]


@runtime_checkable
class KeyedProvider(LLMProvider, Protocol):
    """A provider that can send another key over its own connections.

    ``with_key(api_key)`` returns a view: an ``LLMProvider`` that sends ``api_key`` (``None``:
    no key, for servers that need none) with every request, shares this instance's SDK
    client and connection pool, costs a few hundred bytes, and is dropped after one
    request. Its ``aclose`` does nothing; the instance it came from owns the connections.
    """

    def with_key(self, api_key: str | None) -> LLMProvider: ...


@runtime_checkable
class JsonStreamingProvider(LLMProvider, Protocol):
    """A provider that streams structured output by its upstream's own mechanism (a
    forced tool, a JSON-schema response format).

    ``stream_json(request, schema)`` follows ``stream``'s contract (``TextDelta`` pieces,
    ``Usage``, then ``Finish`` only on the upstream's stop signal, else
    ``UpstreamTruncated``), its pieces making up the JSON text of a value matching
    ``schema``. For a provider without it, the gateway (``core/gateway.py``) calls
    ``complete_json`` and streams the value, encoded, as one piece.
    """

    def stream_json(self, request: LLMRequest, schema: dict[str, Any]) -> AsyncIterator[ChatEvent]: ...
