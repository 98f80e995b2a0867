"""A raw TCP listener on 127.0.0.1 that records every byte it is sent.

Pointed at as a provider's base URL, it shows what would have reached the upstream wire:
each accepted connection and its bytes, unparsed, so a smuggled second request or an
injected header is seen exactly as a real server would read it. It answers each
connection with a 500 and closes it.
"""

from __future__ import annotations

import contextlib
import socket
import threading

__all__ = ["RawListener"]

_ANSWER = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class RawListener:
    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.connections: list[bytes] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> RawListener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()

    def reset(self) -> None:
        with self._lock:
            self.connections.clear()

    @property
    def received(self) -> bytes:
        with self._lock:
            return b"".join(self.connections)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(0.5)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:  # the head of the first request, at least
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    conn.settimeout(0.05)
                    while chunk := conn.recv(65536):  # whatever else came with it
                        data += chunk
                except OSError:
                    pass
                with self._lock:
                    self.connections.append(data)
                with contextlib.suppress(OSError):
                    conn.sendall(_ANSWER)
