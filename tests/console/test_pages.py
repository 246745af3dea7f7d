"""What Maria answers at /console, /docs and /redoc: the committed files, with headers that
keep scripts to the served files, and nothing loaded from another host."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from maria.app import create_app
from maria.console.router import STATIC
from tests.support.api import assert_error
from tests.support.app import client_of, make_settings

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app without its lifespan: these routes read files, never the database."""
    app = create_app(make_settings(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path))
    async with client_of(app) as client:
        yield client


class _Refs(HTMLParser):
    """The URLs an HTML page makes the browser load, and those it links to."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.links: list[str] = []
        self.inline_scripts = 0
        self.handlers: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a":
            self.links.append(values.get("href") or "")
        else:
            self.loads += [values[n] or "" for n in ("src", "href") if values.get(n)]
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        self._in_script = tag == "script" and "src" not in values

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def refs(html: str) -> _Refs:
    parser = _Refs()
    parser.feed(html)
    return parser


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for part in csp.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_strict_page(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-cache"
    csp = directives(response.headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"], csp
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    page = refs(response.text)
    assert page.inline_scripts == 0, "an inline script would be refused by the CSP"
    assert page.handlers == [], page.handlers
    return csp


@pytest.mark.parametrize(
    "path", ["/console", "/console/", "/console/lists/favorites", "/console/rooms/r-1?x=1"]
)
async def test_every_console_path_is_the_console_page(web: httpx.AsyncClient, path: str) -> None:
    response = await web.get(path)
    csp = assert_strict_page(response)
    assert response.content == (STATIC / "index.html").read_bytes()
    assert csp["default-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["connect-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["form-action"] == ["'self'"]
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("path", ["/console", "/docs", "/redoc"])
async def test_pages_load_only_their_own_hashed_assets(web: httpx.AsyncClient, path: str) -> None:
    page = await web.get(path)
    assert page.status_code == 200
    assert not re.search(r"https?://", page.text), "the page names another host"
    found = refs(page.text)
    for link in found.links:
        assert link.startswith(("#", "/console/")), link
    loaded = found.loads
    assert loaded, page.text
    for url in loaded:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
        assert url.startswith("/console/assets/"), url
        asset = await web.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"] == CONTENT_TYPES[Path(url).suffix], url
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self';" in asset.headers["content-security-policy"]
        # Cached for a year: safe only because the name changes with the content.
        digest = hashlib.sha256(asset.content).hexdigest()[:10]
        assert Path(url).stem.endswith(f"-{digest}"), url


@pytest.mark.parametrize(("path", "marker"), [("/docs", "swagger-ui"), ("/redoc", "redoc")])
async def test_docs_pages_are_offline_and_strict(
    web: httpx.AsyncClient, path: str, marker: str
) -> None:
    response = await web.get(path)
    csp = assert_strict_page(response)
    # Swagger UI and ReDoc style elements inline; scripts stay the served files.
    assert csp["style-src"] == ["'self'", "'unsafe-inline'"]
    assert csp["connect-src"] == ["'self'"]
    assert f'id="{marker}"' in response.text
    assert 'data-openapi-url="/openapi.json"' in response.text
    assert (await web.get("/openapi.json")).status_code == 200


async def test_the_console_and_docs_are_not_operations_of_the_api(
    web: httpx.AsyncClient,
) -> None:
    paths = (await web.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith(("/console", "/docs", "/redoc"))]
    # FastAPI's own CDN pages are off.
    assert_error(await web.get("/docs/oauth2-redirect"), 404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        "/console/assets/missing-0123456789.js",
        "/console/assets/",
        "/console/assets/sub/app.js",
        "/console/assets/..%2Findex.html",
        "/console/assets/%2e%2e%2f%2e%2e%2frouter.py",
        "/console/assets/index.html",
        "/console/assets/THIRD_PARTY_LICENSES.txt",
        "/console/assets/" + "a" * 300 + ".js",
    ],
)
async def test_asset_urls_name_only_built_files(web: httpx.AsyncClient, path: str) -> None:
    assert_error(await web.get(path), 404, "not_found")


async def test_unsafe_methods_are_refused(web: httpx.AsyncClient) -> None:
    for path in ("/console", "/console/lists", "/docs"):
        response = await web.post(path, content=b"x")
        assert_error(response, 405, "method_not_allowed")
