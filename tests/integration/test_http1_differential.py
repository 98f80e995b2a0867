"""``Http1Transport`` (llhttp, through httptools) against h11's client-side parser.

Hypothesis writes HTTP/1.1 responses from a small grammar (status line, headers, bodies
framed by Content-Length, chunked with extensions and trailers, or by the close), then
mutates them the ways upstreams and middleboxes get them wrong: conflicting framing
headers, bare LF line endings, obs-fold continuation lines, interim 1xx heads (a 101
among them), HEAD requests and 204/304 answers with a body anyway, bytes after the
message, invalid header names and values, heads past the transport's limits, and any
split of the bytes on the wire.

Each case goes to our transport over a real loopback connection (the scripted server of
``test_http1_transport.py``, writing the bytes in the case's pieces) and to
``h11.Connection(h11.CLIENT)`` fed the same pieces after the same request. Both must
agree on the status, the headers (names lower-cased, order kept; trailers are not
headers), the body and whether the connection may carry another exchange, or both must
refuse. Where we differ on purpose, ``KNOWN_DIFFERENCES`` says so and why (and ADR 8,
"Differences from h11, on purpose"); any other disagreement is a bug.

CI runs a fixed, bounded set of examples (``DIFFERENTIAL`` profile); to hunt, run with
``DAWAI_DIFFERENTIAL_EXAMPLES=5000`` (random, not derandomized).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import h11
import httpx2
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from dawai.adapters.upstream.http1 import Http1Transport
from dawai.core.settings import UpstreamLimits
from tests.integration.test_http1_transport import Scripted, _client, run

# Small limits, so that heads past them are cheap to write; h11 gets the same byte cap.
LIMITS = UpstreamLimits(max_head_bytes=2048, max_headers=16)
READ_TIMEOUT = 1.0  # only a parser waiting for bytes that never come meets it

_EXAMPLES = int(os.environ.get("DAWAI_DIFFERENTIAL_EXAMPLES", "0"))
settings.register_profile(
    "differential-ci",
    max_examples=250,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "differential-hunt",
    max_examples=max(_EXAMPLES, 1),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DIFFERENTIAL = settings.get_profile("differential-hunt" if _EXAMPLES else "differential-ci")


# -- outcomes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    reusable: bool


@dataclass(frozen=True)
class Refused:
    why: str = field(compare=False)


Outcome = Answer | Refused


def _normalised(headers: list[tuple[bytes, bytes]]) -> tuple[tuple[bytes, bytes], ...]:
    """Names lower-cased, order kept; h11 also lower-cases Transfer-Encoding's value."""
    out = []
    for name, value in headers:
        name = name.lower()
        out.append((name, value.lower() if name == b"transfer-encoding" else value))
    return tuple(out)


# -- the grammar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    wire: bytes  # every byte the server sends, in order
    cuts: tuple[int, ...]  # where the server splits them into separate writes
    close: bool  # the server closes after the last byte (else it waits for the client)
    tags: frozenset[str]  # the mutations applied, for KNOWN_DIFFERENCES

    def pieces(self) -> list[bytes]:
        out, start = [], 0
        for cut in sorted(set(self.cuts)):
            if start < cut < len(self.wire):
                out.append(self.wire[start:cut])
                start = cut
        out.append(self.wire[start:])
        return out


_TOKEN = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).map(str.encode)
_VALUE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=0, max_size=30).map(
    str.encode
)
_PLAIN_NAMES = [
    b"content-type",
    b"server",
    b"date",
    b"cache-control",
    b"x-request-id",
    b"ETag",
    b"X-Mixed-Case",
]


