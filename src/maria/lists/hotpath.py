"""The page routes' shortcut: a cached page answered from the raw scope.

Taken when the request is plain and the instance holds both the list row and the page
(``PageReader.cached``): any caller the identity layer accepted (or an anonymous one on a
public page), and a query string of at most ``limit``, ``cursor`` and ``order``, each once,
in a canonical spelling (no percent-escapes, ``limit`` as plain digits in range). Anything
else goes the declared way (see ``maria.http.shortcut``).
"""

from __future__ import annotations

from fastapi import Response, status
from starlette.types import Scope

from maria.errors import ApiError
from maria.http.identity import caller_of
from maria.http.raw import header
from maria.lists.paging import DEFAULT_LIMIT, MAX_CURSOR, MAX_LIMIT, Order, page_query
from maria.lists.reads import PageAnswer
from maria.lists.service import ListsService

_ORDERS: dict[bytes, Order] = {b"newest": "newest", b"oldest": "oldest"}


def page_response(answer: PageAnswer) -> Response:
    headers = {"ETag": answer.etag, "Cache-Control": answer.cache_control}
    if answer.body is None:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(answer.body, media_type="application/json", headers=headers)


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


def cached_page(scope: Scope, lists: ListsService) -> Response | None:
    """A cached answer to a plain page request, or ``None``."""
    caller = caller_of(scope)
    if caller.refused is not None:
        return None
    identity = caller.identity
    path_params: dict[str, str] = scope["path_params"]
    owner_id = path_params.get("user_id")
    if owner_id is None:  # one's own list
        if identity is None:
            return None
        owner_id = identity.user_id
    params = plain_query(scope["query_string"])
    if params is None:
        return None
    limit, cursor, order = params
    try:
        query = page_query(order=order, limit=limit, cursor=cursor)
    except ApiError:
        return None
    viewer_id = identity.user_id if identity is not None else None
    answer = lists.cached_page(
        owner_id, path_params["slug"], viewer_id, query, header(scope, b"if-none-match")
    )
    return None if answer is None else page_response(answer)
