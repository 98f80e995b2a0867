"""The API docs pages load every script, stylesheet and icon from this server (offline docs)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.conftest import make_settings

DOCS_PAGES = ("/schema", "/schema/swagger")
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


class _AssetLinks(HTMLParser):
    """Every URL a browser would fetch to draw the page: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        self.urls.extend(value for name, value in attrs if name == wanted and value)


def asset_urls(html: str) -> list[str]:
    parser = _AssetLinks()
    parser.feed(html)
    return parser.urls


@pytest.fixture
def guarded_client(client_for, tmp_path):
    """The docs must stay open when API tokens guard the rest."""
    config = tmp_path / "dawai.toml"
    config.write_text('[http]\napi_tokens = ["docs-test-token"]\n')
    return client_for(make_settings({"DAWAI_CONFIG": str(config)}))


@pytest.mark.parametrize("page", DOCS_PAGES)
def test_docs_page_assets_are_same_origin_and_served(guarded_client, page):
    response = guarded_client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    urls = asset_urls(response.text)
    assert any(u.endswith(".js") for u in urls) and any(u.endswith(".css") for u in urls)
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not same-origin"
        asset = guarded_client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert CONTENT_TYPES[suffix] in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 0
    head = response.text.split("<body", 1)[0]
    assert "http://" not in head and "https://" not in head


def test_docs_assets_stay_out_of_the_openapi_schema(client_for):
    paths = client_for().get("/schema/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/schema")]


@pytest.mark.parametrize(
    "path",
    [
        "/schema/redoc",
        "/schema/elements",
        "/schema/no-such-page",
        "/schema/assets/swagger-ui/index.html",  # the bundle's demo page (a petstore on the internet)
        "/schema/assets/swagger-ui/swagger-ui-bundle.js.map",
        "/schema/assets/swagger-ui/../swagger-ui.css",
    ],
)
def test_unknown_docs_paths_and_unused_bundle_files_are_problem_404s(client_for, path):
    response = client_for(make_settings()).get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]
