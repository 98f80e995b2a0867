"""The API docs pages, served offline: Swagger UI at ``/schema`` and ``/schema/swagger``.

Swagger UI's files come from the ``swagger-ui-bundle-v2`` distribution (pinned in
pyproject.toml) and are served by the app itself under ``/schema/assets/``, so the pages
load nothing from another origin. Scalar, Litestar's usual default, is not offered: no
PyPI package ships its files without a whole other web framework (docs/adr/0012).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from litestar import Response, get
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.params import FromPath
from litestar.response import File
from litestar.router import Router
from swagger_ui_bundle import swagger_ui_path

from dawai.adapters.http.problems import problem_response

__all__ = [
    "DOCS_ASSETS_PATH",
    "DOCS_PATH",
    "docs_assets_router",
    "docs_not_found_as_problem",
    "docs_render_plugins",
]

DOCS_PATH = "/schema"
DOCS_ASSETS_PATH = DOCS_PATH + "/assets"
_SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css")
# Only what the pages load: the bundle's folder also holds a demo index.html (pointed at
# a petstore on the internet), an OAuth redirect page, templates and source maps.
_SERVED = {
    **{name: "text/css" if name.endswith(".css") else "text/javascript" for name in _SWAGGER_FILES},
    "favicon-32x32.png": "image/png",
}


def _swagger_dir() -> Path:
    folder = Path(str(swagger_ui_path))
    missing = [name for name in _SWAGGER_FILES if not (folder / name).is_file()]
    if missing:  # a changed bundle layout: better a clear start-up failure than a blank page
        raise RuntimeError(f"swagger-ui-bundle lacks {', '.join(missing)} in {folder}")
    return folder


def docs_render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at the docs root and at ``/swagger``, every asset from this server."""
    asset = f"{DOCS_ASSETS_PATH}/swagger-ui/"
    return [
        SwaggerRenderPlugin(
            path=["/", "/swagger"],
            js_url=asset + "swagger-ui-bundle.js",
            css_url=asset + "swagger-ui.css",
            standalone_preset_js_url=asset + "swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{asset}favicon-32x32.png'>",
        )
    ]


def docs_assets_router() -> Router:
    """The Swagger UI files the pages load, under ``/schema/assets/swagger-ui/``, and
    nothing else of the bundle; left out of the schema."""
    folder = _swagger_dir()

    @get("/{name:str}", include_in_schema=False, sync_to_thread=False, name="docs-asset")
    def asset(name: FromPath[str]) -> File:
        media_type = _SERVED.get(name)
        if media_type is None:
            raise NotFoundException(detail=f"No docs asset {name}.")
        return File(
            folder / name,
            content_disposition_type="inline",
            media_type=media_type,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return Router(DOCS_ASSETS_PATH + "/swagger-ui", route_handlers=[asset], include_in_schema=False)


def docs_not_found_as_problem(response: Response[Any]) -> Response[Any]:
    """``after_request``: Litestar answers an unknown ``/schema/...`` path (``/schema/redoc``)
    with an HTML page of its own, the only HTML 404 this app makes; this server's 404s are
    problem documents. (The hook sees only the response: the request id comes from the
    context ``RequestContext`` binds for the request's log lines.)"""
    if response.status_code != 404 or response.media_type != MediaType.HTML:
        return response
    request_id = str(structlog.contextvars.get_contextvars().get("request_id", ""))
    detail = "No such page of the API docs; they are at /schema."
    return problem_response(404, "Not found", detail, request_id)
