"""``PathRules``: a value per request path, read from the app's mounted routes.

Each route set's declarations (its ``Access``, its ``RateClass``) travel as the routers'
``opt`` (route_set.py); once the app is built, ``PathRules.of_routes(app.routes, key, ...)``
reads each route's full path and the value under ``key``, so the ASGI guards outside
Litestar (token, rate limit) and the OpenAPI schema all ask one table, parameterised paths
included, and no list of paths is kept by hand (docs/adr/0018).

A static path wins over parameterised ones (as Litestar routes); where parameterised paths
overlap, the greatest value wins (the stricter rule). ``open_prefixes`` (the API docs) and
everything under them get ``open_value``; a path no route serves gets ``default``.

A request's path is read as Litestar routes it (``routed_path``: the root path cut off,
slashes at the ends and in runs collapsed), so ``/api/admin/config/`` and
``//api//admin/config`` fall under the rule of the route they reach.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from litestar.routes import HTTPRoute
from litestar.utils import normalize_path

__all__ = ["PathRules", "routed_path"]

V = TypeVar("V", bound=enum.IntEnum)

# ``/{name:type}`` in a Litestar path; a ``path`` parameter takes the rest, slashes included.
_PARAMETER = re.compile(r"/\{([^}:]+):([^}]+)\}")


def routed_path(scope: Any) -> str:
    """The path Litestar's router matches for ``scope`` (as its ``ASGIRouter`` reads it)."""
    path: str = scope.get("path", "")
    if root_path := scope.get("root_path", ""):
        path = path.split(root_path, maxsplit=1)[-1]
    return normalize_path(path)


def _path_pattern(path: str) -> re.Pattern[str]:
    parts, end = [], 0
    for match in _PARAMETER.finditer(path):
        parts.append(re.escape(path[end : match.start()]))
        parts.append("(?:/.*)?" if match.group(2) == "path" else "/[^/]+")
        end = match.end()
    parts.append(re.escape(path[end:]))
    return re.compile("".join(parts), re.DOTALL)


class PathRules(Generic[V]):
    """The value of each path the app serves (``by_path``, in Litestar's syntax:
    ``/voices/{voice_id:str}``)."""

    def __init__(
        self,
        by_path: Mapping[str, V],
        *,
        default: V,
        open_value: V,
        open_prefixes: Iterable[str] = (),
    ) -> None:
        self.default, self.open_value = default, open_value
        self._exact = {p: v for p, v in by_path.items() if "{" not in p}
        self._patterns = [(_path_pattern(p), v) for p, v in by_path.items() if "{" in p]
        # The same paths as the OpenAPI schema writes them: /voices/{voice_id:str} -> /voices/{voice_id}
        self._documented = {_PARAMETER.sub(r"/{\1}", p): v for p, v in by_path.items()}
        self._open_prefixes = tuple(open_prefixes)
        self._cache: dict[str, V] = {}

    @staticmethod
    def read(routes: Iterable[Any], key: str, default: V) -> dict[str, V]:
        """``path -> value`` from Litestar's routes (``app.routes``): the greatest of the
        path's handlers' ``opt[key]`` (a handler without one, Litestar's own, ``default``)."""
        found: dict[str, V] = {}
        for route in routes:
            if isinstance(route, HTTPRoute):
                found[route.path] = max(
                    (h.opt.get(key, default) for h in route.route_handlers), default=default
                )
        return found

    def _opened(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self._open_prefixes)

    def for_scope(self, scope: Any) -> V:
        """The value for a request, by the path Litestar will route it to."""
        return self.for_path(routed_path(scope))

    def for_path(self, path: str) -> V:
        """The value for a path as Litestar routes it (``routed_path``)."""
        if self._opened(path):
            return self.open_value
        value = self._exact.get(path)
        if value is not None:
            return value
        value = self._cache.get(path)
        if value is None:
            matched = [v for pattern, v in self._patterns if pattern.fullmatch(path)]
            value = max(matched) if matched else self.default
            if len(self._cache) < 4096:  # paths with parameters: bounded, any client may vary them
                self._cache[path] = value
        return value

    def for_documented(self, path: str) -> V:
        """The value for a path as the OpenAPI schema writes it (``/voices/{voice_id}``)."""
        if self._opened(path):
            return self.open_value
        return self._documented.get(path, self.default)
