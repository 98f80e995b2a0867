"""The API docs pages, served offline: Swagger UI at ``/schema`` and ``/schema/swagger``.

Swagger UI's files come from the ``swagger-ui-bundle-v2`` distribution (pinned in
pyproject.toml) and are served by the app itself under ``/schema/assets/``, so the pages
load nothing from another origin. Scalar, Litestar's usual default, is not offered: no
PyPI package ships its files without a whole other web framework (docs/adr/0012).
"""

from __future__ import annotations

from pathlib import Path

from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

__all__ = ["DOCS_ASSETS_PATH", "DOCS_PATH", "docs_assets_router", "docs_render_plugins"]

DOCS_PATH = "/schema"
DOCS_ASSETS_PATH = DOCS_PATH + "/assets"
_SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css")


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
    """The installed Swagger UI files under ``/schema/assets/swagger-ui/``, left out of the schema."""
    return create_static_files_router(
        path=DOCS_ASSETS_PATH + "/swagger-ui",
        directories=[_swagger_dir()],
        include_in_schema=False,
        name="docs-assets",
    )
