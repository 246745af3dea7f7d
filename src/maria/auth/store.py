"""The sessions table, in the caller's transaction (``db``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from maria.auth.models import AuthSession, RevokedSession
from maria.db import utcnow

_COLUMNS = tuple(column.key for column in AuthSession.__table__.columns)
# Built once, on the table (not the mapped class, whose inserts take the ORM's bulk path).
_INSERT = insert(cast(Table, AuthSession.__table__))
_REVOKED = cast(Table, RevokedSession.__table__)


async def insert_session(db: AsyncSession | AsyncConnection, session: AuthSession) -> None:
    """One new row, without the ORM's unit of work (which costs more than the rest)."""
    values: dict[str, Any] = {key: getattr(session, key) for key in _COLUMNS}
    await db.execute(_INSERT, values)


async def get_session(db: AsyncSession, sid: str) -> AuthSession | None:
    return await db.get(AuthSession, sid)


async def rotate(
    db: AsyncSession,
    session: AuthSession,
    *,
    presented_hash: str,
    next_hash: str,
    now: datetime,
    lifetime: int,
) -> bool:
    """Compare-and-set the session to its next generation; False if another request rotated
    it first (the caller then re-reads it)."""
    new_generation = session.generation + 1
    rotated_at = now.replace(microsecond=0)
    result = await db.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session.id,
            AuthSession.generation == session.generation,
            AuthSession.refresh_hash == presented_hash,
        )
        .values(
            generation=new_generation,
            refresh_hash=next_hash,
            previous_hash=presented_hash,
            rotated_at=rotated_at,
            last_used_at=now,
            expires_at=now + timedelta(seconds=lifetime),
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.generation = new_generation
    session.rotated_at = rotated_at
    return True


async def revoke(
    db: AsyncSession | AsyncConnection,
    now: datetime,
    *,
    sids: list[str] | None = None,
    user_id: str | None = None,
    keep: str | None = None,
) -> list[str]:
    """Mark live sessions revoked (these ``sids``, or all of ``user_id``'s but ``keep``), and
    record the revocations for the other instances' polls; the ids that were live."""
    stmt = update(AuthSession).where(AuthSession.revoked_at.is_(None))
    if sids is not None:
        stmt = stmt.where(AuthSession.id.in_(sids))
    if user_id is not None:
        stmt = stmt.where(AuthSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep)
    rows = await db.execute(
        stmt.values(revoked_at=now)
        .returning(AuthSession.id)
        .execution_options(synchronize_session=False)
    )
    revoked = list(rows.scalars())
    if revoked:
        await db.execute(
            insert(_REVOKED), [{"session_id": sid, "revoked_at": now} for sid in revoked]
        )
    return revoked


async def revoked_since(db: AsyncSession | AsyncConnection, since: datetime) -> list[Any]:
    """``(session id, revoked at)`` of the revocations recorded since ``since``."""
    rows = await db.execute(
        select(_REVOKED.c.session_id, _REVOKED.c.revoked_at).where(_REVOKED.c.revoked_at >= since)
    )
    return list(rows)


async def forget_revocations(db: AsyncSession | AsyncConnection, before: datetime) -> None:
    """Revocations older than any token they could refuse are of no more use."""
    await db.execute(delete(_REVOKED).where(_REVOKED.c.revoked_at < before))


async def live_sessions(db: AsyncSession, user_id: str) -> list[AuthSession]:
    rows = await db.execute(
        select(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > utcnow(),
        )
        .order_by(AuthSession.last_used_at.desc())
    )
    return list(rows.scalars())


async def all_sessions(db: AsyncSession, user_id: str) -> list[AuthSession]:
    """Every session row of the user, ended ones too (for the data export)."""
    rows = await db.execute(
        select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.created_at)
    )
    return list(rows.scalars())
