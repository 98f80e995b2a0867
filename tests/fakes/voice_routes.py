"""A route module for tests only, declared as a feature would declare its own: mounted at
``/diffsinger`` and ``/ai/api/voice``, with a path parameter, a dependency built from the
container and the default access rule (a token, when tokens are configured). No product
endpoint: nothing outside the tests lists it."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from dawai.adapters.http.route_set import RouteSet

__all__ = ["PREFIXES", "routes"]

PREFIXES = ("/diffsinger", "/ai/api/voice")


async def _voice(voice_id: FromPath[str], voices: NamedDependency[list[str]]) -> dict[str, object]:
    """Whether a voice is registered."""
    return {"voice": voice_id, "registered": voice_id in voices}


def handlers() -> list[HTTPRouteHandler]:
    return [get("/test-voices/{voice_id:str}", summary="A test voice", tags=["test"])(_voice)]


routes = RouteSet(PREFIXES, handlers, {"voices": lambda container: sorted(container.catalog().voices)})
