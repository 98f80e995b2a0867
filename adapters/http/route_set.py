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
- ``access``: ``Access.OPEN`` or ``Access.TOKEN`` (the default).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar import Router
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler

__all__ = ["ACCESS_OPT", "API_PREFIXES", "ROOT", "Access", "RouteSet"]

API_PREFIXES = ("/api", "/ai/api")
ROOT = ("/",)
# The key of a handler's ``opt`` that holds its set's ``Access`` (set on the set's routers).
ACCESS_OPT = "dawai.access"


class Access(enum.IntEnum):
    """Who may call a route, from the least guarded up: where rules meet (parameterised
    paths that overlap), the stricter wins."""

    OPEN = 0  # anyone, API tokens configured or not (health)
    TOKEN = 1  # with API tokens configured (DAWAI_API_TOKENS), one of them
    # Roles (an admin rule) go above TOKEN.


@dataclass(frozen=True)
class RouteSet:
    prefixes: tuple[str, ...]
    handlers: Callable[[], Sequence[HTTPRouteHandler]]
    dependencies: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    access: Access = Access.TOKEN

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
                opt={ACCESS_OPT: self.access},
            )
            for prefix in self.prefixes
        ]


def _bound(build: Callable[[Any], Any], container: Any) -> Callable[[], Any]:
    """A function without parameters for Litestar to inspect and call (a closure: the
    router is deep-copied when registered, and a ``partial`` would copy the container)."""

    def provide() -> Any:
        return build(container)

    return provide
