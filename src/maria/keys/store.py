"""The signing keys table, on the caller's connection."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from maria.keys.models import StoredKey

_KEYS = cast(Table, StoredKey.__table__)


async def all_keys(db: AsyncConnection) -> list[StoredKey]:
    """Every row, oldest first (a handful: read whole on every refresh)."""
    rows = await db.execute(select(_KEYS).order_by(_KEYS.c.seq))
    return [StoredKey(**row._mapping) for row in rows]


async def next_seq(db: AsyncConnection) -> int:
    highest = (await db.execute(select(func.max(_KEYS.c.seq)))).scalar()
    return max(int(highest or 0), 0) + 1


async def add(db: AsyncConnection, key: StoredKey) -> None:
    """Insert ``key``; IntegrityError if its ``seq`` (or ``kid``) is taken."""
    await db.execute(
        insert(_KEYS).values(
            kid=key.kid,
            seq=key.seq,
            alg=key.alg,
            secret=key.secret,
            created_at=key.created_at,
            activates_at=key.activates_at,
            retired_at=key.retired_at,
        )
    )


async def retire(db: AsyncConnection, kid: str, at: datetime) -> None:
    await db.execute(update(_KEYS).where(_KEYS.c.kid == kid).values(retired_at=at))
