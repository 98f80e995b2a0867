"""``Http1Transport``: a lean HTTP/1.1 transport for the SDKs' ``httpx2`` clients.

The official SDKs still build, authenticate and send every request and turn error
statuses into their exceptions; this transport only moves the bytes. It writes the
request in one call on a pooled keep-alive connection (an ``asyncio.Protocol``), parses
the response with ``httptools`` (the C parser uvicorn uses) and hands the body over as it
arrives; the measurements that led here are in docs/adr/0008.

* Pool: up to ``max_idle_per_origin`` idle connections per origin, the most recently
  used taken first, O(1) to take and to give back; one closed by the server, or idle
  longer than ``keepalive_expiry``, is dropped (a timer sweeps them out while no
  request comes). Open connections, idle or busy, are capped per origin by
  ``ConnectionSlots`` (``slots.py``; ``limits.max_connections_per_origin``, shared by
  every transport handed the same instance): at the cap a request closes the oldest idle
  connection to make room, or waits in turn, up to the pool timeout, for a connection
  given back (handed to it as it is) or a slot freed (``PoolExhausted`` after that).
  A reused connection that the server had already closed is retried once on a new one,
  as long as not one byte of the response had arrived, and the request never left or its
  method is idempotent (a POST the upstream may have read fails as a connection error,
  for the caller's retry policy to judge). Interim 1xx responses are skipped; bytes after
  a complete response retire its connection.
* Connecting (``connect.py``): the host's addresses from ``HostResolver``, reused for
  ``limits.dns_ttl`` seconds and maybe shared with other transports, then Happy Eyeballs
  (RFC 8305) across them with ``aiohappyeyeballs``; TLS on the socket that won.
* Timeouts: ``pool`` while waiting at the cap; ``connect`` while connecting (name
  resolution, TCP and TLS together); ``head_timeout`` (the provider's whole-response
  timeout) for the response head and the body's first byte (a reply sent whole only
  starts once it is written; a stream's first token is the core's to time); after that,
  ``read`` (the request's own ``timeout`` extension: the stall timeout) between bytes of
  the body, on one timer per connection, moved lazily.
* Limits (``UpstreamLimits``), as h11 and aiohttp keep them around a parser that has
  none: the head (status line and headers, interim responses included) and the trailers
  may hold ``max_head_bytes`` and ``max_headers``, a body read whole through httpx2
  ``max_body_bytes`` (streams read with ``response_chunks`` are capped per event by the
  SSE reader). Past one, the exchange fails with ``ResponseTooLarge`` and the connection
  closes, with no more than the limit and one socket read held.
* Trailers are dropped, never merged into the headers. A 101 is an error, and so is a
  transfer coding other than ``chunked`` alone; a ``HEAD`` response ends at its head (and
  its connection is not reused); empty lines after a response are skipped in whatever
  read they come; methods other than ``METHODS`` are refused before anything is sent. A
  body read after its response was closed raises ``httpx2.StreamClosed``. Where this
  reads a response differently from h11, on purpose, is listed in docs/adr/0008.
* Idle connections expire after ``keepalive_expiry`` (shorter than the 5 s common
  servers keep them), or one second before the server's own ``Keep-Alive: timeout``,
  up to ``max_keepalive_expiry``. TLS offers ALPN ``http/1.1`` only.
* Closing a response before its body is complete closes the connection, so the upstream
  sees its client leave (client disconnects cancel the upstream request).
* Header names and values, and the request target, holding CR, LF or NUL are refused
  before any connection is opened (as h11 refuses them): nothing that reached the
  request can write headers or a request of its own onto the connection.
* Not supported: proxies, HTTP/2, ``Expect: 100-continue``, ``CONNECT``. Bodies are sent
  whole.
"""

from __future__ import annotations

import asyncio
import collections
import re
import ssl
from collections.abc import AsyncIterator
from typing import Any, cast

import httptools
import httpx2

from dawai.adapters.upstream.connect import HostResolver, open_socket
from dawai.adapters.upstream.slots import ConnectionSlots, Gate
from dawai.core.settings import UpstreamLimits

