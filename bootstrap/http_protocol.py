"""uvicorn's httptools protocol with a bound on the request head.

uvicorn sets no limit on a head read with httptools (``h11_max_incomplete_event_size``
applies to h11 only): the parser keeps every byte of a header that never ends, so one
connection sending 300 MiB of head took the server from 60 MiB to 618 MiB of RSS. This
subclass counts what it feeds the parser while a head is open and, past
``MAX_HEAD_BYTES``, answers 431 (a problem document) and closes the connection; a head
that ends in time reaches the app, whose ``HeadGuard`` answers the same 431 for one over
the limit. What a connection can hold is the limit plus one read (uvicorn passes it
through ``http=``, a public option; ``dawai serve`` uses it).
"""

from __future__ import annotations

import secrets
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from dawai.adapters.http.head_guard import MAX_HEAD_BYTES
from dawai.adapters.http.problems import PROBLEM_MEDIA_TYPE, problem_bytes

__all__ = ["BoundedHeadHttpToolsProtocol"]


class BoundedHeadHttpToolsProtocol(HttpToolsProtocol):
    max_head_bytes = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_open = False
        self._head_bytes = 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._head_open = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        open_before = self._head_open
        super().data_received(data)
        if not (open_before and self._head_open):
            return  # a head began or ended in this read: counted from the next read on
        self._head_bytes += len(data)
        if self._head_bytes > self.max_head_bytes and not self.transport.is_closing():
            self._send_431()

    def _send_431(self) -> None:
        detail = f"The request head is larger than this server accepts ({self.max_head_bytes} bytes)."
        request_id = secrets.token_hex(16)
        body = problem_bytes(431, "Request header fields too large", detail, request_id)
        head = (
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: " + PROBLEM_MEDIA_TYPE.encode() + b"\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"x-request-id: " + request_id.encode() + b"\r\n"
            b"connection: close\r\n\r\n"
        )
        self.transport.write(head + body)
        self.transport.close()
