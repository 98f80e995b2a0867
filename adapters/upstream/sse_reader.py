"""An incremental Server-Sent Events reader for provider streams.

The SDKs build a typed model for every chunk, most of a stream's cost; we decode the few
fields we use with msgspec instead (docs/adr/0007 has the measurements). Lines may end in
LF, CRLF or CR, and chunks may split anything anywhere, a CRLF included.

A line, and the data of one event, may hold ``max_event_bytes`` (``upstream.max_event_bytes``);
past that the stream fails with ``ResponseTooLarge`` before more than the limit and one
chunk are held.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from dawai.adapters.upstream.http1 import ResponseTooLarge
from dawai.core.settings import UpstreamLimits

__all__ = ["SSEParser", "sse_events"]


class SSEParser:
    """Feed bytes, get ``(event, data)`` pairs; ``event`` is ``""`` when unnamed."""

    def __init__(self, max_event_bytes: int = UpstreamLimits().max_event_bytes) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[bytes] = []
        self._size = 0  # bytes in ``_data``
        self.max_event_bytes = max_event_bytes

    def _too_large(self) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"The upstream sent an event line or event over {self.max_event_bytes} bytes"
            " (upstream.max_event_bytes)."
        )

    def feed(self, chunk: bytes) -> Iterator[tuple[str, bytes]]:
        if chunk.endswith(b"\n\n") and not (self._buffer or self._data or self._event) and b"\r" not in chunk:
            # What providers send: whole events, LF line ends, nothing carried over.
            blocks = chunk[:-2].split(b"\n\n")
            if len(chunk) > self.max_event_bytes and any(len(b) > self.max_event_bytes for b in blocks):
                raise self._too_large()
            for block in blocks:
                if block.startswith(b"data: ") and b"\n" not in block:
                    yield "", block[6:]
                else:
                    yield from self._block(block)
            return
        buffer = self._buffer + chunk
        held = b""
        if buffer.endswith(b"\r"):  # maybe half of a CRLF: keep it for the next chunk
            buffer, held = buffer[:-1], b"\r"
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *lines, rest = buffer.split(b"\n")
        if len(rest) > self.max_event_bytes:
            self._buffer = b""
            raise self._too_large()
        self._buffer = rest + held
        for line in lines:
            yield from self._line(line)

    def close(self) -> Iterator[tuple[str, bytes]]:
        """The end of the body: whatever is left is the last event."""
        rest = self._buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        self._buffer = b""
        for line in rest.split(b"\n"):
            yield from self._line(line)
        yield from self._line(b"")

    def _block(self, block: bytes) -> Iterator[tuple[str, bytes]]:
        """One whole event: its lines, then the blank line that ends it. The usual shapes,
        ``data:`` alone or after ``event:``, skip the line-by-line state."""
        lines = block.split(b"\n")
        last = lines[-1]
        if last.startswith(b"data:") and (
            len(lines) == 1 or (len(lines) == 2 and lines[0].startswith(b"event:"))
        ):
            value = last[5:]
            event = lines[0][6:].strip().decode() if len(lines) == 2 else ""
            yield event, value[1:] if value.startswith(b" ") else value
            return
        for line in lines:
            yield from self._line(line)
        yield from self._line(b"")

    def _line(self, line: bytes) -> Iterator[tuple[str, bytes]]:
        if not line:
            if self._data:
                yield self._event, b"\n".join(self._data)
            self._event, self._data, self._size = "", [], 0
        elif line.startswith(b"data:"):
            value = line[5:]
            self._size += len(value)
            if self._size > self.max_event_bytes:
                self._data, self._size = [], 0
                raise self._too_large()
            self._data.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            self._event = line[6:].strip().decode()
        # comments (":") and other fields (id, retry) are ignored


async def sse_events(
    chunks: AsyncIterator[bytes], max_event_bytes: int = UpstreamLimits().max_event_bytes
) -> AsyncIterator[tuple[str, bytes]]:
    """``(event, data)`` per SSE event of a streamed body."""
    parser = SSEParser(max_event_bytes)
    async for chunk in chunks:
        for item in parser.feed(chunk):
            yield item
    for item in parser.close():
        yield item
