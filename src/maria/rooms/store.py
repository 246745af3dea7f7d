"""Rooms in the database: create, read, delete, history, and the changes the hub makes.

Functions taking ``db`` run in the caller's transaction; those taking ``database`` open
their own (the hub's changes, which are single statements). Changes that several instances
may race on are single conditional statements (``UPDATE … WHERE <expected> RETURNING``), so
the database decides who wins and no transaction reads before it writes (SQLite refuses to
upgrade a stale read to a write).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from maria.db import Database
from maria.errors import BadCursor, Conflict, Forbidden, NotFound
from maria.rooms import members
from maria.rooms.models import Room, RoomMessage
from maria.rooms.playback import Action, Playback, apply, now_ms
from maria.rooms.views import RoomView, is_room_id, message_dict, playback_of

HISTORY = 50
MAX_PAGE = 100


def _missing() -> NotFound:
    return NotFound("No such room")


async def create_room(
    db: AsyncSession,
    *,
    host_id: str,
    movie_id: int,
    title: str | None,
    visibility: str = "public",
    capacity: int | None = None,
) -> RoomView:
    room = Room(
        visibility=visibility,
        capacity=capacity,
        chat_locked=False,
        roles_seq=0,
        movie_id=movie_id,
        title=title,
        host_id=host_id,
        control="host",
        control_seq=0,
        playback_state="paused",
        playback_position=0.0,
        playback_at=now_ms(),
        playback_by=None,
        playback_seq=0,
        message_seq=0,
    )
    db.add(room)
    await db.flush()
    await members.upsert(db, room.id, host_id, access=True)  # the host keeps a private room
    return RoomView.of(room)


async def find_room(db: AsyncSession, room_id: str) -> RoomView | None:
    if not is_room_id(room_id):
        return None
    room = await db.get(Room, room_id)
    return None if room is None else RoomView.of(room)


async def get_room(db: AsyncSession, room_id: str) -> RoomView:
    view = await find_room(db, room_id)
    if view is None:
        raise _missing()
    return view


async def delete_room(db: AsyncSession, room_id: str, *, user_id: str, is_admin: bool) -> None:
    """Delete a room (and its messages) as its current host or an admin."""
    view = await get_room(db, room_id)
    if not is_admin and view.host_id != user_id:
        raise Forbidden("Only the host or an admin can delete a room")
    await db.execute(delete(RoomMessage).where(RoomMessage.room_id == room_id))
    await db.execute(delete(Room).where(Room.id == room_id))


async def list_messages(
    db: AsyncSession, room_id: str, *, before: str | None, limit: int
) -> list[dict[str, Any]]:
    """Up to ``limit`` messages before the message ``before`` (default: the newest), oldest
    first; the room's sequence is the order, so a page never skips or repeats one."""
    await get_room(db, room_id)
    query = select(RoomMessage).where(RoomMessage.room_id == room_id)
    if before is not None:
        seq = (
            await db.execute(
                select(RoomMessage.seq).where(
                    RoomMessage.id == before, RoomMessage.room_id == room_id
                )
            )
        ).scalar_one_or_none()
        if seq is None:
            raise BadCursor("'before' is not the id of a message in this room", param="before")
        query = query.where(RoomMessage.seq < seq)
    rows = (await db.execute(query.order_by(RoomMessage.seq.desc()).limit(limit))).scalars()
    return [message_dict(row) for row in reversed(list(rows))]


async def snapshot(
    database: Database, room_id: str
) -> tuple[RoomView, list[dict[str, Any]]] | None:
    """The room and its last messages, for a hub starting to serve it."""
    async with database.autocommit() as db:
        view = await find_room(db, room_id)
        if view is None:
            return None
        return view, await list_messages(db, room_id, before=None, limit=HISTORY)


@dataclass(frozen=True, slots=True)
class Draft:
    """A chat message before it has its place in the room's order."""

    id: str
    user_id: str
    name: str
    text: str
    timestamp: int


async def append_messages(
    database: Database, room_id: str, drafts: Sequence[Draft]
) -> list[dict[str, Any]] | None:
    """Store messages under the next sequence numbers, all or none; None if the room is
    gone. The row lock of the ``message_seq`` bump orders concurrent writers."""
    if not drafts:
        return []
    if database.engine.dialect.name == "postgresql":
        async with database.autocommit() as db:
            return await _append_in_one_statement(db, room_id, drafts)
    async with database.work() as work:
        last = (
            await work.db.execute(
                update(Room)
                .where(Room.id == room_id)
                .values(message_seq=Room.message_seq + len(drafts))
                .returning(Room.message_seq)
            )
        ).scalar_one_or_none()
        if last is None:
            return None
        messages = _numbered(drafts, last - len(drafts) + 1)
        # A Core insert: the ORM's bulk insert took three times the CPU for a burst.
        rows = [{**m, "room_id": room_id} for m in messages]
        await work.db.execute(insert(cast(Table, RoomMessage.__table__)), rows)
    return messages


# Bump and insert in one autocommitted statement: one round trip, and the room row stays
# locked only while it runs (instances take turns on that lock during a burst).
_APPEND = text(
    """
    WITH bumped AS (
        UPDATE rooms SET message_seq = message_seq + :n WHERE id = :room_id
        RETURNING message_seq
    )
    INSERT INTO room_messages (id, room_id, seq, user_id, name, text, timestamp)
    SELECT d.id, :room_id, bumped.message_seq - :n + d.ord, d.user_id, d.name, d.text, d.ts
    FROM bumped, unnest(
        CAST(:ids AS varchar[]), CAST(:user_ids AS varchar[]), CAST(:names AS varchar[]),
        CAST(:texts AS varchar[]), CAST(:timestamps AS bigint[])
    ) WITH ORDINALITY AS d(id, user_id, name, text, ts, ord)
    RETURNING seq
    """
)