__all__ = ["METHODS", "Http1Transport", "ResponseTooLarge", "response_chunks"]

_HIGH_WATER = 1 << 20  # buffered body bytes before reading from the socket pauses
_DEFAULT_PORTS = {b"http": 80, b"https": 443}
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})  # others are refused
_KEEP_ALIVE_TIMEOUT = re.compile(rb"timeout\s*=\s*(\d{1,9})", re.IGNORECASE)
_ALPN = ["http/1.1"]


class ResponseTooLarge(httpx2.RemoteProtocolError):
    """An upstream response went past one of ``UpstreamLimits``; the message names it."""


_LINE_BREAKING = re.compile(rb"[\r\n\x00]")
_OWS = (0x20, 0x09)  # SP, HTAB


class _Connection(asyncio.Protocol):
    """One keep-alive connection; at most one exchange on it at a time."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, origin: tuple[bytes, bytes, int], limits: UpstreamLimits
    ) -> None:
        self.loop = loop
        self.origin = origin
        self.limits = limits
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.idle_since = 0.0
        self.expiry = 0.0  # seconds it may stay idle, set when it goes back to the pool
        self.active = False  # an exchange is under way (between start and release)
        self.gate: Gate | None = None  # the cap's slot it holds while open
        self._parser = httptools.HttpResponseParser(self)
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.headers_done: asyncio.Future[None] = self.loop.create_future()
        self.complete = False
        self.keep_alive = False
        self.error: BaseException | None = None
        self.received_any = False
        self.read_timeout: float | None = None  # the wait for the body's first byte, then the stall timeout
        self._stall_timeout: float | None = None
        self._before_body = True
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_activity = 0.0
        self._paused = False
        self._interim = False
        self._extra = False
        self._http10 = False  # the response said HTTP/1.0: its connection is not reused
        self.head_only = False  # the request was a HEAD
        self.keep_alive_header: bytes | None = None
        self._in_head = True
        self._head_bytes = 0
        self._header_count = 0
        # The last chunk's trailers: after a chunk header with no body yet (a chunk's body
        # may also start in the next read: that read is not counted), bytes fed count.
        self._chunk_empty = False
        self._trailer_reads = 0
        self._trailer_bytes = 0

    # -- asyncio.Protocol --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream connection's, read and written

    def data_received(self, data: bytes) -> None:
        if not self.active or self.complete:
            if not data.strip(b"\r\n"):
                # Empty lines after a response: skipped, as llhttp skips them when they
                # come in the same read, so the connection stays usable however split.
                return
            # Bytes on an idle connection (a late 408, say) or after the response: the
            # connection can't be trusted with another exchange.
            self.close()
            return
        self.received_any = True
        self._last_activity = self.loop.time()
        if self._in_head:
            room = self.limits.max_head_bytes - self._head_bytes
            if len(data) > room:  # feed the head's allowance only: its parse is bounded too
                view = memoryview(data)
                if not self._feed(view[:room]):
                    return
                if self._in_head:
                    self._refuse(f"a response head over {self.limits.max_head_bytes} bytes", "max_head_bytes")
                    return
                if not self._feed(view[room:]):
                    return
            else:
                self._head_bytes += len(data)
                if not self._feed(data):
                    return
        elif not self._feed(data):
            return
        if self._chunk_empty and not self.complete:
            self._trailer_reads += 1
            if self._trailer_reads > 1:
                self._trailer_bytes += len(data)
                if self._trailer_bytes > self.limits.max_head_bytes:
                    self._refuse(f"trailers over {self.limits.max_head_bytes} bytes", "max_head_bytes")
                    return
        if self._extra:  # bytes after the response in the same segment: it stands, the connection not
            self.keep_alive = False
            self.close()

    def _feed(self, data: bytes | memoryview) -> bool:
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            if not self.complete:  # a limit or a 101 that failed first keeps its own error
                self._fail(httpx2.RemoteProtocolError(f"Invalid HTTP response from the upstream: {exc}"))
            self.close()
            return False
        return True

    def _refuse(self, what: str, setting: str) -> BaseException:
        """Fail and close past a limit; the connection's error (an earlier one stands)."""
        refused = ResponseTooLarge(f"The upstream sent {what} (upstream.{setting}).")
        self._fail(refused)
        self.close()
        return self.error or refused

    def _stop(self, what: str) -> BaseException:
        """Fail and close on a response we do not read; the error for a parser callback
        to raise, which stops the parser (an earlier error stands)."""
        refused = httpx2.RemoteProtocolError(f"The upstream sent {what}.")
        self._fail(refused)
        self.close()
        return self.error or refused

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.gate is not None:
            self._free_slot()
        if self.complete or self.error is not None:
            return
        if exc is None and self.headers_done.done() and self._delimited_by_close():
            self._finish()  # a body delimited by the close ends with a clean close only
            return
        if self.headers_done.done():
            self._fail(httpx2.ReadError("The upstream closed the connection before the body was complete."))
        else:
            self._fail(httpx2.RemoteProtocolError("The upstream disconnected without sending a response."))

    def pause_writing(self) -> None:  # request bodies are small and written at once
        pass

    def resume_writing(self) -> None:
        pass

    # -- httptools callbacks -----------------------------------------------------------
    # Once the response is complete, whatever else the parser finds (a second response, a
    # body a 204 should not have) is noted and dropped, never mixed into this one.
    def on_status(self, status: bytes) -> None:
        if self.complete:
            self._extra = True
            return
        self.reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.complete:
            self._extra = True
            return
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            # raised here, it stops the parser
            raise self._refuse(f"more than {self.limits.max_headers} header fields", "max_headers")
        if not self._in_head:  # a trailer: dropped, as h11 and aiohttp drop them
            return
        if value and value[-1] in _OWS:  # llhttp keeps trailing whitespace; it is no part of the value
            value = value.rstrip(b" \t")
        if len(name) == 10 and name.lower() == b"keep-alive":
            self.keep_alive_header = value
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.complete:
            self._extra = True
            return
        status = self._parser.get_status_code()
        version = self._parser.get_http_version()
        if status < 100 or (version != "1.1" and version != "1.0"):
            # llhttp reads any three digits, and lets HTTP/0.9 and 2.0 through: neither
            # answers a request sent as HTTP/1.1.
            raise self._stop(f"an invalid status line (HTTP/{version} {status:03d})")
        if status < 200 and status != 101:
            # An interim response (100 Continue, 103 Early Hints): the final one follows.
            self._interim = True
            self.reason, self.headers = b"", []
            return
        if status == 101:  # never asked for: the bytes that follow are another protocol
            self._fail(httpx2.RemoteProtocolError("The upstream switched protocols (HTTP 101)."))
            self.close()
            return
        if self._unsupported_coding():
            # gzip, deflate ... as transfer codings: llhttp would hand the coded bytes over
            # as the body, or read a body until the close; h11 refuses them too.
            raise self._stop("a transfer coding other than chunked")
        self.status = status
        self._http10 = version == "1.0"
        self._in_head = False
        if not self.headers_done.done():
            self.headers_done.set_result(None)
        if self.head_only:  # no body follows, whatever the headers say: the parser can't be told
            self._finish()

    def on_chunk_header(self) -> None:
        self._chunk_empty = True
        self._trailer_reads = self._trailer_bytes = 0

    def on_body(self, body: bytes) -> None:
        if self.complete:
            self._extra = True
            return
        if self._chunk_empty:
            self._chunk_empty = False
        if self._before_body:  # from here on, the stall timeout between bytes
            self._before_body = False
            self.read_timeout = self._stall_timeout
            self.release_timer()
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.error is not None:
            return
        if self._interim:
            self._interim = False
            return
        if self.complete:
            self._extra = True
            return
        # HTTP/1.0 keep-alive is optional (RFC 9112 9.3) and faulty with a transfer coding
        # (6.1); h11 never reuses such a connection either.
        self.keep_alive = not self._http10 and self._parser.should_keep_alive()
        self._finish()

    # -- state -------------------------------------------------------------------------
    def _unsupported_coding(self) -> bool:
        """The response names a transfer coding, and it is not ``chunked`` alone."""
        codings: list[bytes] = []
        for name, value in self.headers:
            if len(name) == 17 and name.lower() == b"transfer-encoding":
                codings += (c.strip().lower() for c in value.split(b","))
        return bool(codings) and codings != [b"chunked"]

    def _delimited_by_close(self) -> bool:
        for name, value in self.headers:
            lower = name.lower()
            if lower == b"content-length" or (lower == b"transfer-encoding" and b"chunked" in value.lower()):
                return False
        return True

    def _finish(self) -> None:
        self.complete = True
        if not self.headers_done.done():
            self.headers_done.set_result(None)
        self._wake()

    def _fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        if not self.headers_done.done():
            self.headers_done.set_exception(exc)
            self.headers_done.exception()  # retrieved: a lone failure is no warning
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def take(self) -> bytes:
        """Everything buffered, as one piece."""
        chunks = self.chunks
        data = chunks.popleft() if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    async def wait(self) -> None:
        """Until more body, the end or a failure; ``read_timeout`` between bytes."""
        self._waiter = waiter = self.loop.create_future()
        if self.read_timeout is not None:
            # The timeout runs from the last byte or from when the reader came back to
            # wait, whichever is later: a slow reader is not the upstream's fault.
            self._last_activity = max(self._last_activity, self.loop.time())
            if self._timer is None:
                self._timer = self.loop.call_at(self._last_activity + self.read_timeout, self._check_idle)
        try:
            await waiter
        finally:
            self._waiter = None

    def _check_idle(self) -> None:
        self._timer = None
        if self.complete or self.error is not None or self.read_timeout is None:
            return
        due = self._last_activity + self.read_timeout
        if self.loop.time() < due:
            self._timer = self.loop.call_at(due, self._check_idle)
        elif self._waiter is not None:
            self._fail(httpx2.ReadTimeout("No data from the upstream within the read timeout."))
            self.close()
        else:  # nobody is reading: check again once someone waits
            pass

    def start(
        self, payload: bytes, read_timeout: float | None, first_byte_timeout: float | None, head_only: bool
    ) -> None:
        """``first_byte_timeout`` until the body's first byte (a stream's first token is
        the core's to time), ``read_timeout`` between bytes after it."""
        self.read_timeout = first_byte_timeout
        self._stall_timeout = read_timeout
        self.head_only = head_only
        self._last_activity = self.loop.time()
        self.active = True
        transport = self.transport
        if transport is None or transport.is_closing():
            raise httpx2.RemoteProtocolError("The connection closed before the request was sent.")
        try:
            transport.write(payload)
        except (OSError, RuntimeError) as exc:
            raise httpx2.RemoteProtocolError("The connection closed before the request was sent.") from exc

    def release_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        self.release_timer()
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()
        if self.gate is not None:
            self._free_slot()

    def _free_slot(self) -> None:
        gate, self.gate = self.gate, None
        if gate is not None:
            gate.idle.pop(self, None)
            gate.free()


