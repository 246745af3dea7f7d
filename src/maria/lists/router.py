"""HTTP endpoints of movie lists: the caller's own under ``/api/v1/users/me/lists`` and the
public read under ``/api/v1/users/{user_id}/lists/{slug}/items``. Thin: parse, call the
service, answer; the endpoint docstrings are the OpenAPI descriptions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Response, status
from fastapi.responses import JSONResponse
from starlette.convertors import StringConvertor, register_url_convertor

from maria import examples as ex
from maria.errors import BadCursor, Conflict, NotFound, PayloadTooLarge
from maria.fields import CURSOR_PATTERN
from maria.http.deps import IdentityDep, MaybeIdentityDep, service
from maria.http.openapi import doc
from maria.http.shortcut import with_shortcut
from maria.lists.hotpath import cached_page, page_response
from maria.lists.models import MAX_MOVIE_ID
from maria.lists.paging import DEFAULT_LIMIT, MAX_CURSOR, MAX_LIMIT, Order, page_query
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
from maria.lists.service import ListsService
from maria.lists.store import could_be_user_id

router = APIRouter(prefix="/api/v1/users", tags=["lists"])
OWN = "/me/lists"


class _ListSlug(StringConvertor):
    """A path segment naming a list: never ``import``, a reserved slug, so that
    ``/me/lists/import`` is only the import (its other methods are 405s, ``Allow: POST``)."""

    regex = "(?!import$)[^/]+"


register_url_convertor("list_slug", _ListSlug())
ONE = OWN + "/{slug:list_slug}"
Lists = Annotated[ListsService, service("lists")]
PageRoute = with_shortcut("lists", cached_page)

Slug = Annotated[str, Path(description="The list's slug, e.g. `favorites`", examples=["favorites"])]
MovieId = Annotated[
    int,
    Path(ge=1, le=MAX_MOVIE_ID, description="A Kinopoisk movie id", examples=[ex.SHAWSHANK]),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR,
        pattern=CURSOR_PATTERN,
        description="`next_cursor` of the previous page",
    ),
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
}
NO_LIST = NotFound("No such list")
BAD_CURSOR = BadCursor()


# -- own lists ------------------------------------------------------------------------


@router.get(OWN, response_model=list[ListOut], **doc("listLists", "List your lists"))
@router.get(OWN + "/", response_model=list[ListOut], include_in_schema=False)
async def my_lists(identity: IdentityDep, lists: Lists) -> list[ListOut]:
    """The caller's lists: `favorites` and `watch-later` first, then their own by age."""
    return [ListOut.of(v) for v in await lists.own_lists(identity.user_id)]


@router.post(
    OWN,
    response_model=ListOut,
    status_code=status.HTTP_201_CREATED,
    **doc(
        "createList",
        "Create a list",
        Conflict("A user can have at most 100 own lists"),
    ),
)
@router.post(
    OWN + "/", response_model=ListOut, status_code=status.HTTP_201_CREATED, include_in_schema=False
)
async def create_list(body: ListCreate, identity: IdentityDep, lists: Lists) -> ListOut:
    """Create a list. Its slug comes from the title (letters and digits of any script,
    lower-cased, the rest as hyphens; `-2`, `-3`… if taken) and never changes, even when
    the list is renamed. At most 100 own lists (409)."""
    created = await lists.create_list(identity.user_id, title=body.title, is_public=body.is_public)
    return ListOut.of(created)


@router.post(
    OWN + "/import",
    response_model=ImportOut,
    **doc(
        "importLists",
        "Import Kinoway's localStorage lists",
        Conflict("A list holds at most 10000 movies"),
        PayloadTooLarge("At most 10000 ids per import (got 12000)"),
    ),
)
async def import_lists(body: ImportIn, identity: IdentityDep, lists: Lists) -> ImportOut:
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
    return ImportOut.of(await lists.import_lists(identity.user_id, body.arrays()))


@router.get(ONE, response_model=ListOut, **doc("getList", "Get one of your lists", NO_LIST))
async def get_list(slug: Slug, identity: IdentityDep, lists: Lists) -> ListOut:
    """One of the caller's lists."""
    return ListOut.of(await lists.get_list(identity.user_id, slug))


@router.patch(
    ONE,
    response_model=ListOut,
    **doc(
        "updateList",
        "Rename a list or change who can see it",
        NO_LIST,
        Conflict("Built-in lists can't be renamed"),
    ),
)
async def patch_list(slug: Slug, body: ListPatch, identity: IdentityDep, lists: Lists) -> ListOut:
    """Rename a list or make it public/private. The slug stays; built-ins can't be renamed."""
    updated = await lists.update_list(
        identity.user_id, slug, title=body.title, is_public=body.is_public
    )
    return ListOut.of(updated)


