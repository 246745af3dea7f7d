"""The sessions and known-address tables, in the caller's transaction (``db``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.dml import Insert

from maria.auth.models import AuthSession, KnownAddress, RevokedSession
from maria.db import utcnow

_COLUMNS = tuple(column.key for column in AuthSession.__table__.columns)
# Built once, on the table (not the mapped class, whose inserts take the ORM's bulk path).
_INSERT = insert(cast(Table, AuthSession.__table__))
_REVOKED = cast(Table, RevokedSession.__table__)
_KNOWN = cast(Table, KnownAddress.__table__)


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


# -- known addresses ----------------------------------------------------------------------


def remember_address_statement(dialect: str) -> Insert:
    """``INSERT … ON CONFLICT DO UPDATE`` of an address's ``last_seen_at``, in the database's
    dialect; bind ``user_id``, ``address``, ``now`` and ``stale``: a row seen since
    ``stale`` is left as it is, so a busy account does not rewrite it on every sign-in."""
    if dialect == "postgresql":
        stmt: Any = pg_insert(_KNOWN)
    elif dialect == "sqlite":
        stmt = sqlite_insert(_KNOWN)
    else:
        raise RuntimeError(f"unsupported database dialect {dialect!r}")
    upsert: Insert = stmt.values(
        user_id=bindparam("user_id"), address=bindparam("address"), last_seen_at=bindparam("now")
    ).on_conflict_do_update(
        index_elements=[_KNOWN.c.user_id, _KNOWN.c.address],
        set_={"last_seen_at": stmt.excluded.last_seen_at},
        where=_KNOWN.c.last_seen_at < bindparam("stale"),
    )
    return upsert


async def address_seen_since(
    db: AsyncSession | AsyncConnection, user_id: str, address: str, since: datetime
) -> bool:
    row = await db.execute(
        select(_KNOWN.c.last_seen_at).where(
            _KNOWN.c.user_id == user_id,
            _KNOWN.c.address == address,
            _KNOWN.c.last_seen_at >= since,
        )
    )
    return row.first() is not None


async def forget_addresses(db: AsyncSession | AsyncConnection, before: datetime) -> int:
    result = await db.execute(delete(_KNOWN).where(_KNOWN.c.last_seen_at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def known_addresses(db: AsyncSession | AsyncConnection, user_id: str) -> list[Any]:
    """``(address, last seen at)`` of the user's known addresses (for the data export)."""
    rows = await db.execute(
        select(_KNOWN.c.address, _KNOWN.c.last_seen_at)
        .where(_KNOWN.c.user_id == user_id)
        .order_by(_KNOWN.c.last_seen_at)
    )
    return list(rows)
