"""HTTP endpoints of movie lists: the caller's own under ``/api/v1/users/me/lists`` and the
public read under ``/api/v1/users/{user_id}/lists/{slug}/items``. Thin: parse, call the
service, answer; the endpoint docstrings are the OpenAPI descriptions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse

from maria.auth.tokens import AccessClaims
from maria.deps import ClaimsDep, ServicesDep, current_claims
from maria.errors import NotAuthenticated, NotFound
from maria.lists import importer, items, pages, service
from maria.lists.cache import CachedPage
from maria.lists.hotpath import CachedPageRoute, cache_control, cached_response
from maria.lists.models import MAX_MOVIE_ID
from maria.lists.paging import (
    DEFAULT_LIMIT,
    MAX_CURSOR,
    MAX_LIMIT,
    Order,
    etag_matches,
    page_etag,
    page_query,
)
from maria.lists.readers import reader
from maria.lists.schemas import (
    ImportIn,
    ImportOut,
    ItemOut,
    ItemPage,
    ItemPut,
    ListCreate,
    ListOut,
    ListPatch,
)
from maria.lists.service import ListView
from maria.services import Services

router = APIRouter(prefix="/api/v1/users", tags=["lists"])
OWN = "/me/lists"

Slug = Annotated[str, Path(description="The list's slug, e.g. `favorites`")]
MovieId = Annotated[int, Path(ge=1, le=MAX_MOVIE_ID, description="A Kinopoisk movie id")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[
    str | None, Query(max_length=MAX_CURSOR, description="`next_cursor` of the previous page")
]
OrderParam = Annotated[
    Order | None,
    Query(description="`newest` (default) or `oldest` first; a cursor remembers it"),
]
IfNoneMatch = Annotated[str | None, Header(description="ETag of a page you hold")]

Responses = dict[int | str, dict[str, Any]]
PAGE_RESPONSES: Responses = {
    200: {"model": ItemPage, "description": "A page, with an `ETag` header"},
    304: {"description": "Not modified: the page is unchanged since the ETag you sent"},
    404: {"description": "No such list, or a private list of someone else"},
}
NOT_FOUND: Responses = {404: {"description": "No such list"}}
CONFLICT: Responses = {409: {"description": "A limit or a built-in list's rule"}}


async def optional_claims(request: Request) -> AccessClaims | None:
    """The caller if signed in (bearer or cookie), else ``None``; a bad token still fails."""
    try:
        return await current_claims(request)
    except NotAuthenticated:
        return None


async def _page_response(
    services: Services,
    owner_id: str,
    slug: str,
    *,
    viewer_id: str | None,
    order: Order | None,
    limit: int,
    cursor: str | None,
    if_none_match: str | None,
) -> Response:
    """A page with its ETag, or 304 when the client's copy is current.

    From the instance's cache (``cache.ListCache``) when it holds a recent list row and the
    page: no database round trip and no serialisation (``hotpath`` answers most of those
    before this endpoint runs). When the row is older than the cache trusts but its page is
    kept, one indexed read of the row tells whether the page is still current. Otherwise one
    statement reads the list row and the page, and both are kept for the next reads."""
    query = page_query(order=order, limit=limit, cursor=cursor)
    lists = services.lists
    cached = cached_response(lists, owner_id, slug, viewer_id, query, if_none_match)
    if cached is not None:
        return cached
    fresh = lists.view(owner_id, slug)
    if fresh is not None:  # refusals need no database either
        service.check_readable(fresh, viewer_id)
        query.check_list(fresh.id)
    known = lists.known(owner_id, slug)
    if known is not None and lists.page(lists.page_key(known, *query.key)) is not None:
        # The page of the row last read is kept: if that row is still current (one
        # indexed read of it), the page is too.
        load = lists.begin_load(owner_id, slug)
        current: ListView | None = None
        try:
            async with reader(services.engine)() as db:
                current = await pages.read_view(db, owner_id, slug)
        finally:
            lists.end_load(load, current)
        cached = cached_response(lists, owner_id, slug, viewer_id, query, if_none_match)
        if cached is not None:
            return cached
    load = lists.begin_load(owner_id, slug)
    found: ListView | None = None
    try:
        async with reader(services.engine)() as db:
            found, page = await pages.read_page(db, owner_id, slug, query)
    finally:
        lists.end_load(load, found)
    service.check_readable(found, viewer_id)
    query.check_list(found.id)
    etag = page_etag(found.id, found.version, found.updated_at, found.count, query)
    headers = {"ETag": etag, "Cache-Control": cache_control(found, viewer_id)}
    body = ItemPage.of(page).model_dump_json().encode()
    lists.keep_page(lists.page_key(found, *query.key), CachedPage(etag, body))
    if etag_matches(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


# -- own lists ------------------------------------------------------------------------


@router.get(OWN, response_model=list[ListOut])
@router.get(OWN + "/", response_model=list[ListOut], include_in_schema=False)
async def my_lists(claims: ClaimsDep, services: ServicesDep) -> list[ListOut]:
    """The caller's lists: `favorites` and `watch-later` first, then their own by age."""
    async with reader(services.engine)() as db:
        return [ListOut.of(v) for v in await service.own_lists(db, claims.sub)]