@st.composite
def _header(draw: st.DrawFn) -> tuple[bytes, bytes]:
    name = draw(st.sampled_from(_PLAIN_NAMES) | _TOKEN.map(lambda t: b"x-" + t))
    value = draw(_VALUE)
    if value and draw(st.booleans()):
        value = value[: len(value) // 2] + b" " + value[len(value) // 2 :]  # inner space
    return name, value


_ODD_STATUS_LINES = [
    *(b"HTTP/1.1 2000 OK", b"HTTP/1.1 20 OK", b"HTTP/1.1 099 Low", b"HTTP/1.1  200 OK", b"http/1.1 200 OK"),
    *(b"HTTP/1.1 200\tOK", b"HTTP/1.1 200 caf\xe9", b"HTTP/2.0 200 OK", b"HTTP/1.2 200 OK"),
]
_STATUSES = st.sampled_from([200, 200, 200, 201, 204, 206, 304, 400, 404, 429, 500, 503]) | st.integers(
    200, 599
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    tags: set[str] = set()
    method = draw(st.sampled_from(["GET", "GET", "POST", "HEAD"]))
    if method == "HEAD":
        tags.add("head")

    # line endings: CRLF everywhere, or a bare LF on some lines
    bare_lf = draw(st.sampled_from(["none"] * 10 + ["all", "some"]))

    def eol() -> bytes:
        if bare_lf == "all" or (bare_lf == "some" and draw(st.booleans())):
            tags.add("bare-lf")
            return b"\n"
        return b"\r\n"

    def head(status_line: bytes, fields: list[bytes]) -> bytes:
        return status_line + eol() + b"".join(f + eol() for f in fields) + eol()

    wire = b""
    # interim responses before the final one
    for interim in draw(st.lists(st.sampled_from([100, 103, 103, 101]), max_size=2)):
        tags.add(f"interim-{interim}")
        fields = [b"link: </style.css>; rel=preload"] if interim == 103 else []
        if interim == 101:
            fields = [b"upgrade: websocket", b"connection: upgrade"]
        wire += head(b"HTTP/1.1 %d %s" % (interim, b"Interim"), fields)

    status = draw(_STATUSES)
    version = draw(st.sampled_from([b"HTTP/1.1"] * 9 + [b"HTTP/1.0"]))
    if version == b"HTTP/1.0":
        tags.add("http10")
    reason = draw(st.sampled_from([b"OK", b"", b"Some Reason", b"x"]))
    status_line = version + b" %d" % status + (b" " + reason if reason or draw(st.booleans()) else b"")
    if status in (204, 304):
        tags.add(f"status-{status}")
    if draw(st.integers(0, 19)) == 0:
        status_line = draw(st.sampled_from(_ODD_STATUS_LINES))
        tags.add("other-version" if status_line[5:8] in (b"2.0", b"1.2") else "odd-status-line")

    headers = [b"%s: %s" % h for h in draw(st.lists(_header(), max_size=6))]
    body = draw(st.binary(max_size=300))
    framing = draw(st.sampled_from(["length", "length", "chunked", "chunked", "close"]))
    tags.add(f"framing-{framing}")
    close = framing == "close"

    if framing == "length":
        headers.append(b"Content-Length: %d" % len(body))
        payload = body
    elif framing == "chunked":
        headers.append(b"Transfer-Encoding: chunked")
        payload = b""
        sizes = draw(st.lists(st.integers(1, 120), max_size=5))
        rest = body
        for size in [*sizes, len(body)]:
            piece, rest = rest[:size], rest[size:]
            if not piece:
                continue
            ext = b""
            if draw(st.integers(0, 4)) == 0:
                ext = draw(st.sampled_from([b";a", b";name=value", b';q="quoted"', b"; spaced=1"]))
                tags.add("chunk-ext-spaced" if b" " in ext else "chunk-ext")
            size = b"%x" % len(piece)
            if draw(st.integers(0, 9)) == 0:
                size = draw(st.sampled_from([b"000" + size, size.upper(), size + b" ", size + b"\t"]))
                tags.add("chunk-size-ws" if size[-1:] in b" \t" else "chunk-size-form")
            payload += size + ext + eol() + piece + eol()
        payload += b"0" + eol()
        for trailer in draw(
            st.lists(
                st.sampled_from([b"content-encoding: gzip", b"x-trailer: 1", b"content-length: 999"]),
                max_size=2,
            )
        ):
            tags.add("trailer-content-length" if trailer.startswith(b"content-length") else "trailers")
            payload += trailer + eol()
        payload += eol()
    else:
        payload = body

    # framing mutations
    mutation = draw(
        st.sampled_from(
            ["none"] * 8
            + ["cl+te", "two-cl", "dup-cl", "cl-list", "te-not-chunked", "te-gzip-chunked", "truncated"]
            + ["odd-cl", "huge-chunk", "te-forms"]
        )
    )
    if mutation == "cl+te":
        headers.insert(draw(st.integers(0, len(headers))), b"Content-Length: %d" % len(payload))
        if framing != "chunked":
            headers.append(b"Transfer-Encoding: chunked")
        tags.add(mutation)
    elif mutation in ("two-cl", "dup-cl", "cl-list") and framing == "length":
        other = len(body) + (draw(st.integers(1, 5)) if mutation == "two-cl" else 0)
        if mutation == "cl-list":
            headers[-1] = b"Content-Length: %d, %d" % (len(body), other)
        else:
            headers.insert(draw(st.integers(0, len(headers))), b"Content-Length: %d" % other)
        tags.add(mutation)
    elif mutation == "te-not-chunked" and framing == "close":
        headers.append(
            b"Transfer-Encoding: " + draw(st.sampled_from([b"gzip", b"identity", b"chunked, gzip"]))
        )
        tags.add(mutation)
    elif mutation == "te-gzip-chunked" and framing == "chunked":
        headers[-1] = b"Transfer-Encoding: gzip, chunked"
        tags.add(mutation)
    elif mutation == "te-forms" and framing == "chunked":
        headers[-1:] = draw(
            st.sampled_from(
                [
                    [b"Transfer-Encoding: Chunked"],
                    [b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"],
                    [b"Transfer-Encoding: chunked, chunked"],
                    [b"Transfer-Encoding: identity", b"Transfer-Encoding: chunked"],
                ]
            )
        )
        tags.add(mutation)
    elif mutation == "odd-cl" and framing == "length":
        form = draw(
            st.sampled_from([b"+%d", b" %d ", b"-%d", b"0x%d", b"000%d", b"%d0000000000000000000000"])
        )
        headers[-1] = b"Content-Length: " + form % len(body)
        tags.add("odd-cl")
    elif mutation == "huge-chunk" and framing == "chunked":
        payload = b"ffffffffffffffffffff" + eol() + body
        close = True
        tags.add(mutation)
    elif mutation == "truncated" and framing != "close" and payload:
        payload = payload[: draw(st.integers(0, len(payload) - 1))]
        close = True
        tags.add(mutation)

    # header mutations
    header_mutation = draw(
        st.sampled_from(
            ["none"] * 10
            + ["fold", "nul", "cr", "space-before-colon", "space-in-name", "bad-name", "empty-name"]
            + ["value-ws", "value-obs-text", "value-ctl", "value-del"]
        )
    )
    if header_mutation != "none":
        tags.add(header_mutation)
        at = draw(st.integers(0, len(headers)))
        headers.insert(
            at,
            {
                "fold": b"x-folded: first" + eol() + draw(st.sampled_from([b" ", b"\t", b"  "])) + b"second",
                "nul": b"x-nul: a\x00b",
                "cr": b"x-cr: a\rb",
                "space-before-colon": b"x-spaced : v",
                "space-in-name": b"x spaced: v",
                "bad-name": b"x[bad]: v",
                "empty-name": b": v",
                "value-ws": b"x-ws: \t v \t ",
                "value-obs-text": b"x-obs: caf\xe9",
                "value-ctl": b"x-ctl: a\x01b",
                "value-del": b"x-del: a\x7fb",
            }[header_mutation],
        )

    # connection management
    connection = draw(st.sampled_from([None] * 6 + [b"close", b"keep-alive", b"Keep-Alive: timeout=5"]))
    if connection == b"Keep-Alive: timeout=5":
        headers.append(connection)
    elif connection is not None:
        headers.append(b"Connection: " + connection)
        tags.add(f"connection-{connection.decode()}")
        if connection == b"close":
            close = close or draw(st.booleans())

    # heads past the limits
    oversized = draw(st.sampled_from(["none"] * 12 + ["long-line", "many-fields"]))
    if oversized == "long-line":
        headers.insert(0, b"x-long: " + b"a" * (2 * LIMITS.max_head_bytes))
        tags.add(oversized)
    elif oversized == "many-fields":
        headers[:0] = [b"x-n%d: 1" % i for i in range(2 * LIMITS.max_headers)]
        tags.add(oversized)

    wire += head(status_line, headers) + payload

    # bytes after the message
    extra = draw(
        st.sampled_from(
            [b""] * 12
            + [b"\r\n", b"\r\n\r\n", b"\n", b"junk", b"\r\nHTTP/1.1 200 OK\r\n"]
            + [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nno"]
        )
    )
    if extra:
        wire += extra
        tags.add("extra-bytes" if extra.strip(b"\r\n") else "empty-line-after")
    if not close and draw(st.integers(0, 9)) == 0:
        close = True  # the server hangs up right after a complete response
        tags.add("server-closes")

    cuts = tuple(draw(st.lists(st.integers(1, max(1, len(wire) - 1)), max_size=6)))
    return Case(method=method, wire=wire, cuts=cuts, close=close, tags=frozenset(tags))


# -- the reference: h11 --------------------------------------------------------------------


def h11_outcome(case: Case) -> Outcome:
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=LIMITS.max_head_bytes)
    headers = [("Host", "127.0.0.1")]
    if case.method == "POST":
        headers.append(("Content-Length", "1"))
    conn.send(h11.Request(method=case.method, target="/", headers=headers))
    if case.method == "POST":
        conn.send(h11.Data(data=b"x"))
    conn.send(h11.EndOfMessage())

    response: h11.Response | None = None
    body = b""
    # h11 checks its byte cap only while an event is incomplete: pieces of at most 256
    # bytes make it hold a head past the cap as our transport does, whatever the split.
    pieces = [p[i : i + 256] for p in case.pieces() for i in range(0, len(p), 256)]
    pieces += [b""] if case.close else []
    try:
        for piece in pieces:
            conn.receive_data(piece)
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA or event is h11.PAUSED:
                    break
                if isinstance(event, h11.InformationalResponse):
                    continue
                if isinstance(event, h11.Response):
                    response = event
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    assert response is not None
                    break
                elif isinstance(event, h11.ConnectionClosed):
                    break
    except h11.ProtocolError as exc:
        return Refused(f"h11: {exc}")
    if response is None or conn.their_state not in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
        return Refused(f"h11: incomplete ({conn.their_state})")
    # Reusable: both sides done, the server did not close, and nothing followed the
    # response (bytes no request asked for would be read as the next one's answer).
    trailing, _closed = conn.trailing_data
    reusable = conn.our_state is h11.DONE and conn.their_state is h11.DONE and not trailing and not case.close
    return Answer(response.status_code, _normalised(list(response.headers.raw_items())), body, reusable)


# -- ours: Http1Transport over a loopback connection ----------------------------------------


def ours_outcome(case: Case) -> Outcome:
    async def main() -> Outcome:
        written = asyncio.Event()

        async def handler(
            server: Scripted, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
        ) -> None:
            await server.read_request(reader)
            try:
                for piece in case.pieces():
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0)
                if case.close:
                    writer.close()
                    await writer.wait_closed()
                    return
            finally:
                written.set()  # or the client left before all of it was written
            await server.wait_for_eof(reader)

        transport = Http1Transport(limits=LIMITS)
        async with Scripted(handler) as server, _client(transport, read=READ_TIMEOUT) as client:
            content = b"x" if case.method == "POST" else None
            try:
                request = client.build_request(case.method, server.url + "/", content=content)
                response = await client.send(request, stream=True)
                body = b"".join([piece async for piece in response.aiter_raw()])
                await response.aclose()
            except httpx2.HTTPError as exc:
                return Refused(f"ours: {type(exc).__name__}: {exc}")
            await written.wait()
            for _ in range(5):  # bytes or a close already on their way reach the connection
                await asyncio.sleep(0)
            origin = (b"http", b"127.0.0.1", server.port)
            pooled = [c for c in transport._idle.get(origin, []) if not c.closed]
            return Answer(response.status_code, _normalised(response.headers.raw), body, bool(pooled))

    outcome = run(main())
    assert isinstance(outcome, Answer | Refused)
    return outcome


# -- where we differ on purpose ------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """A generated case on which our transport and h11 disagree on purpose."""

    name: str
    applies: Callable[[Case, Outcome, Outcome], bool]  # (case, ours, h11's)
    reason: str


def _we_refuse(*tags: str) -> Callable[[Case, Outcome, Outcome], bool]:
    """Cases with one of ``tags`` that we refuse and h11 reads."""

    def applies(case: Case, ours: Outcome, reference: Outcome) -> bool:
        return bool(case.tags & set(tags)) and isinstance(ours, Refused) and isinstance(reference, Answer)

    return applies


def _only_reuse_differs(
    ours_reuse: bool, when: Callable[[Case], bool]
) -> Callable[[Case, Outcome, Outcome], bool]:
    """Cases ``when`` accepts where everything but the reuse agrees, and ours is ``ours_reuse``."""

    def applies(case: Case, ours: Outcome, reference: Outcome) -> bool:
        return (
            when(case)
            and isinstance(ours, Answer)
            and isinstance(reference, Answer)
            and ours.reusable is ours_reuse
            and ours == replace(reference, reusable=ours_reuse)
        )

    return applies


def _bytes_after_a_closing_response(case: Case, ours: Outcome, reference: Outcome) -> bool:
    return (
        isinstance(ours, Answer)
        and not ours.reusable
        and isinstance(reference, Refused)
        and "Got data when expecting EOF" in reference.why
    )


def _max_headers(case: Case, ours: Outcome, reference: Outcome) -> bool:
    return isinstance(ours, Refused) and "upstream.max_headers" in ours.why and isinstance(reference, Answer)


KNOWN_DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "bare LF line endings",
        _we_refuse("bare-lf"),
        "llhttp's strict mode wants CRLF; RFC 9112 2.2 lets a recipient accept a lone LF, which h11"
        " does; its leniency flag would also relax CR handling, and no provider sends bare LFs",
    ),
    Difference(
        "obs-fold continuation lines",
        _we_refuse("fold"),
        "llhttp refuses folded header lines; h11 joins them with a space (RFC 9112 5.2). Folding"
        " is deprecated and no provider folds",
    ),
    Difference(
        "Content-Length repeated with the same value",
        _we_refuse("dup-cl", "cl-list"),
        "RFC 9112 6.3 allows either refusing or merging equal values; llhttp refuses, h11 merges",
    ),
    Difference(
        "Content-Length with Transfer-Encoding",
        _we_refuse("cl+te"),
        "RFC 9112 6.3 says such a message ought to be handled as an error (smuggling); llhttp"
        " does, h11 lets chunked win",
    ),
    Difference(
        "Content-Length among the trailers",
        _we_refuse("trailer-content-length"),
        "llhttp checks framing fields in the trailer section too, which RFC 9110 6.5.1 forbids"
        " there; h11 drops trailers unread",
    ),
    Difference(
        "whitespace in a chunk header",
        _we_refuse("chunk-ext-spaced", "chunk-size-ws"),
        "llhttp refuses a space or tab after the size or around ';' (RFC 9112 7.1.1 allows BWS"
        " before ';'); h11 skips whatever follows the size; no provider sends chunk extensions",
    ),
    Difference(
        "control characters in header values",
        _we_refuse("value-ctl", "value-del"),
        "RFC 9110 5.5 has no CTL but HTAB in a field value; llhttp refuses them, h11 lets them through",
    ),
    Difference(
        "HTTP versions other than 1.0 and 1.1",
        _we_refuse("other-version"),
        "an HTTP/1.1 request gets an HTTP/1.x answer; llhttp refuses HTTP/1.2 and we refuse the"
        " HTTP/2.0 it lets through; h11 reads any x.y",
    ),
    Difference(
        "more header fields than upstream.max_headers",
        _max_headers,
        "our own limit around the parser (h11 bounds only the bytes of a head, which we do too)",
    ),
    Difference(
        "a HEAD response's connection is not reused",
        _only_reuse_differs(False, lambda case: case.method == "HEAD"),
        "httptools cannot tell llhttp that no body follows, so the connection is closed rather"
        " than left with a parser expecting a body (docs/adr/0008)",
    ),
    Difference(
        "empty lines after a response",
        _only_reuse_differs(True, lambda case: "empty-line-after" in case.tags),
        "llhttp skips CRLFs before a status line, and we skip them in any later read too; h11"
        " keeps them and would fail the next response",
    ),
    Difference(
        "bytes after a response whose connection must close",
        _bytes_after_a_closing_response,
        "h11 refuses the whole exchange; we keep the response, complete by its framing, and close"
        " the connection, as after any bytes that follow a response",
    ),
)


