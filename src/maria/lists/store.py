"""List rows in the caller's transaction (``db``): the built-ins, own lists (create,
rename, publish, delete) and the list lock.

Every write to a list or its items starts with ``lock_list``, so writes to one list are
serialised and the checks that follow (limits, "already there?") hold until commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from maria.db import utcnow
from maria.errors import Conflict, NotFound
from maria.lists.models import (
    BUILTIN_TITLES,
    FAVORITES,
    MAX_OWN_LISTS,
    ListItem,
    MovieList,
)
from maria.lists.slugs import base_slug, looks_like_slug, unique_slug

LIST_COLUMNS = (
    MovieList.id,
    MovieList.user_id,
    MovieList.slug,
    MovieList.title,
    MovieList.is_public,
    MovieList.builtin,
    MovieList.item_count,
    MovieList.version,
    MovieList.created_at,
    MovieList.updated_at,
)


@dataclass(frozen=True, slots=True)
class ListView:
    """A list row as read, detached from the session."""

    id: str
    user_id: str
    slug: str
    title: str
    is_public: bool
    builtin: bool
    count: int
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Row[*tuple[Any, ...]]) -> ListView:
        return cls(*row)


def _select() -> Select[*tuple[Any, ...]]:
    return select(*LIST_COLUMNS)


def _no_such_list() -> NotFound:
    return NotFound("No such list")


async def create_builtin_lists(db: AsyncSession, user_id: str) -> None:
    """Add ``favorites`` and ``watch-later`` in the caller's transaction (the one creating
    the user), so they exist from the account's first moment and are never created lazily
    by racing requests."""
    now = utcnow()
    db.add_all(
        MovieList(
            user_id=user_id,
            slug=slug,
            title=title,
            builtin=True,
            created_at=now,
            updated_at=now,
        )
        for slug, title in BUILTIN_TITLES.items()
    )
    await db.flush()


async def own_lists(db: AsyncSession, user_id: str) -> list[ListView]:
    """The user's lists: built-ins first, then their own by creation."""
    stmt = (
        _select()
        .where(MovieList.user_id == user_id)
        .order_by(MovieList.builtin.desc(), MovieList.created_at, MovieList.slug)
    )
    return [ListView.of(row) for row in await db.execute(stmt)]


async def get_list(db: AsyncSession, user_id: str, slug: str) -> ListView:
    if not looks_like_slug(slug):
        raise _no_such_list()
    stmt = _select().where(MovieList.user_id == user_id, MovieList.slug == slug)
    row = (await db.execute(stmt)).first()
    if row is None:
        raise _no_such_list()
    return ListView.of(row)


def could_be_user_id(value: str) -> bool:
    """User ids are UUID strings; anything unlike one is not looked up at all."""
    return 0 < len(value) <= 36 and value.isascii() and value.isprintable()


def check_readable(found: ListView, viewer_id: str | None) -> None:
    """Public lists are readable by anyone, private ones by their owner; to everyone else a
    private list is "not found", so its existence is not revealed."""
    if not found.is_public and viewer_id != found.user_id:
        raise _no_such_list()


async def lock_list(db: AsyncSession, user_id: str, slug: str) -> ListView:
    """Read a list and hold it for writing until the transaction ends.

    A no-op ``UPDATE`` rather than ``SELECT … FOR UPDATE``: on Postgres it takes the row
    lock, and on SQLite (whose driver opens a transaction only at the first write) it makes
    this transaction the writer now, so what we read cannot change before we commit. Items
    are always written after their list is locked, which also keeps lock order (list, then
    items) the same everywhere: no deadlocks.
    """
    if not looks_like_slug(slug):
        raise _no_such_list()
    stmt = (
        update(MovieList)
        .where(MovieList.user_id == user_id, MovieList.slug == slug)
        .values(version=MovieList.version)
        .returning(*LIST_COLUMNS)
    )
    row = (await db.execute(stmt)).first()
    if row is None:
        raise _no_such_list()
    return ListView.of(row)


async def mark_changed(db: AsyncSession, list_id: str, count_delta: int = 0) -> None:
    """Record a change to a locked list: new version and ``updated_at``, adjusted count."""
    await db.execute(
        update(MovieList)
        .where(MovieList.id == list_id)
        .values(
            version=MovieList.version + 1,
            updated_at=utcnow(),
            item_count=MovieList.item_count + count_delta,
        )
    )


async def create_list(db: AsyncSession, user_id: str, *, title: str, is_public: bool) -> ListView:
    """Create an own list with a slug derived from the title, unique for this user."""
    # The user's favorites row is the per-user mutex: two creations at once can neither
    # exceed the limit nor pick the same slug.
    await lock_list(db, user_id, FAVORITES)
    rows = (
        await db.execute(
            select(MovieList.slug, MovieList.builtin).where(MovieList.user_id == user_id)
        )
    ).all()
    if sum(1 for _, builtin in rows if not builtin) >= MAX_OWN_LISTS:
        raise Conflict(f"A user can have at most {MAX_OWN_LISTS} own lists")
    slug = unique_slug(base_slug(title), {slug for slug, _ in rows})
    now = utcnow()
    created = MovieList(
        user_id=user_id,
        slug=slug,
        title=title,
        is_public=is_public,
        builtin=False,
        item_count=0,
        version=0,
        created_at=now,
        updated_at=now,
    )
    db.add(created)
    await db.flush()
    return ListView(
        id=created.id,
        user_id=user_id,
        slug=slug,
        title=title,
        is_public=is_public,
        builtin=False,
        count=0,
        version=0,
        created_at=now,
        updated_at=now,
    )


async def update_list(
    db: AsyncSession, user_id: str, slug: str, *, title: str | None, is_public: bool | None
) -> ListView:
    """Rename or publish a list; the slug stays. Built-ins keep their title."""
    current = await lock_list(db, user_id, slug)
    values: dict[str, Any] = {}
    if title is not None and title != current.title:
        if current.builtin:
            raise Conflict("Built-in lists can't be renamed")
        values["title"] = title
    if is_public is not None and is_public != current.is_public:
        values["is_public"] = is_public
    if not values:
        return current
    await db.execute(
        update(MovieList)
        .where(MovieList.id == current.id)
        .values(**values, version=MovieList.version + 1, updated_at=utcnow())
    )
    return await get_list(db, user_id, slug)


async def delete_list(db: AsyncSession, user_id: str, slug: str) -> None:
    """Delete an own list and (by cascade) its items."""
    current = await lock_list(db, user_id, slug)
    if current.builtin:
        raise Conflict("Built-in lists can't be deleted")
    await db.execute(delete(MovieList).where(MovieList.id == current.id))


async def export(db: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    """Every list of the user with every item, oldest item first (for the data export)."""
    lists = await own_lists(db, user_id)
    out = []
    for found in lists:
        rows = await db.execute(
            select(ListItem.movie_id, ListItem.added_at, ListItem.note)
            .where(ListItem.list_id == found.id)
            .order_by(ListItem.added_at, ListItem.movie_id)
        )
        out.append(
            {
                "slug": found.slug,
                "title": found.title,
                "is_public": found.is_public,
                "builtin": found.builtin,
                "created_at": found.created_at.isoformat(),
                "updated_at": found.updated_at.isoformat(),
                "items": [
                    {"movie_id": m, "added_at": a.isoformat(), "note": n} for m, a, n in rows
                ],
            }
        )
    return out
