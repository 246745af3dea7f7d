"""The web console (``/console``) and the API docs (``/docs``, ``/redoc``), served from the
files ``console/build.mjs`` wrote into ``static/`` (committed, so a Python-only machine
serves them; no CDN, nothing loaded from another host).

Only files and headers here. Pages get a Content-Security-Policy without inline scripts
and are revalidated on every load; assets carry their content's hash in their names, so
they are cached for a year.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

from maria.errors import NotFound

STATIC = Path(__file__).with_name("static")
ASSETS = STATIC / "assets"

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# The console builds its DOM from text nodes and runs one bundled script: nothing inline.
# The avatar preview is a blob: URL; the room socket is same-origin ('self' covers ws/wss).
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
# Swagger UI and ReDoc set style attributes and <style> elements (styled-components) and
# ReDoc searches in a blob: worker; scripts are still only the served files.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"

_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
_ASSET_NAME = re.compile(r"[A-Za-z0-9._-]{1,128}")

router = APIRouter(include_in_schema=False)


@cache
def _page_bytes(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@cache
def _asset_names() -> frozenset[str]:
    """The files the build wrote: the only names an asset URL may take (no path is joined
    from the request)."""
    return frozenset(p.name for p in ASSETS.iterdir() if p.suffix in _TYPES)


def _page(name: str, csp: str) -> Response:
    headers = {**_COMMON, "Content-Security-Policy": csp, "Cache-Control": PAGE_CACHE}
    return Response(_page_bytes(name), media_type="text/html; charset=utf-8", headers=headers)


@router.get("/console/assets/{name}")
async def console_asset(name: str) -> FileResponse:
    if not _ASSET_NAME.fullmatch(name) or name not in _asset_names():
        raise NotFound("No such console asset")
    path = ASSETS / name
    headers = {**_COMMON, "Content-Security-Policy": CONSOLE_CSP, "Cache-Control": ASSET_CACHE}
    return FileResponse(path, media_type=_TYPES[path.suffix], headers=headers)


@router.get("/console")
@router.get("/console/{page:path}")
async def console(page: str = "") -> Response:
    """Every console path answers the same page: the console routes in the browser."""
    if page.startswith("assets/"):
        raise NotFound("No such console asset")
    return _page("index.html", CONSOLE_CSP)


@router.get("/docs")
async def swagger_ui() -> Response:
    return _page("docs.html", DOCS_CSP)


@router.get("/redoc")
async def redoc() -> Response:
    return _page("redoc.html", DOCS_CSP)
