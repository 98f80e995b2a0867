"""An incremental Server-Sent Events reader for provider streams.

The SDKs build a typed model for every chunk (~65 µs each); we decode the few fields we
use with msgspec instead. Lines may end in LF, CRLF or CR and arrive split anywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

__all__ = ["sse_events"]


async def sse_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[str, bytes]]:
    """Yield ``(event, data)`` per SSE event; ``event`` is ``""`` when unnamed."""
    buffer = b""
    event = ""
    data: list[bytes] = []
    async for chunk in chunks:
        buffer += chunk
        if b"\r" in buffer:
            if buffer.endswith(b"\r"):  # a CRLF may be split across chunks
                continue
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            if not line:
                if data:
                    yield event, b"\n".join(data)
                event, data = "", []
                continue
            if line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
            elif line.startswith(b"event:"):
                event = line[6:].strip().decode()
            # comments (":") and other fields (id, retry) are ignored
    if buffer.startswith(b"data:"):
        value = buffer[5:]
        data.append(value[1:] if value.startswith(b" ") else value)
    if data:
        yield event, b"\n".join(data)