def _same(ours: Outcome, reference: Outcome) -> bool:
    if isinstance(ours, Refused) and isinstance(reference, Refused):
        return True  # whatever either says about it
    return ours == reference


def _known(case: Case, ours: Outcome, reference: Outcome) -> list[str]:
    return [d.name for d in KNOWN_DIFFERENCES if d.applies(case, ours, reference)]


@DIFFERENTIAL
@given(case=cases())
def test_the_transport_reads_responses_as_h11_does(case: Case) -> None:
    """The same answer, or both refuse, or a difference listed on purpose; and ours the
    same however the bytes were split."""
    note(f"pieces={case.pieces()!r} close={case.close} tags={sorted(case.tags)}")
    reference = h11_outcome(case)
    ours = ours_outcome(case)
    note(f"ours={ours!r}")
    note(f"h11={reference!r}")
    if not _same(ours, reference):
        assert _known(case, ours, reference), f"ours {ours!r} but h11 {reference!r}"
    if case.cuts:
        whole = ours_outcome(replace(case, cuts=()))
        assert _same(whole, ours), f"split {ours!r} but whole {whole!r}"


def _case(method: str, wire: bytes, *tags: str, close: bool = False) -> Case:
    return Case(method=method, wire=wire, cuts=(), close=close, tags=frozenset(tags))