async def _append_in_one_statement(
    db: AsyncSession, room_id: str, drafts: Sequence[Draft]
) -> list[dict[str, Any]] | None:
    params = {
        "n": len(drafts),
        "room_id": room_id,
        "ids": [d.id for d in drafts],
        "user_ids": [d.user_id for d in drafts],
        "names": [d.name for d in drafts],
        "texts": [d.text for d in drafts],
        "timestamps": [d.timestamp for d in drafts],
    }
    seqs = (await db.execute(_APPEND, params)).scalars().all()
    if not seqs:
        return None
    return _numbered(drafts, min(seqs))


def _numbered(drafts: Sequence[Draft], first: int) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "user_id": d.user_id,
            "name": d.name,
            "text": d.text,
            "timestamp": d.timestamp,
            "seq": first + i,
        }
        for i, d in enumerate(drafts)
    ]


async def messages_between(
    database: Database, room_id: str, first: int, upto: int
) -> list[dict[str, Any]]:
    """Messages with ``first <= seq < upto``: what a hole in the broker's delivery missed."""
    async with database.autocommit() as db:
        rows = await db.execute(
            select(RoomMessage)
            .where(RoomMessage.room_id == room_id, RoomMessage.seq >= first, RoomMessage.seq < upto)
            .order_by(RoomMessage.seq)
        )
        return [message_dict(row) for row in rows.scalars()]


async def change_playback(
    database: Database,
    room_id: str,
    *,
    user_id: str,
    action: Action,
    position: float | None,
    wait: bool = False,
    lead_ms: int = 0,
) -> Playback:
    """Apply a play/pause/seek as ``user_id``: compare-and-set on ``playback_seq``, retried
    when another change won the race. A play waits (``wait``) or starts ``lead_ms`` ahead
    (``playback.apply``)."""
    for _ in range(10):
        async with database.autocommit() as db:
            room = await db.get(Room, room_id)
            if room is None:
                raise _missing()
            if not await members.may_control(db, room, user_id):
                raise Forbidden("Only the host and co-hosts control playback")
            current = playback_of(room)
        new = apply(current, action, position, user_id, now_ms(), wait=wait, lead_ms=lead_ms)
        async with database.autocommit() as db:  # one statement: no BEGIN/COMMIT round trips
            result = await db.execute(
                update(Room)
                .where(
                    Room.id == room_id,
                    Room.playback_seq == current.seq,
                    members.controls(user_id),
                )
                .values(
                    playback_state=new.state,
                    playback_position=new.position,
                    playback_at=new.at,
                    playback_by=new.by,
                    playback_seq=new.seq,
                )
                .returning(Room.id)
            )
            if result.scalar_one_or_none() is not None:
                return new
    # Contention, not permission: other members' changes kept winning the race.
    raise Conflict("Playback is changing too fast; try again")


async def _control_update(
    database: Database, room_id: str, *conditions: Any, **values: Any
) -> RoomView | None:
    async with database.autocommit() as db:  # one statement: no BEGIN/COMMIT round trips
        row = (
            await db.execute(
                update(Room)
                .where(Room.id == room_id, *conditions)
                .values(control_seq=Room.control_seq + 1, **values)
                .returning(Room)
            )
        ).scalar_one_or_none()
        return None if row is None else RoomView.of(row)


async def _refused(database: Database, room_id: str) -> Exception:
    async with database.autocommit() as db:
        exists = await db.get(Room, room_id) is not None
    return Forbidden("Only the host can do that") if exists else _missing()


async def set_control(database: Database, room_id: str, *, user_id: str, mode: str) -> RoomView:
    """The host lets everyone control playback, or takes control back."""
    view = await _control_update(database, room_id, Room.host_id == user_id, control=mode)
    if view is None:
        raise await _refused(database, room_id)
    return view


async def hand_over(database: Database, room_id: str, *, user_id: str, target: str) -> RoomView:
    """The host makes ``target`` the host."""
    view = await _control_update(database, room_id, Room.host_id == user_id, host_id=target)
    if view is None:
        raise await _refused(database, room_id)
    return view


async def replace_host(
    database: Database, room_id: str, *, absent: str | None, successor: str
) -> RoomView | None:
    """Make ``successor`` host if ``absent`` still is (None if another instance was first)."""
    condition = Room.host_id.is_(None) if absent is None else Room.host_id == absent
    return await _control_update(database, room_id, condition, host_id=successor)


async def delete_hosted(db: AsyncSession, host_id: str) -> list[str]:
    """Delete the rooms ``host_id`` hosts (their messages go by cascade); their ids."""
    rows = await db.execute(delete(Room).where(Room.host_id == host_id).returning(Room.id))
    return list(rows.scalars())


async def messages_by(db: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    """Every chat message ``user_id`` wrote, oldest first (for the data export)."""
    rows = await db.execute(
        select(RoomMessage).where(RoomMessage.user_id == user_id).order_by(RoomMessage.timestamp)
    )
    return [{"room_id": row.room_id, **message_dict(row)} for row in rows.scalars()]
