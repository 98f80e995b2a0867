"""Client CPU per exchange of ``Http1Transport`` alone: take a pooled connection, write the
request, parse the reply, read the body, give the connection back.

A server process on 127.0.0.1 answers every request with the same bytes, built once: a
small JSON reply (``whole``) or a chunked SSE stream of 100 events (``stream``). The
client sends through ``Http1Transport.handle_async_request`` with a request built once,
``concurrency`` exchanges at a time, and counts its own process CPU time (user + system),
not wall time, so the server's share and the machine's other load stay out of it.

    .venv/bin/python bench/upstream_transport.py [--requests 20000] [--runs 3]
        [--module path/to/http1.py]   # another version of the transport, side by side

Prints a table, then one line ``JSON {...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2

_SERVER = r"""
import asyncio, sys
body = b'{"id": "x", "text": "hello there world"}'
whole = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 40\r\n\r\n' + body
pieces = [b'data: {"delta": "piece %03d"}\n\n' % i for i in range(100)]
events = b''.join(b'%x\r\n%s\r\n' % (len(e), e) for e in pieces)
head = b'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n'
stream = head + events + b'0\r\n\r\n'
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b'\r\n\r\n')
            writer.write(stream if head.startswith(b'GET /stream') else whole)
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()
async def main():
    server = await asyncio.start_server(handle, '127.0.0.1', 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def _transport_class(module: str | None) -> type:
    if module is None:
        from dawai.adapters.upstream.http1 import Http1Transport

        return Http1Transport
    spec = importlib.util.spec_from_file_location("http1_under_test", module)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded.Http1Transport


async def _exchanges(transport: Any, request: httpx2.Request, count: int, concurrency: int) -> None:
    async def worker(n: int) -> None:
        for _ in range(n):
            response = await transport.handle_async_request(request)
            async for _ in response.stream:
                pass
            await response.stream.aclose()

    per = count // concurrency
    await asyncio.gather(*(worker(per) for _ in range(concurrency)))


async def _measure(cls: type, port: int, path: str, count: int, concurrency: int) -> float:
    transport = cls()
    request = httpx2.Request("GET", f"http://127.0.0.1:{port}{path}", headers={"accept": "*/*"})
    request.extensions["timeout"] = {"connect": 5.0, "read": 5.0, "pool": 5.0}
    await _exchanges(transport, request, concurrency * 20, concurrency)  # warm: connections open
    start = time.process_time()
    await _exchanges(transport, request, count, concurrency)
    spent = time.process_time() - start
    await transport.aclose()
    return spent / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--module", default=None)
    args = parser.parse_args()
    cls = _transport_class(args.module)
    server = subprocess.Popen([sys.executable, "-c", _SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        rows = []
        kinds = (("whole", "/whole", args.requests), ("stream", "/stream", args.requests // 10))
        for label, path, count in kinds:
            for concurrency in (1, 10):
                runs = [asyncio.run(_measure(cls, port, path, count, concurrency)) for _ in range(args.runs)]
                rows.append({"reply": label, "concurrency": concurrency, "cpu_us": sorted(runs)})
    finally:
        server.terminate()
        server.wait(10)
    source = args.module or str(Path(__file__).resolve().parent.parent / "adapters/upstream/http1.py")
    print(f"Http1Transport client CPU per exchange ({source}), {args.runs} runs, best first")
    print(f"{'reply':>8} {'concurrency':>12} | us per exchange")
    for row in rows:
        figures = "  ".join(f"{v:7.1f}" for v in row["cpu_us"])
        print(f"{row['reply']:>8} {row['concurrency']:>12} | {figures}")
    print("JSON " + json.dumps({"module": source, "rows": rows}))


if __name__ == "__main__":
    main()