@router.post(OWN, response_model=ListOut, status_code=status.HTTP_201_CREATED, responses=CONFLICT)
@router.post(
    OWN + "/", response_model=ListOut, status_code=status.HTTP_201_CREATED, include_in_schema=False
)
async def create_list(body: ListCreate, claims: ClaimsDep, services: ServicesDep) -> ListOut:
    """Create a list. Its slug comes from the title (letters and digits of any script,
    lower-cased, the rest as hyphens; `-2`, `-3`… if taken) and never changes, even when
    the list is renamed. At most 100 own lists (409)."""
    async with services.sessionmaker() as db, db.begin():
        created = await service.create_list(
            db, claims.sub, title=body.title, is_public=body.is_public
        )
    await services.lists.changed(claims.sub)
    return ListOut.of(created)


@router.post(
    OWN + "/import",
    response_model=ImportOut,
    responses={**CONFLICT, 413: {"description": "More than 10,000 ids"}},
)
async def import_lists(body: ImportIn, claims: ClaimsDep, services: ServicesDep) -> ImportOut:
    """Merge the client's localStorage arrays into `favorites` and `watch-later`.

    Send them as stored: `{"favorites": [...], "watch-later": [...]}` (either may be left
    out). Each array is read in the order it was built, **first element oldest**: imported
    movies get `added_at` increasing along the array, after everything already in the list,
    so the last element is the newest. Movies already present keep their place and note.

    `added`: movies new to a list; `existing`: valid ids already there (or repeated in the
    array); `skipped`: elements that are not movie ids (strings, floats, bools, null, 0,
    negatives, over 2^31-1). All or nothing: if a list would exceed 10,000 movies, 409 and
    nothing is imported. At most 10,000 elements in all per call (413).
    """
    async with services.sessionmaker() as db:
        result = await importer.import_lists(db, claims.sub, body.arrays())
    await services.lists.changed(claims.sub)
    return ImportOut.of(result)


@router.get(OWN + "/{slug}", response_model=ListOut, responses=NOT_FOUND)
async def get_list(slug: Slug, claims: ClaimsDep, services: ServicesDep) -> ListOut:
    """One of the caller's lists."""
    async with reader(services.engine)() as db:
        return ListOut.of(await service.get_list(db, claims.sub, slug))


@router.patch(OWN + "/{slug}", response_model=ListOut, responses={**NOT_FOUND, **CONFLICT})
async def patch_list(
    slug: Slug, body: ListPatch, claims: ClaimsDep, services: ServicesDep
) -> ListOut:
    """Rename a list or make it public/private. The slug stays; built-ins can't be renamed."""
    async with services.sessionmaker() as db, db.begin():
        updated = await service.update_list(
            db, claims.sub, slug, title=body.title, is_public=body.is_public
        )
    await services.lists.changed(claims.sub)
    return ListOut.of(updated)