_OK = b"HTTP/1.1 200 OK\r\n"
# One case per entry of KNOWN_DIFFERENCES, in its order: each still differs, in that way
# only (an httptools release with another llhttp may change some of them).
_DIFFERENT = [
    _case("GET", b"HTTP/1.1 200 OK\ncontent-length: 2\n\nok", "bare-lf"),
    _case("GET", _OK + b"x-folded: one\r\n two\r\ncontent-length: 2\r\n\r\nok", "fold"),
    _case("GET", _OK + b"content-length: 2\r\ncontent-length: 2\r\n\r\nok", "dup-cl"),
    _case(
        "GET", _OK + b"content-length: 7\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "cl+te"
    ),
    _case(
        "GET",
        _OK + b"transfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\ncontent-length: 9\r\n\r\n",
        "trailer-content-length",
    ),
    _case("GET", _OK + b"transfer-encoding: chunked\r\n\r\n2; a=1\r\nok\r\n0\r\n\r\n", "chunk-ext-spaced"),
    _case("GET", _OK + b"x-ctl: a\x01b\r\ncontent-length: 2\r\n\r\nok", "value-ctl"),
    _case("GET", b"HTTP/1.2 200 OK\r\ncontent-length: 2\r\n\r\nok", "other-version"),
    _case(
        "GET", _OK + b"x-n: 1\r\n" * (LIMITS.max_headers + 1) + b"content-length: 2\r\n\r\nok", "many-fields"
    ),
    _case("HEAD", _OK + b"content-length: 2\r\n\r\n"),
    _case("GET", _OK + b"content-length: 2\r\n\r\nok\r\n", "empty-line-after"),
    _case("GET", _OK + b"content-length: 2\r\nconnection: close\r\n\r\nokjunk", "extra-bytes", close=True),
]


