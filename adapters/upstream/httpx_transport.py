"""``HttpxTransport``: httpx2's own transport (``httpx2.AsyncHTTPTransport``, on httpcore2
and h11) for ``llm.transport = "httpx"``, with what ``Http1Transport`` keeps around its
parser, so that switching transports changes who moves the bytes and nothing else
(docs/adr/0020).

* Timeouts: the response head and the body's first byte may take ``head_timeout`` (the
  provider's whole-response timeout); after that, the request's own ``read`` timeout (the
  stall timeout) holds between pieces of the body, on one timer per response that is moved
  lazily. ``connect``, ``write`` and ``pool`` are httpx2's, from the request.
* Limits (``UpstreamLimits``): a head with more than ``max_headers`` fields or over
  ``max_head_bytes`` fails with ``ResponseTooLarge`` (h11 has refused a head past
  httpcore2's own fixed bound before that), and so does a body read whole past
  ``max_body_bytes``; a stream read with ``response_chunks`` is bounded by its reader, as
  with ``Http1Transport``.
* Methods ``Http1Transport`` refuses are refused here before anything is sent. h11 itself
  refuses a 101 nobody asked for and header values with CR, LF or NUL, and drops trailers.
* The body is offered to ``response_chunks`` the way ``Http1Transport``'s is (the
  ``dawai_body`` extension), so an unencoded stream skips httpx2's decoding layers.
* The pool: at most ``max_connections_per_origin`` open (0: no cap), counted by httpcore2
  per SDK client rather than across the process as ``ConnectionSlots`` counts them; a
  request that waits past the pool timeout fails as ``PoolExhausted``, naming the settings.
  ``max_idle`` stay open for ``keepalive_expiry`` seconds (httpcore2 reads no
  ``Keep-Alive: timeout``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx2

from dawai.adapters.upstream.http1 import METHODS, ResponseTooLarge
from dawai.adapters.upstream.slots import PoolExhausted
from dawai.core.settings import UpstreamLimits

__all__ = ["HttpxTransport"]


class HttpxTransport(httpx2.AsyncBaseTransport):
    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_idle: int = 32,
        keepalive_expiry: float = 4.0,
        head_timeout: float | None = None,
        limits: UpstreamLimits | None = None,
    ) -> None:
        """``head_timeout``: the wait for a response head and the body's first byte
        (None: the request's ``read`` timeout)."""
        self._limits = limits = limits or UpstreamLimits()
        cap = limits.max_connections_per_origin or None
        pool = httpx2.Limits(
            max_connections=cap,
            max_keepalive_connections=max_idle if cap is None else min(max_idle, cap),
            keepalive_expiry=keepalive_expiry,
        )
        self._inner = httpx2.AsyncHTTPTransport(verify=ssl_context or True, limits=pool)
        self._head_timeout = head_timeout

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method not in METHODS:
            raise httpx2.UnsupportedProtocol(f"Unsupported method {request.method[:20]!r}; nothing was sent.")
        extensions = request.extensions
        timeouts = extensions.get("timeout") or {}
        stall = timeouts.get("read")
        head = self._head_timeout
        if head is None or (stall is not None and stall > head):
            head = stall
        if head != stall:  # httpcore2 waits ``read`` for every read: the head's, for the head
            request.extensions = {**extensions, "timeout": {**timeouts, "read": head}}
        try:
            response = await self._inner.handle_async_request(request)
        except httpx2.PoolTimeout:
            cap, wait = self._limits.max_connections_per_origin, timeouts.get("pool")
            raise PoolExhausted(
                f"All {cap} connections to {request.url.host} stayed busy for {wait} s "
                "(upstream.max_connections_per_origin, reliability.pool_timeout)."
            ) from None
        finally:
            request.extensions = extensions  # httpcore2 holds the dict it was given
        problem = self._head_problem(response)
        if problem is not None:
            await response.aclose()
            raise problem
        body = _Body(response.stream, stall if head != stall else None, self._limits.max_body_bytes)
        response.stream = body
        response.extensions["dawai_body"] = body
        return response

    def _head_problem(self, response: httpx2.Response) -> httpx2.HTTPError | None:
        limits = self._limits
        raw = response.headers.raw
        if len(raw) > limits.max_headers:
            return ResponseTooLarge(
                f"The upstream sent more than {limits.max_headers} header fields (upstream.max_headers)."
            )
        if sum(len(name) + len(value) + 4 for name, value in raw) > limits.max_head_bytes:
            size = limits.max_head_bytes
            return ResponseTooLarge(
                f"The upstream sent a response head over {size} bytes (upstream.max_head_bytes)."
            )
        return None

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Body(httpx2.AsyncByteStream):
    """httpx2's response body, with the stall timeout between pieces after the first
    (``stall``; None: httpcore2's own read timeout already is it) and ``max_body_bytes``
    for a body read whole."""

    def __init__(self, stream: Any, stall: float | None, max_body_bytes: int) -> None:
        self._stream = stream
        self._stall = stall
        self._max_body = max_body_bytes
        self._waiting_since: float | None = None  # a read of the upstream is under way
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self._stalled = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        """httpx2's way in: what it reads whole (``aread``) is capped at ``max_body_bytes``."""
        return self._read(self._max_body)

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, uncapped: for a reader that bounds what it keeps."""
        return self._read(None)

    async def _read(self, limit: int | None) -> AsyncIterator[bytes]:
        pieces = aiter(self._stream)
        taken = 0
        stall = self._stall
        loop = asyncio.get_running_loop()
        first = True
        while True:
            if first or stall is None:
                first = False
                try:
                    piece = await anext(pieces)
                except StopAsyncIteration:
                    return
            else:
                piece = await self._guarded(pieces, loop, stall)
                if piece is None:
                    return
            if limit is not None:
                taken += len(piece)
                if taken > limit:
                    await self.aclose()
                    raise ResponseTooLarge(
                        f"The upstream sent a body over {limit} bytes (upstream.max_body_bytes)."
                    )
            yield piece

    async def _guarded(
        self, pieces: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop, stall: float
    ) -> bytes | None:
        """The next piece, or None at the end; ``httpx2.ReadTimeout`` after ``stall``
        seconds without one."""
        self._task = asyncio.current_task()
        self._waiting_since = now = loop.time()
        if self._timer is None:
            self._timer = loop.call_at(now + stall, self._check, loop, stall)
        try:
            return await anext(pieces)
        except StopAsyncIteration:
            return None
        except asyncio.CancelledError:
            if self._stalled and self._task is not None and self._task.uncancel() == 0:
                self._stalled = False
                raise httpx2.ReadTimeout("No data from the upstream within the read timeout.") from None
            raise
        finally:
            self._waiting_since = None

    def _check(self, loop: asyncio.AbstractEventLoop, stall: float) -> None:
        self._timer = None
        since = self._waiting_since
        if since is None:  # nobody is reading: armed again by the next read
            return
        due = since + stall
        if loop.time() < due:
            self._timer = loop.call_at(due, self._check, loop, stall)
        elif self._task is not None:
            self._stalled = True
            self._task.cancel()

    async def aclose(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self._stream.aclose()
