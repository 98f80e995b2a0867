"""A plain HTTP forward proxy on 127.0.0.1, for the tests that send through one."""

from __future__ import annotations

import asyncio
import urllib.parse

__all__ = ["ForwardProxy"]


class ForwardProxy:
    """A plain HTTP forward proxy: takes a request in absolute form, or a ``CONNECT`` for
    a TLS tunnel, connects to its host and pipes bytes both ways. Records the targets it
    was asked for."""

    def __init__(self) -> None:
        self.targets: list[str] = []

    async def __aenter__(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            writer.close()
            return
        method, target, _ = head.decode("latin-1").split(" ", 2)
        self.targets.append(target)
        if method == "CONNECT":  # a tunnel: the client speaks TLS to the host through it
            host, _, port = target.rpartition(":")
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            url = urllib.parse.urlsplit(target)
            up_reader, up_writer = await asyncio.open_connection(url.hostname, url.port)
            up_writer.write(head)  # the fake reads a request target in absolute form too

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except ConnectionError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