class _Body(httpx2.AsyncByteStream):
    def __init__(self, transport: Http1Transport, conn: _Connection) -> None:
        self._transport = transport
        self._conn: _Connection | None = conn

    def __aiter__(self) -> AsyncIterator[bytes]:
        """httpx2's way in: what it reads whole (``aread``) is capped at ``max_body_bytes``."""
        conn = self._conn
        return self._read(conn.limits.max_body_bytes if conn is not None else 0)

    def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives, uncapped: for a reader that bounds what it keeps."""
        return self._read(None)

    async def _read(self, limit: int | None) -> AsyncIterator[bytes]:
        conn = self._conn
        taken = 0
        while True:
            if self._conn is not conn or conn is None:  # closed: its connection may carry another
                raise httpx2.StreamClosed()
            if conn.chunks:
                data = conn.take()
                if limit is not None:
                    taken += len(data)
                    if taken > limit:
                        self._conn = None
                        raise conn._refuse(f"a body over {limit} bytes", "max_body_bytes")
                yield data
            elif conn.error is not None:
                raise conn.error
            elif conn.complete:
                return
            else:
                await conn.wait()

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._transport._release(conn)


def response_chunks(response: httpx2.Response) -> AsyncIterator[bytes]:
    """The body of a streamed response as it arrives: straight from the transport
    (``Http1Transport``, ``HttpxTransport``: its ``dawai_body``) when it carried the
    response unencoded, else through httpx2's own decoding."""
    body = response.extensions.get("dawai_body")
    if body is not None and "content-encoding" not in response.headers:
        response.is_stream_consumed = True
        return body.chunks()
    return response.aiter_bytes()


