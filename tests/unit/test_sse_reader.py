"""The provider-side SSE reader: any split of any body gives the same events."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dawai.adapters.upstream.sse_reader import SSEParser, sse_events

payloads = st.text(
    alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=30
)
events = st.lists(
    st.tuples(st.sampled_from(["", "message_start", "ping"]), st.lists(payloads, min_size=1, max_size=3)),
    max_size=6,
)


def encode(items: list[tuple[str, list[str]]], newline: str, comments: bool) -> bytes:
    out = []
    for event, lines in items:
        block = [": keep-alive"] if comments else []
        if event:
            block.append(f"event: {event}")
        block += [f"data: {line}" for line in lines]
        out.append(newline.join(block) + newline + newline)
    return "".join(out).encode()


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


@given(
    events,
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
    st.lists(st.integers(0, 10_000), max_size=12),
)
def test_any_split_and_line_ending_gives_the_same_events(items, newline, comments, cuts):
    body = encode(items, newline, comments)
    parser = SSEParser()
    got = [e for piece in split(body, cuts) for e in parser.feed(piece)] + list(parser.close())
    expected = [(event, "\n".join(lines).encode()) for event, lines in items]
    assert got == expected


fields = st.one_of(
    st.builds(
        lambda v: b"data: " + v, st.binary(max_size=8).filter(lambda b: b"\n" not in b and b"\r" not in b)
    ),
    st.builds(lambda v: b"data:" + v, st.sampled_from([b"", b"x", b" y", b"  z"])),
    st.sampled_from(
        [b"event: ping", b"event:ping", b"event:  spaced ", b"event:", b": comment", b"id: 7", b"retry: 5"]
    ),
    st.just(b""),  # a blank line: ends an event
)


@given(st.lists(fields, max_size=12))
def test_whole_events_at_once_read_like_one_byte_at_a_time(lines):
    # Fed whole (the fast path for complete blocks) or byte by byte (never the fast path),
    # any LF-separated body must give the same events.
    body = b"\n".join(lines) + b"\n\n"
    whole = SSEParser()
    got = list(whole.feed(body)) + list(whole.close())
    slow = SSEParser()
    expected = [e for i in range(len(body)) for e in slow.feed(body[i : i + 1])] + list(slow.close())
    assert got == expected


def test_a_last_event_without_a_blank_line_is_not_lost():
    async def chunks():
        yield b'data: {"a": 1}\n\ndata: [DONE]'

    async def collect():
        return [item async for item in sse_events(chunks())]

    assert asyncio.run(collect()) == [("", b'{"a": 1}'), ("", b"[DONE]")]


def test_a_line_that_never_ends_fails_at_the_cap_holding_no_more_than_it_and_a_chunk():
    from dawai.adapters.upstream.http1 import ResponseTooLarge

    cap, piece = 64 * 1024, b"x" * 4096
    parser = SSEParser(cap)
    with pytest.raises(ResponseTooLarge, match=r"upstream\.max_event_bytes"):
        for _ in range(10 * cap // len(piece)):  # 10x the cap
            list(parser.feed(b"data: " + piece if not parser._buffer else piece))
            assert len(parser._buffer) <= cap + len(piece)


def test_an_event_of_many_lines_fails_at_the_cap():
    from dawai.adapters.upstream.http1 import ResponseTooLarge

    cap = 64 * 1024
    parser = SSEParser(cap)
    line = b"data: " + b"y" * 1000 + b"\n"
    with pytest.raises(ResponseTooLarge):
        for _ in range(10 * cap // len(line)):
            assert list(parser.feed(line)) == []
            assert parser._size <= cap
    # Whole events under the cap, on the fast path and off it, still pass.
    fine = SSEParser(cap)
    assert list(fine.feed(b"data: " + b"z" * 1000 + b"\n\n")) == [("", b"z" * 1000)]
    assert list(fine.feed(b"data: a\r\n\r\n")) == [("", b"a")]
    with pytest.raises(ResponseTooLarge):
        list(SSEParser(cap).feed(b"data: " + b"z" * (2 * cap) + b"\n\n"))
