"""``dawai serve`` with one worker: uvicorn's ``Server``, told to drain first.

On SIGTERM or SIGINT, ``DrainingServer.handle_exit`` hands the stop to the container's
``Drains`` (bootstrap/lifecycle.py): streams (and whatever else is registered) refuse new
work with a 503 while the server still accepts connections, what is open may finish for up
to ``http.drain_timeout`` seconds, what is still open then ends with its in-band error;
only then does uvicorn's own graceful shutdown run: it stops accepting connections, waits
for the (now finished) responses and runs the app's shutdown. A second signal cuts the
drain short; one after the drain goes to uvicorn (a second SIGINT: stop at once). Only
uvicorn's public surface is used: ``Config(app=...)``, ``Server.run`` and a ``handle_exit``
override (docs/adr/0014, docs/adr/0029).
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

import uvicorn

from dawai.bootstrap.asgi import build
from dawai.bootstrap.lifecycle import Drains
from dawai.core.settings import Settings

__all__ = ["DrainingServer", "serve_in_process"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, drains: Drains) -> None:
        super().__init__(config)
        self._drains = drains
        self._drained = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drained or not self._drains.request(lambda: self._after_drain(sig, frame)):
            super().handle_exit(sig, frame)

    def _after_drain(self, sig: int, frame: FrameType | None) -> None:
        self._drained = True
        super().handle_exit(sig, frame)


def _stopped(_sig: int, _frame: FrameType | None) -> None:
    """Stands for the process's own handlers while uvicorn runs. After a graceful stop
    uvicorn raises the signal again under the handlers it found; with these, the stop it
    already carried out ends the process with status 0, not a KeyboardInterrupt or -15."""


def serve_in_process(settings: Settings, host: str, port: int, **uvicorn_options: Any) -> int:
    app, container = build(settings)
    config = uvicorn.Config(app, host=host, port=port, **uvicorn_options)
    server = DrainingServer(config, container.drains())
    previous = {sig: signal.signal(sig, _stopped) for sig in _STOP_SIGNALS}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if server.started else 3  # as uvicorn.run: 3 when start-up failed
