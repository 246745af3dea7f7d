"""Items of a list: idempotent add and remove, and one item (pages: ``pages.py``).

Writes lock the list first (``store.lock_list``), then touch items, then record the change
on the list row (count, version, ``updated_at``), all in the caller's transaction. Each
write says whether it changed anything: one that did not is discarded rather than committed
(``Work.discard``), so it leaves the list's version (and every client's ETag) alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Final, Literal

from sqlalchemy import Select, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert

from maria.db import utcnow
from maria.errors import Conflict, NotFound
from maria.lists.models import MAX_ITEMS, ListItem
from maria.lists.store import get_list, lock_list, mark_changed


@dataclass(frozen=True, slots=True)
class ItemView:
    movie_id: int
    added_at: datetime
    note: str | None


class _Keep(Enum):
    NOTE = "keep"


KEEP_NOTE: Final = _Keep.NOTE
"""``put_item``'s ``note`` when the request did not mention one: leave it as it is."""
NoteChange = str | None | Literal[_Keep.NOTE]

ITEM_COLUMNS = (ListItem.movie_id, ListItem.added_at, ListItem.note)


def insert_ignoring_duplicates(db: AsyncSession) -> Insert:
    """``INSERT … ON CONFLICT (list_id, movie_id) DO NOTHING`` in the session's dialect: the
    unique key, not an earlier SELECT, decides that a movie is in a list once."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(ListItem).on_conflict_do_nothing(index_elements=["list_id", "movie_id"])
    if dialect == "sqlite":
        return sqlite_insert(ListItem).on_conflict_do_nothing(
            index_elements=["list_id", "movie_id"]
        )
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


def _select_item(list_id: str, movie_id: int) -> Select[int, datetime, str | None]:
    return select(*ITEM_COLUMNS).where(ListItem.list_id == list_id, ListItem.movie_id == movie_id)


async def get_item(db: AsyncSession, user_id: str, slug: str, movie_id: int) -> ItemView:
    found = await get_list(db, user_id, slug)
    row = (await db.execute(_select_item(found.id, movie_id))).first()
    if row is None:
        raise NotFound("This movie is not in the list")
    return ItemView(*row)


async def movie_ids(db: AsyncSession, user_id: str, slug: str, limit: int) -> list[int]:
    """The films of one of ``user_id``'s own lists, oldest first, at most ``limit`` (what a
    room's queue is filled from)."""
    found = await get_list(db, user_id, slug)
    rows = await db.execute(
        select(ListItem.movie_id)
        .where(ListItem.list_id == found.id)
        .order_by(ListItem.added_at, ListItem.movie_id)
        .limit(limit)
    )
    return list(rows.scalars())


async def put_item(
    db: AsyncSession,
    user_id: str,
    slug: str,
    movie_id: int,
    note: NoteChange = KEEP_NOTE,
) -> tuple[ItemView, bool, bool]:
    """Add a movie, or return the one already there with ``note`` replaced if one was given;
    also whether it is new, and whether anything changed."""
    target = await lock_list(db, user_id, slug)
    values: dict[str, Any] = {"list_id": target.id, "movie_id": movie_id, "added_at": utcnow()}
    if note is not KEEP_NOTE:
        values["note"] = note
    stmt = insert_ignoring_duplicates(db).values(values).returning(*ITEM_COLUMNS)
    row = (await db.execute(stmt)).first()
    if row is not None:
        if target.count >= MAX_ITEMS:
            raise Conflict(f"A list holds at most {MAX_ITEMS} movies")
        await mark_changed(db, target.id, +1)
        return ItemView(*row), True, True
    existing = ItemView(*(await db.execute(_select_item(target.id, movie_id))).one())
    if note is KEEP_NOTE or note == existing.note:
        return existing, False, False
    await db.execute(
        update(ListItem)
        .where(ListItem.list_id == target.id, ListItem.movie_id == movie_id)
        .values(note=note)
    )
    await mark_changed(db, target.id)
    return ItemView(existing.movie_id, existing.added_at, note), False, True


async def remove_item(db: AsyncSession, user_id: str, slug: str, movie_id: int) -> bool:
    """Remove a movie if it is there (absent is fine too); whether it was."""
    target = await lock_list(db, user_id, slug)
    stmt = (
        delete(ListItem)
        .where(ListItem.list_id == target.id, ListItem.movie_id == movie_id)
        .returning(ListItem.movie_id)
    )
    if (await db.execute(stmt)).first() is None:
        return False
    await mark_changed(db, target.id, -1)
    return True
