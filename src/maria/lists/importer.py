"""Moving the client's localStorage arrays in: ``POST /users/me/lists/import``.

The arrays are kept in the order the client appended to them (``Array.push``), so the
first element is the oldest: imported movies get increasing ``added_at`` in array order,
all after what the list already holds, and a newest-first page shows the last element
first, just as a movie added now would be. The whole import is one transaction (the
caller's), kept only if something was added.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from maria.db import utcnow
from maria.errors import Conflict, PayloadTooLarge
from maria.lists.items import insert_ignoring_duplicates
from maria.lists.models import (
    FAVORITES,
    MAX_IMPORT_IDS,
    MAX_ITEMS,
    MAX_MOVIE_ID,
    WATCH_LATER,
    ListItem,
    MovieList,
)
from maria.lists.store import lock_list

IMPORTABLE = (FAVORITES, WATCH_LATER)  # also the lock order, the same for every import
_TICK = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class ImportResult:
    added: int  # new in a list
    existing: int  # valid ids already in the list, or repeated in the same array
    skipped: int  # not a positive integer that fits a Kinopoisk id


@dataclass(frozen=True, slots=True)
class _Cleaned:
    ids: list[int]  # valid, first occurrences, in array order
    repeated: int
    skipped: int


def _clean(values: Sequence[object]) -> _Cleaned:
    """Keep what is a movie id: an integer in 1..2^31-1 (not a bool, float or string)."""
    seen: set[int] = set()
    ids: list[int] = []
    repeated = skipped = 0
    for value in values:
        if type(value) is not int or not 1 <= value <= MAX_MOVIE_ID:
            skipped += 1
        elif value in seen:
            repeated += 1
        else:
            seen.add(value)
            ids.append(value)
    return _Cleaned(ids, repeated, skipped)


def _first_slot(now: datetime, newest_present: datetime | None, count: int) -> datetime:
    """Where the imported run of ``count`` timestamps starts: ending at about ``now``, but
    always after the list's newest item, so the import sorts after everything present."""
    start = now - count * _TICK
    if newest_present is not None and start <= newest_present:
        start = newest_present + _TICK
    return start


async def _merge(db: AsyncSession, user_id: str, slug: str, cleaned: _Cleaned) -> int:
    """Add the ids missing from one list; the number added."""
    target = await lock_list(db, user_id, slug)
    present = set(
        (await db.execute(select(ListItem.movie_id).where(ListItem.list_id == target.id)))
        .scalars()
        .all()
    )
    new = [movie_id for movie_id in cleaned.ids if movie_id not in present]
    if not new:
        return 0
    if target.count + len(new) > MAX_ITEMS:
        raise Conflict(
            f"Importing would put {target.count + len(new)} movies in '{slug}' "
            f"(at most {MAX_ITEMS}); nothing was imported"
        )
    newest = (
        await db.execute(select(func.max(ListItem.added_at)).where(ListItem.list_id == target.id))
    ).scalar_one_or_none()
    start = _first_slot(utcnow(), newest, len(new))
    await db.execute(
        insert_ignoring_duplicates(db),
        [
            {"list_id": target.id, "movie_id": movie_id, "added_at": start + i * _TICK}
            for i, movie_id in enumerate(new)
        ],
    )
    # Recount rather than add len(new): the counter is then exact whatever happened before.
    recount = select(func.count()).where(ListItem.list_id == target.id).scalar_subquery()
    await db.execute(
        update(MovieList)
        .where(MovieList.id == target.id)
        .values(item_count=recount, version=MovieList.version + 1, updated_at=utcnow())
    )
    return len(new)


async def import_lists(
    db: AsyncSession, user_id: str, arrays: Mapping[str, Sequence[object]]
) -> ImportResult:
    """Merge the arrays into the built-in lists of the same name, all or nothing."""
    total = sum(len(arrays.get(slug, ())) for slug in IMPORTABLE)
    if total > MAX_IMPORT_IDS:
        raise PayloadTooLarge(f"At most {MAX_IMPORT_IDS} ids per import (got {total})")
    added = existing = skipped = 0
    for slug in IMPORTABLE:
        cleaned = _clean(arrays.get(slug, ()))
        new = await _merge(db, user_id, slug, cleaned) if cleaned.ids else 0
        added += new
        existing += len(cleaned.ids) - new + cleaned.repeated
        skipped += cleaned.skipped
    return ImportResult(added, existing, skipped)
