"""A lean asyncio HTTP/1.1 load client for SSE endpoints, so the load generator costs far
less CPU than the servers it measures (2 cores are shared by client, DAWAI and the fake).

One connection per stream; time to first token is the first ``data:`` frame carrying text,
total time is ``data: [DONE]``. Not a general HTTP client: it speaks just enough to POST
JSON and read a chunked or close-delimited response.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

__all__ = ["Result", "post_stream", "run_concurrent", "run_held"]


@dataclass
class Result:
    status: int = 0
    ttft: float | None = None  # seconds to the first text frame
    total: float | None = None  # seconds to [DONE] (or end of a non-streaming body)
    error: str | None = None
    bytes: int = 0
    steady: bool = True  # run_held: False for the streams that opened the level


async def post_stream(
    host: str,
    port: int,
    path: str,
    body: bytes,
    first_marker: bytes,
    *,
    done_marker: bytes | None = b"data: [DONE]",
    timeout: float = 120.0,
    method: str = "POST",
) -> Result:
    """POST ``body``; read until ``done_marker`` (``None``: until the server closes)."""
    result = Result()
    started = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port)
            head = (
                f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Accept: text/event-stream\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            writer.write(head + body)
            status_line = await reader.readline()
            result.status = int(status_line.split(b" ", 2)[1])
            while (await reader.readline()) not in (b"\r\n", b""):
                pass
            tail = b""
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                result.bytes += len(data)
                window = tail + data
                if result.ttft is None and first_marker in window:
                    result.ttft = time.perf_counter() - started
                if done_marker is not None and done_marker in window:
                    result.total = time.perf_counter() - started
                    if b'"type":"error"' in window or b'"type": "error"' in window:
                        result.error = "in-band error event"
                    break
                if b'"type":"error"' in window:
                    result.error = "in-band error event"
                tail = window[-64:]
            if done_marker is None and result.total is None:
                result.total = time.perf_counter() - started
            if result.status != 200:
                result.error = result.error or f"HTTP {result.status}"
            elif result.total is None:
                result.error = result.error or "stream ended before its last event"
    except TimeoutError:
        result.error = "client timeout"
    except OSError as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()
    return result


async def run_concurrent(
    n: int, host: str, port: int, path: str, body: bytes, first_marker: bytes, **options: object
) -> list[Result]:
    """Start ``n`` streams at once and wait for all of them."""
    return await asyncio.gather(
        *(post_stream(host, port, path, body, first_marker, **options) for _ in range(n))
    )


async def run_held(
    n: int,
    host: str,
    port: int,
    path: str,
    body: bytes,
    first_marker: bytes,
    *,
    stream_seconds: float,
    seconds: float,
    **options: object,
) -> list[Result]:
    """Keep ``n`` streams open for ``seconds``: the starts are spread over one stream's
    length, and each client starts its next stream as soon as one ends. Returns the
    streams that started once all ``n`` were open, each while ``n - 1`` others ran, and
    after them, marked ``steady=False``, those that opened the level."""
    loop = asyncio.get_running_loop()
    steady = loop.time() + stream_seconds * 1.2
    end = steady + seconds
    kept: list[Result] = []
    ramp: list[Result] = []

    async def client(i: int) -> None:
        await asyncio.sleep(stream_seconds * i / n)
        while loop.time() < end:
            started = loop.time()
            result = await post_stream(host, port, path, body, first_marker, **options)
            result.steady = started >= steady
            (kept if result.steady else ramp).append(result)

    await asyncio.gather(*(client(i) for i in range(n)))
    return kept + ramp