@pytest.mark.parametrize(
    ("case", "difference"),
    list(zip(_DIFFERENT, KNOWN_DIFFERENCES, strict=True)),
    ids=[d.name for d in KNOWN_DIFFERENCES],
)
def test_each_known_difference_is_real(case: Case, difference: Difference) -> None:
    ours, reference = ours_outcome(case), h11_outcome(case)
    assert not _same(ours, reference), (ours, reference)
    assert _known(case, ours, reference) == [difference.name], (ours, reference)


# -- what the differential test found (fixed in http1.py) -------------------------------


def _exchange(wire: bytes, *, method: str = "GET", second: bytes | None = None, split: bool = False):
    """One request answered with ``wire`` (in two writes if ``split``: the last two bytes
    apart), then, with ``second``, another request on the same transport; the first
    response (or the error it raised), the second's body and how many connections served."""

    answers = [wire] if second is None else [wire, second]  # in turn, on whichever connection

    async def handler(server, reader, writer):
        while answers:
            await server.read_request(reader)
            answer = answers.pop(0)
            if split and answer is wire:
                writer.write(answer[:-2])
                await writer.drain()
                await asyncio.sleep(0.02)
                answer = answer[-2:]
            writer.write(answer)
        await server.wait_for_eof(reader)

    async def main():
        async with Scripted(handler) as server, _client(Http1Transport(), read=2.0) as client:
            try:
                first: object = await client.request(method, server.url)
            except httpx2.HTTPError as exc:
                return exc, None, server.connections
            await asyncio.sleep(0.05)  # the second write, when split, has arrived
            again = (await client.get(server.url)).content if second is not None else None
            return first, again, server.connections

    return run(main())


