"""SSE framing: every frame parses back to what was sent, whatever the text."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dawai.adapters.http.sse import DONE, HEARTBEAT, error_frame, frame, write_events
from dawai.core.errors import UpstreamTruncated
from dawai.core.models import Finish, TextDelta, Usage
from dawai.core.streams import EventStream


def parse(body: bytes) -> list[object]:
    """A client's view: split on blank lines, keep ``data:`` payloads, skip comments."""
    events = []
    for block in body.decode("utf-8").split("\n\n"):
        if not block or block.startswith(":"):
            continue
        lines = block.split("\n")
        assert all(line.startswith("data: ") for line in lines), block
        data = "\n".join(line[6:] for line in lines)
        events.append(data if data == "[DONE]" else json.loads(data))
    return events


@given(st.text())
def test_any_text_is_one_frame_that_round_trips(text):
    raw = frame(TextDelta(text))
    assert raw.startswith(b"data: ") and raw.endswith(b"\n\n")
    assert raw.count(b"\n\n") == 1 or raw[:-2].count(b"\n") == 0
    assert parse(raw) == [{"type": "text", "content": text}]


async def _body(items, heartbeat=10.0, open_timeout=None, encode=None):
    async def source():
        for item in items:
            if isinstance(item, float):
                await asyncio.sleep(item)
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item

    stream = EventStream(source())
    opened = await stream.opened(open_timeout)
    written: list[bytes] = []

    async def write(data: bytes) -> None:
        written.append(data)

    try:
        last = await write_events(stream, opened, heartbeat, write, *([encode] if encode else []))
    finally:
        await stream.aclose()
    assert last.endswith(DONE)
    return b"".join(written) + last


@given(st.lists(st.text(min_size=1), max_size=8))
def test_stream_bodies_parse_back(pieces):
    items = [TextDelta(p) for p in pieces] + [Usage(1, len(pieces)), Finish()]
    events = parse(asyncio.run(_body(items)))
    assert events[-1] == "[DONE]"
    assert [e["content"] for e in events if isinstance(e, dict) and e["type"] == "text"] == pieces
    assert events[-2] == {"type": "usage", "input_tokens": 1, "output_tokens": len(pieces)}


def test_error_after_first_byte_is_in_band_then_done():
    body = asyncio.run(_body([TextDelta("a"), UpstreamTruncated("cut short")]))
    events = parse(body)
    assert events[0] == {"type": "text", "content": "a"}
    assert events[1]["type"] == "error" and events[1]["error"]["status"] == 502
    assert events[-1] == "[DONE]"
    assert error_frame(UpstreamTruncated("x")).startswith(b"data: {")


def test_heartbeat_comments_while_waiting():
    body = asyncio.run(_body([0.12, TextDelta("late"), Finish()], heartbeat=0.05, open_timeout=0.01))
    assert body.startswith(HEARTBEAT)
    assert body.count(HEARTBEAT) >= 2
    assert body.endswith(DONE)
    assert parse(body)[0] == {"type": "text", "content": "late"}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=5), st.booleans()), max_size=8),
    st.sampled_from(["done", "error", "crash"]),
)
def test_each_event_is_written_once_in_order_however_they_arrive(pieces, ending):
    """Events that wait are written together, others one by one: either way each once."""
    items: list[object] = [TextDelta("first")]  # a failure before it would be a problem+json
    for text, pause in pieces:
        items += [0.002, TextDelta(text)] if pause else [TextDelta(text)]
    items.append(0.002)
    items += {
        "done": [Finish()],
        "error": [UpstreamTruncated("cut short")],
        "crash": [RuntimeError("bug")],
    }[ending]
    events = parse(asyncio.run(_body(items)))
    assert [e["content"] for e in events if isinstance(e, dict) and e["type"] == "text"] == [
        "first",
        *(text for text, _ in pieces),
    ]
    assert events[-1] == "[DONE]"
    errors = [e for e in events if isinstance(e, dict) and e["type"] == "error"]
    assert len(errors) == (0 if ending == "done" else 1)


def test_a_failing_write_is_the_clients_failure_not_the_upstreams():
    """A send that fails (a server that raises on a gone client) propagates as it is:
    no in-band error frame, no second attempt at the frame that failed."""

    async def main():
        stream = EventStream(_source_of([TextDelta("a"), 0.01, TextDelta("b"), Finish()]))
        opened = await stream.opened()
        attempts: list[bytes] = []

        async def write(data: bytes) -> None:
            attempts.append(data)
            raise OSError("client went away")

        try:
            with pytest.raises(OSError):
                await write_events(stream, opened, 10.0, write)
        finally:
            await stream.aclose()
        return attempts

    attempts = asyncio.run(main())
    assert len(attempts) == 1 and b"error" not in attempts[0]


async def _source_of(items):
    for item in items:
        if isinstance(item, float):
            await asyncio.sleep(item)
        else:
            yield item


def test_an_encoder_chooses_each_items_frames():
    """The responder is not chat's alone: another stream (job progress, the agent) gives
    its own encoder; an item it encodes as nothing is skipped."""

    def progress(item):
        return b"" if item == "skip" else frame({"type": "progress", "done": item})

    body = asyncio.run(_body([1, "skip", 2], encode=progress))
    assert parse(body) == [{"type": "progress", "done": 1}, {"type": "progress", "done": 2}, "[DONE]"]


def test_a_stream_that_is_open_writes_its_first_items_in_one_write():
    async def main():
        stream = EventStream(_source_of([TextDelta("a"), TextDelta("b"), 0.01, Finish()]))
        assert await stream.opened(1.0)
        await asyncio.sleep(0)  # let the pump buffer what it has
        writes: list[bytes] = []

        async def write(data: bytes) -> None:
            writes.append(data)

        try:
            last = await write_events(stream, True, 10.0, write)
        finally:
            await stream.aclose()
        return writes, last

    writes, last = asyncio.run(main())
    assert writes == [frame(TextDelta("a")) + frame(TextDelta("b"))] and last == DONE
