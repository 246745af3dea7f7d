"""Reactions: an emoji from a fixed set on a message of the room or on a moment of the film.

Throttled like chat (the same limits, a counter of their own, shared by every instance),
refused for muted members, stored (the newest ``KEEP`` per room), then published and shown
to everyone; a late joiner's welcome carries the last 100. A reaction on a message is
stored by one ``INSERT … SELECT`` from that message: a message of another room, or one
deleted meanwhile (a clear), stores nothing and is answered ``not_found``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from maria.backends.ratelimit import Counters
from maria.db import Database, new_id
from maria.metrics import refused
from maria.rooms import protocol
from maria.rooms.conn import Conn
from maria.rooms.events import ReactionEvent, RoomEvent
from maria.rooms.models import RoomMessage, RoomReaction
from maria.rooms.playback import now_ms
from maria.rooms.protocol import CLOSE_UNAUTHENTICATED
from maria.rooms.registry import Registry
from maria.rooms.room import REACTIONS, Reaction
from maria.rooms.views import is_room_id
from maria.users.service import UsersService

KEEP = 200  # stored per room; older ones are deleted
NO_MESSAGE = "No such message in this room"
Publish = Callable[[str, RoomEvent], Awaitable[None]]
_COLUMNS = ("id", "room_id", "user_id", "name", "emoji", "message_id", "message_seq")


def public(row: dict[str, Any]) -> dict[str, Any]:
    """The ``reaction`` frame's fields (a target that is not there is left out)."""
    out = {key: row[key] for key in ("id", "user_id", "name", "emoji")}
    if row.get("message_id") is not None:
        out["message_id"] = row["message_id"]
    if row.get("position") is not None:
        out["position"] = row["position"]
    out["timestamp"] = row["timestamp"]
    return out


def _public_row(row: RoomReaction) -> dict[str, Any]:
    return public(
        {
            "id": row.id,
            "user_id": row.user_id,
            "name": row.name,
            "emoji": row.emoji,
            "message_id": row.message_id,
            "position": row.position,
            "timestamp": row.timestamp,
        }
    )


async def store(database: Database, room_id: str, row: dict[str, Any]) -> tuple[bool, int | None]:
    """Store a reaction; whether it was (False: its message is none of this room's), and
    its message's ``seq`` (None on the timeline)."""
    async with database.autocommit() as db:
        seq: int | None = None
        if row["message_id"] is None:
            await db.execute(insert(RoomReaction).values(room_id=room_id, **row))
        else:
            values = {**row, "room_id": room_id}
            source = select(
                *(literal(values[key]) for key in _COLUMNS[:5]),
                RoomMessage.id,
                RoomMessage.seq,
                literal(row["timestamp"]),
            ).where(RoomMessage.id == row["message_id"], RoomMessage.room_id == room_id)
            try:
                seq = (
                    await db.execute(
                        insert(RoomReaction)
                        .from_select([*_COLUMNS, "timestamp"], source)
                        .returning(RoomReaction.message_seq)
                    )
                ).scalar_one_or_none()
            except IntegrityError:  # the message went between the select and the insert
                return False, None
            if seq is None:
                return False, None
        await db.execute(
            delete(RoomReaction).where(
                RoomReaction.room_id == room_id,
                RoomReaction.id.in_(
                    select(RoomReaction.id)
                    .where(RoomReaction.room_id == room_id)
                    .order_by(RoomReaction.timestamp.desc(), RoomReaction.id.desc())
                    .offset(KEEP)
                ),
            )
        )
        return True, seq


async def recent(database: Database, room_id: str) -> list[Reaction]:
    """The last reactions, oldest first, for a room an instance starts serving."""
    async with database.autocommit() as db:
        rows = await db.execute(
            select(RoomReaction)
            .where(RoomReaction.room_id == room_id)
            .order_by(RoomReaction.timestamp.desc(), RoomReaction.id.desc())
            .limit(REACTIONS)
        )
        found = [(_public_row(r), r.message_seq) for r in rows.scalars()]
    found.reverse()
    return found


async def by_user(db: AsyncSession, user_id: str) -> list[dict[str, Any]]:
    """Every reaction ``user_id`` made (still kept), oldest first (for the data export)."""
    rows = await db.execute(
        select(RoomReaction)
        .where(RoomReaction.user_id == user_id)
        .order_by(RoomReaction.timestamp, RoomReaction.id)
    )
    return [{"room_id": r.room_id, **_public_row(r)} for r in rows.scalars()]


class Reactions:
    def __init__(
        self,
        rooms: Registry,
        database: Database,
        users: UsersService,
        counters: Counters,
        limit: tuple[int, int],
        publish: Publish,
    ) -> None:
        self._rooms = rooms
        self._database = database
        self._users = users
        self._counters = counters
        self._limit, self._window = limit  # reactions per user per window (seconds)
        self._publish = publish

    async def react(
        self, conn: Conn, emoji: str, message_id: str | None, position: float | None
    ) -> None:
        room = self._rooms.get(conn.room_id)
        if room is not None and conn.user_id in room.roles.muted:
            conn.push(protocol.error("forbidden", "You are muted in this room"))
            return
        count, retry = await self._counters.hit(f"room-react:{conn.user_id}", self._window)
        if count > self._limit:
            refused("room_react")
            conn.push(
                protocol.error(
                    "rate_limited",
                    f"At most {self._limit} reactions per {self._window} s",
                    retry_after=retry,
                )
            )
            return
        if message_id is not None and not is_room_id(message_id):  # message ids are UUIDs
            conn.push(protocol.error("not_found", NO_MESSAGE))
            return
        user = await self._users.get(conn.user_id)
        if user is None or user.disabled:
            conn.close(CLOSE_UNAUTHENTICATED, "invalid_token: the account no longer exists")
            return
        row = {
            "id": new_id(),
            "user_id": conn.user_id,
            "name": user.display_name,
            "emoji": emoji,
            "message_id": message_id,
            "position": position,
            "timestamp": now_ms(),
        }
        stored, seq = await store(self._database, conn.room_id, row)
        if not stored:
            conn.push(protocol.error("not_found", NO_MESSAGE))
            return
        await self._publish(conn.room_id, ReactionEvent(public(row), seq))
