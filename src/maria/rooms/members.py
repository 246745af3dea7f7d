"""The ``room_members`` table: who has been in a room (or may enter it), their role (co-host
or member; the host is ``rooms.host_id``), whether they are muted or banned, and whether
they may enter a private room.

A row appears when someone first joins, redeems an invite, or is moderated while present
(always by an upsert: the primary key, not an earlier read, decides that there is one row).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from maria.db import Database, utcnow
from maria.identity import Identity
from maria.rooms.models import Room, RoomMember
from maria.rooms.roles import Role, Roles
from maria.rooms.views import RoomView

MAX_LISTED = 100
ListRole = Literal["host", "member"]


def _defaults(room_id: str, user_id: str) -> dict[str, Any]:
    return {
        "room_id": room_id,
        "user_id": user_id,
        "role": "member",
        "muted": False,
        "banned_until": None,
        "access": False,
        "first_joined_at": None,
        "last_joined_at": None,
    }


def _insert(db: AsyncSession) -> Any:
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        return pg_insert(RoomMember)
    if dialect == "sqlite":
        return sqlite_insert(RoomMember)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


async def bump(db: AsyncSession, room_id: str, **values: Any) -> Room | None:
    """Begin a change of the room's moderation state or settings: grow ``roles_seq`` (and
    set ``values``) in one UPDATE, whose row lock makes the changes of one room take turns,
    so each is decided on the state the one before it left. None: no such room."""
    return (
        await db.execute(
            update(Room)
            .where(Room.id == room_id)
            .values(roles_seq=Room.roles_seq + 1, **values)
            .returning(Room)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()


async def upsert(db: AsyncSession, room_id: str, user_id: str, **values: Any) -> None:
    """Set ``values`` on the row of ``user_id`` in ``room_id``, creating it if needed."""
    stmt = _insert(db).values(**{**_defaults(room_id, user_id), **values})
    if values:
        stmt = stmt.on_conflict_do_update(
            index_elements=["room_id", "user_id"],
            set_={key: getattr(stmt.excluded, key) for key in values},
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=["room_id", "user_id"])
    await db.execute(stmt)


async def joined(database: Database, room_id: str, user_id: str) -> None:
    """``user_id`` entered the room: when first and last (for "rooms I was in")."""
    now = utcnow()
    async with database.autocommit() as db:
        stmt = _insert(db).values(
            **{**_defaults(room_id, user_id), "first_joined_at": now, "last_joined_at": now}
        )
        await db.execute(
            stmt.on_conflict_do_update(
                index_elements=["room_id", "user_id"],
                set_={
                    "last_joined_at": stmt.excluded.last_joined_at,
                    "first_joined_at": func.coalesce(
                        RoomMember.first_joined_at, stmt.excluded.first_joined_at
                    ),
                },
            )
        )


def _cohost(user_id: str) -> ColumnElement[bool]:
    return exists().where(
        RoomMember.room_id == Room.id,
        RoomMember.user_id == user_id,
        RoomMember.role == "cohost",
    )


def controls(user_id: str) -> ColumnElement[bool]:
    """SQL: ``user_id`` may control the room's playback and queue (host, co-host, or the
    room in ``everyone`` mode); for the compare-and-set statements of those changes."""
    return or_(Room.host_id == user_id, Room.control == "everyone", _cohost(user_id))


async def may_control(db: AsyncSession, room: Room, user_id: str) -> bool:
    if room.host_id == user_id or room.control == "everyone":
        return True
    return await role_of(db, room, user_id) == "cohost"


async def role_of(db: AsyncSession, room: Room, user_id: str) -> Role | None:
    """``user_id``'s role in ``room``; None if they have never been in it (no row)."""
    if room.host_id == user_id:
        return "host"
    role = (
        await db.execute(
            select(RoomMember.role).where(
                RoomMember.room_id == room.id, RoomMember.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    if role is None:
        return None
    return "cohost" if role == "cohost" else "member"


async def roles(db: AsyncSession, room_id: str, *, chat_locked: bool, seq: int) -> Roles:
    """The room's moderation state as stored (read in the transaction that changed it)."""
    rows = await db.execute(
        select(RoomMember.user_id, RoomMember.role, RoomMember.muted).where(
            RoomMember.room_id == room_id,
            or_(RoomMember.role == "cohost", RoomMember.muted.is_(True)),
        )
    )
    cohosts, muted = set(), set()
    for user_id, role, is_muted in rows:
        if role == "cohost":
            cohosts.add(user_id)
        if is_muted:
            muted.add(user_id)
    return Roles(frozenset(cohosts), frozenset(muted), chat_locked, seq)


async def bans(db: AsyncSession, room_id: str, now_ms: int) -> dict[str, int]:
    """Who may not join yet (kicked less than the ban ago), until when (unix ms)."""
    rows = await db.execute(
        select(RoomMember.user_id, RoomMember.banned_until).where(
            RoomMember.room_id == room_id, RoomMember.banned_until > now_ms
        )
    )
    return {user_id: until for user_id, until in rows if until is not None}


def _has_access(user_id: str) -> ColumnElement[bool]:
    return exists().where(
        RoomMember.room_id == Room.id,
        RoomMember.user_id == user_id,
        or_(RoomMember.access.is_(True), RoomMember.role == "cohost"),
    )


async def may_enter(db: AsyncSession, view: RoomView, user_id: str, *, is_admin: bool) -> bool:
    """Whether ``user_id`` may see and enter the room: a public room anyone; a private one
    its host, admins, co-hosts and those who redeemed an invite."""
    if view.visibility != "private" or is_admin or view.host_id == user_id:
        return True
    found = await db.execute(select(Room.id).where(Room.id == view.id, _has_access(user_id)))
    return found.scalar_one_or_none() is not None


async def can_see(db: AsyncSession, view: RoomView, identity: Identity) -> bool:
    return await may_enter(db, view, identity.user_id, is_admin=identity.is_admin)


async def grant(db: AsyncSession, room_id: str, user_ids: Iterable[str]) -> None:
    """Let ``user_ids`` enter the room even when it is private."""
    for user_id in user_ids:
        await upsert(db, room_id, user_id, access=True)


async def mine(
    db: AsyncSession, user_id: str, role: ListRole | None
) -> list[tuple[RoomView, str, datetime | None]]:
    """The rooms ``user_id`` hosts (``host``) or has been in without hosting (``member``),
    or both: newest activity first (their last entry, else the room's creation), with
    their role there and when they last entered."""
    hosting = Room.host_id == user_id
    was_in = and_(Room.host_id.is_distinct_from(user_id), RoomMember.last_joined_at.is_not(None))
    condition = hosting if role == "host" else was_in if role == "member" else or_(hosting, was_in)
    activity = func.coalesce(RoomMember.last_joined_at, Room.created_at)
    rows = await db.execute(
        select(Room, RoomMember.role, RoomMember.last_joined_at)
        .outerjoin(RoomMember, and_(RoomMember.room_id == Room.id, RoomMember.user_id == user_id))
        .where(condition)
        .order_by(activity.desc(), Room.id)
        .limit(MAX_LISTED)
    )
    found = []
    for room, member_role, last in rows:
        my_role = "host" if room.host_id == user_id else member_role or "member"
        found.append((RoomView.of(room), my_role, last))
    return found


async def of_user(db: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    """``user_id``'s place in every room they have been in (for the data export)."""
    rows = await db.execute(
        select(RoomMember).where(RoomMember.user_id == user_id).order_by(RoomMember.room_id)
    )
    return [
        {
            "room_id": row.room_id,
            "role": row.role,
            "muted": row.muted,
            "banned_until": row.banned_until,
            "access": row.access,
            "first_joined_at": _iso(row.first_joined_at),
            "last_joined_at": _iso(row.last_joined_at),
        }
        for row in rows.scalars()
    ]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
