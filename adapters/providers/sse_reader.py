"""An incremental Server-Sent Events reader for provider streams.

The SDKs build a typed model for every chunk (~65 µs each); we decode the few fields we
use with msgspec instead (docs/adr/0007). Lines may end in LF, CRLF or CR, and chunks may
split anything anywhere, a CRLF included.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

__all__ = ["SSEParser", "sse_events"]


class SSEParser:
    """Feed bytes, get ``(event, data)`` pairs; ``event`` is ``""`` when unnamed."""

    def __init__(self) -> None:
        self._buffer = b""
        self._event = ""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> Iterator[tuple[str, bytes]]:
        if chunk.endswith(b"\n\n") and not (self._buffer or self._data or self._event) and b"\r" not in chunk:
            # What providers send: whole events, LF line ends, nothing carried over.
            for block in chunk[:-2].split(b"\n\n"):
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
            self._event, self._data = "", []
        elif line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        elif line.startswith(b"event:"):
            self._event = line[6:].strip().decode()
        # comments (":") and other fields (id, retry) are ignored


async def sse_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, bytes]]:
    """``(event, data)`` per SSE event of a streamed body."""
    parser = SSEParser()
    async for chunk in chunks:
        for item in parser.feed(chunk):
            yield item
    for item in parser.close():
        yield item