@router.delete(
    OWN + "/{slug}", status_code=status.HTTP_204_NO_CONTENT, responses={**NOT_FOUND, **CONFLICT}
)
async def delete_list(slug: Slug, claims: ClaimsDep, services: ServicesDep) -> Response:
    """Delete an own list and its items (built-ins: 409)."""
    async with services.sessionmaker() as db, db.begin():
        await service.delete_list(db, claims.sub, slug)
    await services.lists.changed(claims.sub)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- items ----------------------------------------------------------------------------


async def my_items(
    slug: Slug,
    claims: ClaimsDep,
    services: ServicesDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    order: OrderParam = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A page of a list, newest first by default. Pages carry an `ETag`; send it back in
    `If-None-Match` to get 304 while the list is unchanged. Cursors stay valid while items
    are added or removed: no item present throughout is skipped or repeated."""
    return await _page_response(
        services,
        claims.sub,
        slug,
        viewer_id=claims.sub,
        order=order,
        limit=limit,
        cursor=cursor,
        if_none_match=if_none_match,
    )


router.add_api_route(
    OWN + "/{slug}/items",
    my_items,
    methods=["GET"],
    response_model=ItemPage,
    response_class=JSONResponse,
    responses=PAGE_RESPONSES,
    route_class_override=CachedPageRoute,
)


@router.get(
    OWN + "/{slug}/items/{movie_id}",
    response_model=ItemOut,
    responses={404: {"description": "No such list, or the movie is not in it"}},
)
async def get_item(
    slug: Slug, movie_id: MovieId, claims: ClaimsDep, services: ServicesDep
) -> ItemOut:
    """One movie of a list, or 404 when it is not in the list."""
    async with reader(services.engine)() as db:
        return ItemOut.of(await items.get_item(db, claims.sub, slug, movie_id))


@router.put(
    OWN + "/{slug}/items/{movie_id}",
    response_model=ItemOut,
    responses={201: {"model": ItemOut, "description": "Added"}, **NOT_FOUND, **CONFLICT},
)
async def put_item(
    slug: Slug,
    movie_id: MovieId,
    claims: ClaimsDep,
    services: ServicesDep,
    response: Response,
    body: Annotated[ItemPut | None, Body()] = None,
) -> ItemOut:
    """Add a movie: 201 the first time, 200 when it is already there (idempotent, also under
    concurrent requests). `{"note": ...}` sets the note (≤ 500 characters; `null` or `""`
    clears it); without `note` an existing note is kept. At most 10,000 movies (409)."""
    async with services.sessionmaker() as db:
        if body is None or "note" not in body.model_fields_set:
            item, created = await items.put_item(db, claims.sub, slug, movie_id)
        else:
            note = body.note or None
            item, created = await items.put_item(db, claims.sub, slug, movie_id, note)
    await services.lists.changed(claims.sub)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return ItemOut.of(item)


@router.delete(
    OWN + "/{slug}/items/{movie_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND
)
async def delete_item(
    slug: Slug, movie_id: MovieId, claims: ClaimsDep, services: ServicesDep
) -> Response:
    """Remove a movie; 204 whether or not it was there."""
    async with services.sessionmaker() as db:
        await items.remove_item(db, claims.sub, slug, movie_id)
    await services.lists.changed(claims.sub)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- public ---------------------------------------------------------------------------


async def public_items(
    user_id: Annotated[str, Path(description="The owner's user id")],
    slug: Slug,
    request: Request,
    services: ServicesDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    order: OrderParam = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A page of a public list; no sign-in needed. Private lists answer 404 to everyone
    but their owner. Paging and ETags work as for your own lists."""
    claims = await optional_claims(request)
    if not service.could_be_user_id(user_id):
        raise NotFound("No such list")
    return await _page_response(
        services,
        user_id,
        slug,
        viewer_id=claims.sub if claims is not None else None,
        order=order,
        limit=limit,
        cursor=cursor,
        if_none_match=if_none_match,
    )


router.add_api_route(
    "/{user_id}/lists/{slug}/items",
    public_items,
    methods=["GET"],
    response_model=ItemPage,
    response_class=JSONResponse,
    responses=PAGE_RESPONSES,
    route_class_override=CachedPageRoute,
)
