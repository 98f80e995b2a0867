"""The audit log: one JSON event per AI request, written when its response has ended.

``AuditLog`` is a pure ASGI middleware around the routes that declare ``Audit.ON`` (chat,
agent, generate, update-summary, synthesize, ghost-text complete; read from the app's
routes like every other rule: ``AuditRules``). For each such request it opens a
``dawai.core.audit`` record that the services fill (model, provider, tokens, cache hit, a
stream's in-band error), and when the response is over writes one event to its
``AuditSink``:

``time`` (the request's start, UTC), ``request_id``, ``client`` (an HMAC-SHA256 of the
token's name or the client's address under ``audit.client_key``: the same client gives the
same value, and the value gives neither the name nor the address back), ``route`` (the
route template), ``method``, ``model``, ``provider``, ``status``, ``outcome`` (``done``,
``error``, or ``disconnect`` when the client left before the end), ``stream``,
``input_tokens``/``output_tokens`` (when the provider reported them), ``latency_ms`` (to the
response's end, a stream's included), ``first_byte_ms``, ``cache_hit`` and, for a failed
stream, ``error`` (the in-band error's title). With ``audit.include_text`` the event also
carries ``text``: the request's ``message``, ``prompt``, ``text`` and lyrics, each cut at
``TEXT_LIMIT`` characters. Every string is passed through ``redact``; nothing else of a
body, and no header, is ever written.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import msgspec
import structlog

from dawai.adapters.http.auth import CLIENT_NAME
from dawai.adapters.http.client_ip import CLIENT_IP
from dawai.adapters.http.context import request_id_of
from dawai.adapters.http.route_rules import PathRules
from dawai.adapters.http.route_set import AUDIT_OPT, Audit
from dawai.core import audit
from dawai.core.redaction import redact
from dawai.core.settings import AuditSettings

__all__ = ["TEXT_LIMIT", "AuditLog", "AuditRules", "AuditSink", "client_hasher"]

log = structlog.get_logger("dawai.audit")
TEXT_LIMIT = 4096  # characters of each text field, with audit.include_text
_TEXT_FIELDS = ("message", "prompt", "text")
_encode = msgspec.json.Encoder().encode


class AuditRules(PathRules[Audit]):
    def __init__(self, by_path: Mapping[str, Audit]) -> None:
        super().__init__(by_path, default=Audit.OFF, open_value=Audit.OFF)

    @classmethod
    def of_routes(cls, routes: Any) -> AuditRules:
        return cls(PathRules.read(routes, AUDIT_OPT, Audit.OFF))


class AuditSink:
    """Where events go: one JSON object per line, appended to ``path`` (opened once, in
    append mode, each event one ``write``: several workers may share the file), or, with
    no path, the app log's stream (stderr), with ``level``, ``logger``, ``event`` and
    ``timestamp`` (when it was written) as every other line there."""

    def __init__(self, path: str | None = None, stream: IO[str] | None = None) -> None:
        self._lock = threading.Lock()
        self._own = path is not None
        if path is not None:
            self._out: IO[str] = Path(path).open("a", encoding="utf-8", buffering=1)  # noqa: SIM115
        else:
            self._out = stream if stream is not None else sys.stderr

    def write(self, event: dict[str, Any]) -> None:
        stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        head = {"event": "audit", "level": "info", "logger": "dawai.audit", "timestamp": stamp}
        line = _encode({**head, **event}).decode() + "\n"
        with self._lock:
            self._out.write(line)
            self._out.flush()

    def close(self) -> None:
        if self._own:
            self._out.close()


def client_hasher(key: str | None) -> Any:
    """``client -> hex``: HMAC-SHA256 under ``key`` (a random one for this process when
    unset: values then agree only within one process), 128 bits of it."""
    secret = (key or secrets.token_hex(32)).encode()

    def hashed(client: str) -> str:
        return hmac.new(secret, client.encode(), hashlib.sha256).hexdigest()[:32]

    return hashed


def _texts(body: bytes) -> dict[str, str] | None:
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    if not isinstance(data, dict):
        return None
    found = {k: data[k] for k in _TEXT_FIELDS if isinstance(data.get(k), str)}
    notes = data.get("notes")
    if isinstance(notes, list):
        lyrics = [n["lyric"] for n in notes if isinstance(n, dict) and isinstance(n.get("lyric"), str)]
        if lyrics:
            found["lyrics"] = " ".join(lyrics)
    return {k: redact(v[:TEXT_LIMIT]) for k, v in found.items()} or None


class AuditLog:
    def __init__(
        self, app: Any, settings: AuditSettings, rules: AuditRules, sink: AuditSink, max_body: int
    ) -> None:
        self.app, self.rules, self.sink = app, rules, sink
        self.include_text = settings.include_text
        self.max_body = max_body
        self.hashed = client_hasher(settings.client_key)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.rules.for_path(scope["path"]) is not Audit.ON:
            await self.app(scope, receive, send)
            return
        began = time.time()
        started = time.perf_counter()
        status = 0
        stream = finished = False
        first_byte: float | None = None
        body = bytearray()

        async def receive_teed() -> Any:
            message = await receive()
            if message["type"] == "http.request" and len(body) <= self.max_body:
                body.extend(message.get("body", b"")[: self.max_body + 1 - len(body)])
            return message

        async def send_watched(message: Any) -> None:
            nonlocal status, stream, finished, first_byte
            if message["type"] == "http.response.start":
                status = message["status"]
                stream = any(
                    n == b"content-type" and v.startswith(b"text/event-stream")
                    for n, v in message.get("headers", ())
                )
            elif message["type"] == "http.response.body":
                if first_byte is None:
                    first_byte = time.perf_counter()
                await send(message)
                if not message.get("more_body", False):
                    finished = True
                return
            await send(message)

        record, token = audit.begin()
        try:
            await self.app(scope, receive_teed if self.include_text else receive, send_watched)
        finally:
            audit.end(token)
            self._write(scope, record, began, started, status, stream, finished, first_byte, body)

    def _write(
        self,
        scope: Any,
        record: audit.AuditRecord,
        began: float,
        started: float,
        status: int,
        stream: bool,
        finished: bool,
        first_byte: float | None,
        body: bytearray,
    ) -> None:
        state = scope.get("state", {})
        name, address = state.get(CLIENT_NAME), state.get(CLIENT_IP)
        client = f"t:{name}" if name else f"ip:{address}" if address else None
        if not finished:
            outcome = "disconnect"
        elif status >= 400 or record.error is not None:
            outcome = "error"
        else:
            outcome = "done"
        now = time.perf_counter()
        event: dict[str, Any] = {
            "time": datetime.fromtimestamp(began, UTC).isoformat().replace("+00:00", "Z"),
            "request_id": request_id_of(scope),
            "client": self.hashed(client) if client else None,
            "route": scope.get("path_template") or scope.get("path", "")[:200],
            "method": scope.get("method"),
            "model": record.model,
            "provider": record.provider,
            "status": status or 499,
            "outcome": outcome,
            "stream": stream,
            "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens,
            "latency_ms": round((now - started) * 1000, 2),
            "first_byte_ms": round((first_byte - started) * 1000, 2) if first_byte is not None else None,
            "cache_hit": record.cache_hit,
        }
        if record.error is not None:
            event["error"] = record.error
        if self.include_text and body and len(body) <= self.max_body:
            texts = _texts(bytes(body))
            if texts:
                event["text"] = texts
        for key, value in event.items():
            if isinstance(value, str):
                event[key] = redact(value)
        try:
            self.sink.write(event)
        except (OSError, ValueError) as exc:  # a full disk or a closed file: said, never raised
            log.error("audit_write_failed", error_type=type(exc).__name__)