@pytest.mark.parametrize(
    "coding",
    [b"gzip, chunked", b"chunked, chunked", b"gzip", b"identity"],
)
def test_a_transfer_coding_other_than_chunked_is_refused(coding):
    """llhttp de-chunks ``gzip, chunked`` and hands the still gzip-coded bytes over as the
    body (httpx2 decodes Content-Encoding only), and reads other codings until the close."""
    body = b"2\r\nok\r\n0\r\n\r\n" if coding.endswith(b"chunked") else b"ok"
    wire = _OK + b"transfer-encoding: " + coding + b"\r\n\r\n" + body
    first, _, _ = _exchange(wire)
    assert isinstance(first, httpx2.RemoteProtocolError), first
    assert "transfer coding" in str(first)


def test_trailing_whitespace_is_no_part_of_a_header_value():
    """llhttp keeps a value's trailing spaces and tabs (RFC 9110 5.5: they are not part
    of it); h11 strips them, and so do we now."""
    first, _, _ = _exchange(_OK + b"x-ws: \t v \t \r\ncontent-length:  2 \r\n\r\nok")
    assert first.headers.raw == [(b"x-ws", b"v"), (b"content-length", b"2")]
    assert first.content == b"ok"


@pytest.mark.parametrize("status_line", [b"HTTP/1.1 099 Low", b"HTTP/2.0 200 OK", b"HTTP/0.9 200 OK"])
def test_a_status_line_below_100_or_not_http_1_x_is_refused(status_line):
    """llhttp takes any three digits for a final status, and HTTP/2.0 or 0.9 as versions."""
    first, _, _ = _exchange(status_line + b"\r\ncontent-length: 2\r\n\r\nok")
    assert isinstance(first, httpx2.RemoteProtocolError), first
    assert "invalid status line" in str(first)


@pytest.mark.parametrize("split", [False, True], ids=["same read", "later read"])
def test_empty_lines_after_a_response_leave_its_connection_reusable_however_split(split):
    """An empty line after a body was skipped by llhttp in the same read (connection kept)
    but closed the connection in a later one: now both keep it."""
    first, second, connections = _exchange(
        _OK + b"content-length: 2\r\n\r\nok\r\n", second=_OK + b"content-length: 5\r\n\r\nagain", split=split
    )
    assert (first.content, second, connections) == (b"ok", b"again", 1)


@pytest.mark.parametrize(
    "framing",
    [b"content-length: 2\r\n\r\nok", b"transfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"],
    ids=["content-length", "chunked"],
)
def test_an_http_1_0_response_leaves_its_connection_unused_even_with_keep_alive(framing):
    """HTTP/1.0 keep-alive is optional and faulty with a transfer coding (RFC 9112 9.3,
    6.1); llhttp honoured it."""
    wire = b"HTTP/1.0 200 OK\r\nconnection: keep-alive\r\n" + framing
    first, second, connections = _exchange(wire, second=_OK + b"content-length: 5\r\n\r\nagain")
    assert (first.content, second, connections) == (b"ok", b"again", 2)