class Http1Transport(httpx2.AsyncBaseTransport):
    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_idle_per_origin: int = 32,
        keepalive_expiry: float = 4.0,
        max_keepalive_expiry: float = 60.0,
        head_timeout: float | None = None,
        limits: UpstreamLimits | None = None,
        connection_slots: ConnectionSlots | None = None,
        host_resolver: HostResolver | None = None,
    ) -> None:
        """``head_timeout``: the wait for a response head (None: the request's ``read``
        timeout); ``keepalive_expiry``: idle seconds when the server says none;
        ``connection_slots``: the cap on open connections per origin, shared with other
        transports (default: this transport's own, ``limits.max_connections_per_origin``);
        ``host_resolver``: name look-ups and the answers kept, maybe shared (default: this
        transport's own, kept ``limits.dns_ttl`` seconds)."""
        if ssl_context is not None:
            ssl_context.set_alpn_protocols(_ALPN)
        self._ssl = ssl_context
        self._max_idle = max_idle_per_origin
        self._expiry = keepalive_expiry
        self._max_expiry = max_keepalive_expiry
        self._head_timeout = head_timeout
        self._limits = limits or UpstreamLimits()
        if connection_slots is None:
            connection_slots = ConnectionSlots(self._limits.max_connections_per_origin)
        self._slots = connection_slots
        self._resolver = HostResolver(self._limits.dns_ttl) if host_resolver is None else host_resolver
        self._idle: dict[tuple[bytes, bytes, int], list[_Connection]] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweeper_loop: asyncio.AbstractEventLoop | None = None
        self._sweep_at = 0.0
        self._closed = False

    # -- pool --------------------------------------------------------------------------
    def _idle_connection(
        self, origin: tuple[bytes, bytes, int], loop: asyncio.AbstractEventLoop
    ) -> _Connection | None:
        idle = self._idle.get(origin)
        now = loop.time()
        while idle:
            conn = idle.pop()  # the most recently used is the likeliest to be alive
            if conn.gate is not None:
                conn.gate.idle.pop(conn, None)
            if conn.loop is not loop:  # left over from another event loop: unusable here
                _close_on_its_loop(conn, loop)
                continue
            transport = conn.transport
            alive = transport is not None and not transport.is_closing()
            if alive and not conn.closed and now - conn.idle_since < conn.expiry:
                return conn
            conn.close()
        return None

    def _release(self, conn: _Connection) -> None:
        conn.release_timer()
        conn.active = False
        if self._closed or conn.closed or not conn.complete or not conn.keep_alive or conn.chunks:
            conn.close()
            return
        expiry = self._expiry_of(conn.keep_alive_header)
        if expiry <= 0:
            conn.close()
            return
        conn._reset()  # ready for the next exchange
        gate = conn.gate
        if gate is not None and gate.waiters:  # at the cap, with requests waiting in turn
            handed = gate.hand_over(conn, self)
            if handed is not None:
                if not handed:  # the first waiter is another transport's: it gets the slot
                    conn.close()
                return
        conn.expiry = expiry
        conn.idle_since = now = conn.loop.time()
        idle = self._idle.setdefault(conn.origin, [])
        if len(idle) >= self._max_idle:
            _close_on_its_loop(idle.pop(0), conn.loop)  # the oldest goes
        idle.append(conn)
        if gate is not None:
            gate.idle[conn] = None
        due = now + expiry
        if self._sweeper is None or self._sweeper_loop is not conn.loop or due < self._sweep_at:
            if self._sweeper is not None and self._sweeper_loop is conn.loop:
                self._sweeper.cancel()
            self._sweeper_loop, self._sweep_at = conn.loop, due
            self._sweeper = conn.loop.call_at(due, self._sweep)

    def _expiry_of(self, keep_alive: bytes | None) -> float:
        """Idle seconds for a connection: a second less than the server's ``Keep-Alive:
        timeout`` (up to ``max_keepalive_expiry``), else ``keepalive_expiry``."""
        if keep_alive is None:
            return self._expiry
        said = _KEEP_ALIVE_TIMEOUT.search(keep_alive)
        if said is None:
            return self._expiry
        return min(float(said.group(1)) - 1.0, self._max_expiry)

    def _sweep(self) -> None:
        """Close connections idle past their expiry, even when no request comes."""
        self._sweeper = None
        loop = asyncio.get_running_loop()
        now, next_due = loop.time(), None
        for origin, idle in list(self._idle.items()):
            kept = []
            for conn in idle:
                if conn.loop is not loop or conn.closed or now - conn.idle_since >= conn.expiry:
                    _close_on_its_loop(conn, loop)
                else:
                    kept.append(conn)
                    due = conn.idle_since + conn.expiry
                    next_due = due if next_due is None else min(next_due, due)
            if kept:
                idle[:] = kept
            else:
                del self._idle[origin]
        if next_due is not None and not self._closed:
            self._sweeper_loop, self._sweep_at = loop, next_due
            self._sweeper = loop.call_at(next_due, self._sweep)

    async def _open(
        self, loop: asyncio.AbstractEventLoop, origin: tuple[bytes, bytes, int], request: httpx2.Request
    ) -> tuple[_Connection, bool]:
        """A new connection, once the cap leaves a slot for it; or a pooled one that this
        transport gave back while the request waited in turn (``True``)."""
        timeouts = request.extensions.get("timeout") or {}
        gate = self._slots.gate(loop, origin)
        if gate is not None and not gate.take():
            where = f"{origin[1].decode('ascii')}:{origin[2]}"
            handed = await gate.wait(self, timeouts.get("pool"), where)
            if handed is not None:
                return handed, True
        try:
            conn = await self._connect(loop, origin, request, timeouts.get("connect"))
        except BaseException:
            if gate is not None:
                gate.free()
            raise
        conn.gate = gate
        return conn, False

    async def _connect(
        self,
        loop: asyncio.AbstractEventLoop,
        origin: tuple[bytes, bytes, int],
        request: httpx2.Request,
        timeout: float | None,
    ) -> _Connection:
        scheme, host, port = origin
        tls: ssl.SSLContext | None = None
        server_hostname = None
        if scheme == b"https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
                self._ssl.set_alpn_protocols(_ALPN)
            tls = self._ssl
            sni = request.extensions.get("sni_hostname")
            server_hostname = sni.decode() if isinstance(sni, bytes) else (sni or host.decode("ascii"))
        conn = _Connection(loop, origin, self._limits)
        try:
            async with asyncio.timeout(timeout):  # the look-up, TCP and TLS together
                sock = await open_socket(self._resolver, host.decode("ascii"), port)
                try:
                    transport, _ = await loop.create_connection(
                        lambda: conn, sock=sock, ssl=tls, server_hostname=server_hostname
                    )
                except BaseException:
                    sock.close()
                    raise
        except TimeoutError:
            raise httpx2.ConnectTimeout("Timed out connecting to the upstream.") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx2.ConnectError(f"Could not connect to the upstream ({type(exc).__name__}).") from exc
        tls_object = transport.get_extra_info("ssl_object") if tls is not None else None
        if tls_object is not None and tls_object.selected_alpn_protocol() not in (None, "http/1.1"):
            conn.close()
            raise httpx2.ConnectError("The upstream chose a protocol other than HTTP/1.1 (ALPN).")
        return conn

    # -- httpx2 ------------------------------------------------------------------------
    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if self._closed:
            raise httpx2.ConnectError("The transport is closed.")
        url = request.url
        scheme = url.raw_scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx2.UnsupportedProtocol(f"Unsupported URL scheme {url.scheme!r}.")
        method = request.method
        if method not in METHODS:
            raise httpx2.UnsupportedProtocol(f"Unsupported method {method[:20]!r}; nothing was sent.")
        origin = (scheme, url.raw_host, url.port or _DEFAULT_PORTS[scheme])
        payload = await _serialize(request)
        timeouts = request.extensions.get("timeout") or {}
        read_timeout = timeouts.get("read")
        head_timeout = self._head_timeout
        if head_timeout is None or (read_timeout is not None and read_timeout > head_timeout):
            head_timeout = read_timeout
        head_only = method == "HEAD"
        loop = asyncio.get_running_loop()
        conn = self._idle_connection(origin, loop)
        reused = conn is not None
        may_retry = True
        while True:
            if conn is None:
                conn, reused = await self._open(loop, origin, request)
            sent = False
            try:
                conn.start(payload, read_timeout, head_timeout, head_only)
                sent = True
                async with asyncio.timeout(head_timeout):
                    await conn.headers_done
            except TimeoutError:
                conn.close()
                raise httpx2.ReadTimeout("The upstream sent no response within the read timeout.") from None
            except httpx2.RemoteProtocolError:
                conn.close()
                if may_retry and reused and not conn.received_any and (not sent or method in _IDEMPOTENT):
                    # The server had closed this idle connection: once more, on a new one.
                    # A POST only if it never left: the upstream may have read it (a second,
                    # billed completion), so the caller's retry policy decides instead.
                    conn, may_retry = None, False
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            break
        body = _Body(self, conn)
        extensions: dict[str, Any] = {"http_version": b"HTTP/1.1", "dawai_body": body}
        if conn.reason:
            extensions["reason_phrase"] = conn.reason
        return httpx2.Response(
            status_code=conn.status,
            headers=conn.headers,
            stream=body,
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        idle, self._idle = self._idle, {}
        loop = asyncio.get_running_loop()
        for connections in idle.values():
            for conn in connections:
                _close_on_its_loop(conn, loop)


def _close_on_its_loop(conn: _Connection, loop: asyncio.AbstractEventLoop) -> None:
    """Close ``conn`` from ``loop``: directly if it is its own, else on its own event loop
    while that still runs (its socket otherwise goes with the garbage collector)."""
    if conn.loop is loop:
        conn.close()
        return
    try:
        conn.loop.call_soon_threadsafe(conn.close)
    except RuntimeError:  # that loop is closed
        conn.closed = True


async def _serialize(request: httpx2.Request) -> bytes:
    """The request head and body, ready for one write."""
    try:
        content = request.content
    except httpx2.RequestNotRead:
        content = await request.aread()
    headers = request.headers.raw
    if any(name.lower() == b"transfer-encoding" for name, _ in headers):  # sent whole instead
        headers = [(n, v) for n, v in headers if n.lower() not in (b"transfer-encoding", b"content-length")]
        headers.append((b"Content-Length", str(len(content)).encode()))
    target = request.url.raw_path
    fields = [request.method.encode("ascii"), target]
    for name, value in headers:
        fields += (name, value)
    if _LINE_BREAKING.search(b"".join(fields)):  # one scan of every name and value
        raise httpx2.LocalProtocolError(
            "A request header or the request target holds CR, LF or NUL; nothing was sent.",
            request=request,
        )
    parts = [fields[0], b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts += (b"\r\n", content)
    return b"".join(parts)
