"""``RouteSet``: what one route module serves, where, needing what, and open to whom.

Each module in ``adapters/http/routes/`` declares one ``RouteSet`` named ``routes``, and
``ROUTES`` in ``adapters/http/routes/__init__.py`` lists them. ``create_app`` mounts each
set at its prefixes with its dependencies; the token guard and the OpenAPI schema read
its access rule from the mounted routes. A new feature is one module plus one line in
``ROUTES`` (docs/adr/0018).

- ``prefixes``: ``API_PREFIXES`` (``/api`` and ``/ai/api``, which serve identical routes),
  ``ROOT``, or a feature's own (``("/diffsinger", "/ai/api/voice")``). Handler paths are
  relative to each prefix and may have parameters (``/voices/{voice_id:str}``).
- ``handlers``: a function returning the handlers (called once per prefix).
- ``dependencies``: name -> a function of the container that returns the value, handed to
  Litestar as a cached ``Provide`` on the set's router (never the container itself). Give a
  handler one dependency: Litestar resolves several in a task group, which costs more than
  the usual handler.
- ``access``: ``Access.OPEN``, ``Access.TOKEN`` (the default) or ``Access.ADMIN`` (a token
  whose role is ``admin``).
- ``audit``: ``Audit.ON`` for AI requests: one audit event each (adapters/http/audit.py).
- ``rate``: the rate-limit class its requests count against (``RateClass``, default
  ``OTHER``; ``UNLIMITED`` for health), limited per client (docs/adr/0024).
- ``slot``: whether each request holds a capped slot for as long as it runs (``Slot``:
  ``STREAM`` for an event stream, ``RENDER`` for a render; default ``NONE``), counted
  per client and in all against ``[limits]`` (adapters/http/concurrency.py).

A handler may make its own path stricter, or count it in another class, through its
``opt`` (``post("/cache/clear", opt={ACCESS_OPT: Access.ADMIN})``,
``opt={RATE_OPT: RateClass.SYNTHESIS}``, ``opt={SLOT_OPT: Slot.STREAM}``): a handler's
``opt`` wins over its router's.
A handler whose requests run long (a stream, a render job) declares
``opt={SHUTDOWN_OPT: OnShutdown.DRAIN}``: when the server stops, open ones may finish up
to ``http.drain_timeout`` and new ones are refused with a 503 (adapters/http/drain.py).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Router
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler

__all__ = [
    "ACCESS_OPT",
    "API_PREFIXES",
    "AUDIT_OPT",
    "RATE_OPT",
    "ROOT",
    "SHUTDOWN_OPT",
    "SLOT_OPT",
    "Access",
    "Audit",
    "OnShutdown",
    "RateClass",
    "RouteSet",
    "Slot",
]

API_PREFIXES = ("/api", "/ai/api")
ROOT = ("/",)
# The key of a handler's ``opt`` that holds its set's ``Access`` (set on the set's routers).
ACCESS_OPT = "dawai.access"
# The key of a handler's ``opt`` that holds its ``RateClass``.
RATE_OPT = "dawai.rate"
# The key of a handler's ``opt`` that holds its ``OnShutdown``.
SHUTDOWN_OPT = "dawai.shutdown"
# The key of a handler's ``opt`` that holds its ``Slot``.
SLOT_OPT = "dawai.slot"
# The key of a handler's ``opt`` that holds its ``Audit``.
AUDIT_OPT = "dawai.audit"


class Access(enum.IntEnum):
    """Who may call a route, from the least guarded up: where rules meet (parameterised
    paths that overlap), the stricter wins."""

    OPEN = 0  # anyone, API tokens configured or not (health)
    TOKEN = 1  # with API tokens configured (DAWAI_API_TOKENS), one of them
    ADMIN = 2  # with API tokens configured, one whose role is admin (cache clear, config)


class RateClass(enum.IntEnum):
    """The rate limit a route's requests count against (``rate_limits.<name>``), per client.
    Ordered only so that overlapping parameterised paths resolve the same way every time."""

    UNLIMITED = 0  # health and the API docs
    OTHER = 1
    GHOST_TEXT = 2
    SYNTHESIS = 3
    CHAT = 4  # chat, agent, generate: the requests that reach an LLM

    @property
    def setting(self) -> str:
        """Its name in ``[rate_limits]`` (``ghost_text``)."""
        return self.name.lower()


class Audit(enum.IntEnum):
    """Whether a route's requests are AI requests, each written to the audit log
    (adapters/http/audit.py)."""

    OFF = 0
    ON = 1


class OnShutdown(enum.IntEnum):
    """What a route's requests get once the server has been asked to stop."""

    SERVE = 0  # served as before, until uvicorn stops accepting connections
    DRAIN = 1  # open ones may finish (up to http.drain_timeout); new ones get a 503


class Slot(enum.IntEnum):
    """The capped slot a request holds while it runs (``[limits]``), if any. Ordered only
    so that overlapping parameterised paths resolve the same way every time."""

    NONE = 0
    RENDER = 1  # a render (singing synthesis): limits.renders, limits.renders_per_client
    STREAM = 2  # an event stream (chat, agent): limits.streams, limits.streams_per_client


@dataclass(frozen=True)
class RouteSet:
    prefixes: tuple[str, ...]
    handlers: Callable[[], Sequence[HTTPRouteHandler]]
    dependencies: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    access: Access = Access.TOKEN
    rate: RateClass = RateClass.OTHER
    slot: Slot = Slot.NONE
    audit: Audit = Audit.OFF

    def routers(self, container: Any) -> list[Router]:
        """One router per prefix, its dependencies built from ``container`` on first use."""
        provided = {
            name: Provide(_bound(build, container), sync_to_thread=False, use_cache=True)
            for name, build in self.dependencies.items()
        }
        return [
            Router(
                path=prefix,
                route_handlers=list(self.handlers()),
                dependencies=provided,
                opt={
                    ACCESS_OPT: self.access,
                    RATE_OPT: self.rate,
                    SLOT_OPT: self.slot,
                    AUDIT_OPT: self.audit,
                },
            )
            for prefix in self.prefixes
        ]


def _bound(build: Callable[[Any], Any], container: Any) -> Callable[[], Any]:
    """A function without parameters for Litestar to inspect and call (a closure: the
    router is deep-copied when registered, and a ``partial`` would copy the container)."""

    def provide() -> Any:
        return build(container)

    return provide
