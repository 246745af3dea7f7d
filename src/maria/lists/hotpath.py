"""Cached page reads without FastAPI's parameter handling.

Resolving the page endpoints' five parameters and two dependencies costs more than the
rest of a cached read (about 100 µs of the 200). ``CachedPageRoute`` answers a request
straight from its scope when it is plain and the instance's ``ListCache`` holds both the
list row and the page:

- the caller is anonymous or presented a bearer token (already checked by ``TokenGate``);
  a cookie session goes the declared way, which checks it;
- the query string holds at most ``limit``, ``cursor`` and ``order``, each once, in a
  canonical spelling (no percent-escapes, ``limit`` as plain digits in range).

Everything else (a miss, anything that is an error, any unusual request) goes to the
endpoint as declared, so validation, error bodies and OpenAPI stay FastAPI's, and the
answers of both ways are the same by construction: the endpoint starts with
``cached_response`` too.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response, status
from fastapi.routing import APIRoute
from starlette.types import Scope

from maria.auth.gate import CLAIMS_KEY, TOKEN_ERROR_KEY
from maria.auth.tokens import AccessClaims
from maria.errors import ApiError
from maria.lists.cache import ListCache
from maria.lists.paging import (
    DEFAULT_LIMIT,
    MAX_CURSOR,
    MAX_LIMIT,
    Order,
    PageQuery,
    etag_matches,
    page_query,
)
from maria.lists.service import ListView

_ORDERS: dict[bytes, Order] = {b"newest": "newest", b"oldest": "oldest"}


def cache_control(target: ListView, viewer_id: str | None) -> str:
    # Shared caches may keep public pages (revalidating each time), never private ones.
    return "no-cache" if target.is_public and viewer_id != target.user_id else "private, no-cache"


def cached_response(
    lists: ListCache,
    owner_id: str,
    slug: str,
    viewer_id: str | None,
    query: PageQuery,
    if_none_match: str | None,
) -> Response | None:
    """The page (or 304) from the cache, or ``None`` when the cache can't tell: not cached,
    or an answer that is an error (the database has the last word on those)."""
    target = lists.view(owner_id, slug)
    if target is None or (not target.is_public and viewer_id != target.user_id):
        return None
    try:
        query.check_list(target.id)
    except ApiError:
        return None
    cached = lists.page(lists.page_key(target, *query.key))
    if cached is None:
        return None
    headers = {"ETag": cached.etag, "Cache-Control": cache_control(target, viewer_id)}
    if etag_matches(if_none_match, cached.etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(cached.body, media_type="application/json", headers=headers)


def plain_query(query_string: bytes) -> tuple[int, str | None, Order | None] | None:
    """``limit``, ``cursor`` and ``order`` of a query string in canonical form, else
    ``None`` (the declared parameters then decide)."""
    limit, cursor, order = DEFAULT_LIMIT, None, None
    if not query_string:
        return limit, cursor, order
    if b"%" in query_string or b"+" in query_string or not query_string.isascii():
        return None
    seen: set[bytes] = set()
    for part in query_string.split(b"&"):
        name, eq, value = part.partition(b"=")
        if not eq or name in seen:
            return None
        seen.add(name)
        if name == b"limit":
            if not value.isdigit() or len(value) > 3 or value[:1] == b"0":
                return None
            limit = int(value)
            if limit > MAX_LIMIT:
                return None
        elif name == b"cursor":
            if not value or len(value) > MAX_CURSOR:
                return None
            cursor = value.decode("ascii")
        elif name == b"order":
            order = _ORDERS.get(value)
            if order is None:
                return None
        else:
            return None
    return limit, cursor, order


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return str(value.decode("latin-1"))
    return None


def fast_page(scope: Scope) -> Response | None:
    """A cached answer to a plain page request, or ``None``."""
    if TOKEN_ERROR_KEY in scope:
        return None
    path_params: dict[str, str] = scope["path_params"]
    claims: AccessClaims | None = scope.get(CLAIMS_KEY)
    owner_id = path_params.get("user_id")
    if owner_id is None:  # one's own list
        if claims is None:
            return None
        owner_id = claims.sub
    elif claims is None and _header(scope, b"cookie") is not None:
        return None  # the cookies may hold a session: the declared way reads them
    params = plain_query(scope["query_string"])
    if params is None:
        return None
    limit, cursor, order = params
    try:
        query = page_query(order=order, limit=limit, cursor=cursor)
    except ApiError:
        return None
    lists: ListCache = scope["app"].state.services.lists
    viewer_id = claims.sub if claims is not None else None
    if_none_match = _header(scope, b"if-none-match")
    return cached_response(lists, owner_id, path_params["slug"], viewer_id, query, if_none_match)


class CachedPageRoute(APIRoute):
    """An ``APIRoute`` that tries ``fast_page`` before the declared endpoint."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        declared = super().get_route_handler()

        async def handler(request: Request) -> Response:
            response = fast_page(request.scope)
            if response is None:
                response = await declared(request)
            return response

        return handler
