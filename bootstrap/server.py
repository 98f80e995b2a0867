"""``dawai serve`` with one worker: uvicorn's ``Server``, told to drain open streams first.

On SIGTERM or SIGINT, ``DrainingServer.handle_exit`` asks the app's ``StreamDrain`` to end
every open SSE stream in-band (a 503 ``error`` event, ``[DONE]``, a clean end of the
chunked body, the upstream closed), then lets uvicorn's own graceful shutdown run: it stops
accepting connections, waits for the (now short) responses and runs the app's shutdown.
Only uvicorn's public surface is used: ``Config(app=...)``, ``Server.run`` and a
``handle_exit`` override (docs/adr/0014).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn

from dawai.bootstrap.asgi import build
from dawai.core.settings import Settings

__all__ = ["DrainingServer", "serve_in_process"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)


def _stopped(_sig: int, _frame: FrameType | None) -> None:
    """Stands for the process's own handlers while uvicorn runs. After a graceful stop
    uvicorn raises the signal again under the handlers it found; with these, the stop it
    already carried out ends the process with status 0, not a KeyboardInterrupt or -15."""


def serve_in_process(settings: Settings, host: str, port: int, **uvicorn_options: Any) -> int:
    app, container = build(settings)
    config = uvicorn.Config(app, host=host, port=port, **uvicorn_options)
    server = DrainingServer(config, on_exit=container.stream_drain().request)
    previous = {sig: signal.signal(sig, _stopped) for sig in _STOP_SIGNALS}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 3  # as uvicorn.run: 3 when start-up failed
