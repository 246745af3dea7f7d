"""Immutable snapshots of rooms and messages, passed between the store, the hub and the
routers (no ORM objects leave a database session)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from maria.rooms.models import Room, RoomMessage
from maria.rooms.playback import Playback, state_of
from maria.rooms.queue import Queue, entries_of

_ROOM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_room_id(value: str) -> bool:
    """Room ids are canonical UUIDs; anything else is unknown without a query."""
    return _ROOM_ID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Member:
    """Someone online in a room (on any instance)."""

    user_id: str
    name: str
    since: int  # unix ms when the user came online in the room

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "name": self.name, "since": self.since}


@dataclass(frozen=True, slots=True)
class RoomView:
    id: str
    movie_id: int
    title: str | None
    host_id: str | None
    control: str
    control_seq: int
    playback: Playback
    message_seq: int
    created_at: datetime
    queue: Queue
    visibility: str = "public"
    capacity: int | None = None  # None: the server's (``MARIA_ROOM_CAPACITY``)
    chat_locked: bool = False
    roles_seq: int = 0

    @classmethod
    def of(cls, room: Room) -> RoomView:
        return cls(
            id=room.id,
            movie_id=room.movie_id,
            title=room.title,
            host_id=room.host_id,
            control=room.control,
            control_seq=room.control_seq,
            playback=playback_of(room),
            message_seq=room.message_seq,
            created_at=room.created_at,
            queue=queue_of(room),
            visibility=room.visibility,
            capacity=room.capacity,
            chat_locked=room.chat_locked,
            roles_seq=room.roles_seq,
        )

    def public(self) -> dict[str, Any]:
        """The contract's ``Room`` (plus ``control``), JSON-ready."""
        return {
            "id": self.id,
            "movie_id": self.movie_id,
            "title": self.title,
            "host_id": self.host_id,
            "control": self.control,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "playback": self.playback.as_dict(),
            "visibility": self.visibility,
            "capacity": self.capacity,
        }


def playback_of(room: Room) -> Playback:
    return Playback(
        state=state_of(room.playback_state),
        position=room.playback_position,
        at=room.playback_at,
        by=room.playback_by,
        seq=room.playback_seq,
    )


def queue_of(room: Room) -> Queue:
    return Queue(
        items=entries_of(room.queue_items),
        index=room.queue_index,
        movie_id=room.movie_id,
        media_seq=room.media_seq,
        seq=room.queue_seq,
    )


def message_dict(row: RoomMessage) -> dict[str, Any]:
    """The contract's ``Message`` (plus ``seq``, its place in the room's one order)."""
    return {
        "id": row.id,
        "user_id": row.user_id,
        "name": row.name,
        "text": row.text,
        "timestamp": row.timestamp,
        "seq": row.seq,
    }
