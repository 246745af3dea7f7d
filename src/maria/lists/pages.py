"""Pages of a list: the list row and one page of its items, read in one statement.

See ``paging`` for the cursor and ETag; this module turns a ``PageQuery`` into SQL. The
statement is built once per variant (order, with or without a cursor) and reused with bound
parameters: constructing it costs far more than running it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, String, bindparam, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from maria.db import UTCDateTime
from maria.errors import NotFound
from maria.lists.items import ITEM_COLUMNS, ItemView
from maria.lists.models import ListItem, MovieList
from maria.lists.paging import PageQuery, Position, encode_cursor
from maria.lists.slugs import looks_like_slug
from maria.lists.store import LIST_COLUMNS, ListView


@dataclass(frozen=True, slots=True)
class Page:
    items: list[ItemView]
    next_cursor: str | None


def _build_page_statement(newest: bool, after: bool) -> Select[*tuple[Any, ...]]:
    """The list row and one page of its items, in one statement (one round trip).

    The page is a subquery ordered by the index ``(list_id, added_at, movie_id)`` and cut at
    ``limit + 1`` rows, joined to the list row: no row at all means no such list, one row
    without an item an empty page. The outer ``ORDER BY`` sorts at most ``limit + 1`` rows.
    Parameters: ``user_id``, ``slug``, ``limit`` and, after a cursor, ``after_at`` and
    ``after_id``.
    """
    user_id, slug = bindparam("user_id", type_=String()), bindparam("slug", type_=String())
    list_id = (
        select(MovieList.id)
        .where(MovieList.user_id == user_id, MovieList.slug == slug)
        .scalar_subquery()
    )
    items = select(*ITEM_COLUMNS).where(ListItem.list_id == list_id)
    if after:
        key = tuple_(ListItem.added_at, ListItem.movie_id)
        position = tuple_(
            bindparam("after_at", type_=UTCDateTime()), bindparam("after_id", type_=Integer())
        )
        items = items.where(key < position if newest else key > position)
    if newest:
        items = items.order_by(ListItem.added_at.desc(), ListItem.movie_id.desc())
    else:
        items = items.order_by(ListItem.added_at.asc(), ListItem.movie_id.asc())
    page = items.limit(bindparam("limit", type_=Integer())).subquery("page")
    by = (page.c.added_at.asc(), page.c.movie_id.asc())
    if newest:
        by = (page.c.added_at.desc(), page.c.movie_id.desc())
    return (
        select(*LIST_COLUMNS, page.c.movie_id, page.c.added_at, page.c.note)
        .select_from(MovieList)
        .outerjoin(page, true())
        .where(MovieList.user_id == user_id, MovieList.slug == slug)
        .order_by(*by)
    )


_PAGE_STATEMENTS = {
    (newest, after): _build_page_statement(newest, after)
    for newest in (True, False)
    for after in (True, False)
}


def page_statement(
    user_id: str, slug: str, query: PageQuery
) -> tuple[Select[*tuple[Any, ...]], dict[str, Any]]:
    """The page statement for ``query`` and its parameters."""
    params: dict[str, Any] = {"user_id": user_id, "slug": slug, "limit": query.limit + 1}
    if query.after is not None:
        params["after_at"] = query.after.added_at
        params["after_id"] = query.after.movie_id
    return _PAGE_STATEMENTS[(query.order == "newest", query.after is not None)], params


_VIEW_STATEMENT = select(*LIST_COLUMNS).where(
    MovieList.user_id == bindparam("user_id", type_=String()),
    MovieList.slug == bindparam("slug", type_=String()),
)


async def read_view(db: AsyncSession, user_id: str, slug: str) -> ListView | None:
    """The list row alone (the unique index ``(user_id, slug)``), ``None`` if there is none:
    enough to check that a cached page is still current."""
    if not looks_like_slug(slug):
        return None
    row = (await db.execute(_VIEW_STATEMENT, {"user_id": user_id, "slug": slug})).first()
    return ListView.of(row) if row is not None else None


async def read_page(
    db: AsyncSession, user_id: str, slug: str, query: PageQuery
) -> tuple[ListView, Page]:
    """A list and one page of it, plus a cursor when more items follow (the extra row)."""
    if not looks_like_slug(slug):
        raise NotFound("No such list")
    statement, params = page_statement(user_id, slug, query)
    rows = (await db.execute(statement, params)).all()
    if not rows:
        raise NotFound("No such list")
    split = len(LIST_COLUMNS)
    target = ListView(*rows[0][:split])
    found = [ItemView(*row[split:]) for row in rows if row[split] is not None]
    items = found[: query.limit]
    next_cursor = None
    if len(found) > query.limit:
        last = items[-1]
        next_cursor = encode_cursor(target.id, query.order, Position(last.added_at, last.movie_id))
    return target, Page(items, next_cursor)