@router.delete(
    ONE,
    status_code=status.HTTP_204_NO_CONTENT,
    **doc("deleteList", "Delete a list", NO_LIST, Conflict("Built-in lists can't be deleted")),
)
async def delete_list(slug: Slug, identity: IdentityDep, lists: Lists) -> Response:
    """Delete an own list and its items (built-ins: 409)."""
    await lists.delete_list(identity.user_id, slug)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- items ----------------------------------------------------------------------------


async def my_items(
    slug: Slug,
    identity: IdentityDep,
    lists: Lists,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    order: OrderParam = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A page of a list, newest first by default. Pages carry an `ETag`; send it back in
    `If-None-Match` to get 304 while the list is unchanged. Cursors stay valid while items
    are added or removed: no item present throughout is skipped or repeated."""
    query = page_query(order=order, limit=limit, cursor=cursor)
    return page_response(
        await lists.page(identity.user_id, slug, identity.user_id, query, if_none_match)
    )


router.add_api_route(
    OWN + "/{slug}/items",
    my_items,
    methods=["GET"],
    response_model=ItemPage,
    response_class=JSONResponse,
    route_class_override=PageRoute,
    **doc(
        "listListItems",
        "List the movies of one of your lists",
        NO_LIST,
        BAD_CURSOR,
        responses=PAGE_RESPONSES,
    ),
)


@router.get(
    OWN + "/{slug}/items/{movie_id}",
    response_model=ItemOut,
    **doc("getListItem", "Get one movie of a list", NotFound("This movie is not in the list")),
)
async def get_item(slug: Slug, movie_id: MovieId, identity: IdentityDep, lists: Lists) -> ItemOut:
    """One movie of a list, or 404 when it is not in the list."""
    return ItemOut.of(await lists.get_item(identity.user_id, slug, movie_id))


@router.put(
    OWN + "/{slug}/items/{movie_id}",
    response_model=ItemOut,
    **doc(
        "addListItem",
        "Add a movie to a list",
        NO_LIST,
        Conflict("A list holds at most 10000 movies"),
        responses={201: {"model": ItemOut, "description": "Added"}},
    ),
)
async def put_item(
    slug: Slug,
    movie_id: MovieId,
    identity: IdentityDep,
    lists: Lists,
    response: Response,
    body: Annotated[ItemPut | None, Body()] = None,
) -> ItemOut:
    """Add a movie: 201 the first time, 200 when it is already there (idempotent, also under
    concurrent requests). `{"note": ...}` sets the note (≤ 500 characters; `null` or `""`
    clears it); without `note` an existing note is kept. At most 10,000 movies (409)."""
    if body is None or "note" not in body.model_fields_set:
        item, created = await lists.put_item(identity.user_id, slug, movie_id)
    else:
        item, created = await lists.put_item(identity.user_id, slug, movie_id, body.note or None)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return ItemOut.of(item)


@router.delete(
    OWN + "/{slug}/items/{movie_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    **doc("removeListItem", "Remove a movie from a list", NO_LIST),
)
async def delete_item(
    slug: Slug, movie_id: MovieId, identity: IdentityDep, lists: Lists
) -> Response:
    """Remove a movie; 204 whether or not it was there."""
    await lists.remove_item(identity.user_id, slug, movie_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- public ---------------------------------------------------------------------------


async def public_items(
    user_id: Annotated[str, Path(description="The owner's user id")],
    slug: Slug,
    identity: MaybeIdentityDep,
    lists: Lists,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    order: OrderParam = None,
    if_none_match: IfNoneMatch = None,
) -> Response:
    """A page of a public list; no sign-in needed. Private lists answer 404 to everyone
    but their owner. Paging and ETags work as for your own lists."""
    if not could_be_user_id(user_id):
        raise NotFound("No such list")
    query = page_query(order=order, limit=limit, cursor=cursor)
    viewer_id = identity.user_id if identity is not None else None
    return page_response(await lists.page(user_id, slug, viewer_id, query, if_none_match))


router.add_api_route(
    "/{user_id}/lists/{slug}/items",
    public_items,
    methods=["GET"],
    response_model=ItemPage,
    response_class=JSONResponse,
    route_class_override=PageRoute,
    **doc(
        "listPublicListItems",
        "List the movies of someone's public list",
        NO_LIST,
        BAD_CURSOR,
        responses=PAGE_RESPONSES,
    ),
)
