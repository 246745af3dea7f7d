"""The outbox table, in the caller's transaction or on an autocommit connection."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from maria.db import new_id, utcnow
from maria.mail.models import OutboxMail
from maria.mail.transports import Message

_TABLE = cast(Table, OutboxMail.__table__)
Db = AsyncSession | AsyncConnection


async def enqueue(db: Db, message: Message, *, user_id: str | None) -> str:
    now = utcnow()
    mail_id = new_id()
    await db.execute(
        insert(_TABLE).values(
            id=mail_id,
            user_id=user_id,
            to_address=message.to,
            subject=message.subject,
            text_body=message.text,
            html_body=message.html,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
            claimed_until=None,
            last_error=None,
        )
    )
    return mail_id


async def claim(
    db: Db, *, now: datetime, lease: float, limit: int, skip_locked: bool
) -> list[dict[str, Any]]:
    """Take up to ``limit`` due messages for ``lease`` seconds; nobody else sends them
    meanwhile. The conditions are repeated on the update, so that a concurrent claimer that
    read the same rows finds them taken (Postgres re-checks them on the locked row; SQLite
    runs one writer at a time)."""
    c = _TABLE.c
    due = (c.next_attempt_at <= now, or_(c.claimed_until.is_(None), c.claimed_until < now))
    candidates = select(c.id).where(*due).order_by(c.next_attempt_at).limit(limit)
    if skip_locked:  # Postgres: concurrent claimers pass each other's rows by
        candidates = candidates.with_for_update(skip_locked=True)
    rows = await db.execute(
        update(_TABLE)
        .where(c.id.in_(candidates.scalar_subquery()), *due)
        .values(claimed_until=now + timedelta(seconds=lease), attempts=c.attempts + 1)
        .returning(c.id, c.to_address, c.subject, c.text_body, c.html_body, c.attempts)
    )
    return [dict(row._mapping) for row in rows]


async def sent(db: Db, mail_id: str) -> None:
    """Done: the body (it may carry a token) leaves the database."""
    await db.execute(delete(_TABLE).where(_TABLE.c.id == mail_id))


async def failed(db: Db, mail_id: str, *, retry_at: datetime, error: str) -> None:
    await db.execute(
        update(_TABLE)
        .where(_TABLE.c.id == mail_id)
        .values(next_attempt_at=retry_at, claimed_until=None, last_error=error[:300])
    )


async def release(db: Db, mail_ids: list[str]) -> None:
    """Give claims back (a sender stopping mid-batch): the messages are due again now."""
    await db.execute(
        update(_TABLE)
        .where(_TABLE.c.id.in_(mail_ids))
        .values(claimed_until=None, attempts=_TABLE.c.attempts - 1)
    )


async def pending(db: Db) -> int:
    return int((await db.execute(select(func.count()).select_from(_TABLE))).scalar_one())
