"""Events arriving from the broker (or published locally when the broker failed), applied
to the rooms this instance serves.

Chat is released in sequence order (``ordering``): a hole the broker does not fill within
``GAP_WAIT`` seconds is read from the database, so every member on every instance sees the
history's one order. A ``deleted`` room closes its sockets; other events go to the room.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from maria.db import Database
from maria.rooms import events, store
from maria.rooms.events import BadEvent, ChatEvent, DeletedEvent, RoomEvent
from maria.rooms.protocol import CLOSE_DELETED
from maria.rooms.registry import Registry
from maria.rooms.room import LocalRoom

log = logging.getLogger("maria.rooms")

GAP_WAIT = 0.5
MAX_WAITING = 1000


class Dispatch:
    def __init__(self, rooms: Registry, database: Database) -> None:
        self._rooms = rooms
        self._database = database
        # Called after an event is applied to a room (the ready gate's checks: ``sync``).
        self.after: Callable[[LocalRoom, RoomEvent], None] = lambda room, event: None

    def on_message(self, message: str) -> None:
        room_id, body = events.room_of(message)
        room = self._rooms.get(room_id)
        if room is None:
            return
        try:
            event = events.decode(body)
        except BadEvent as exc:
            log.warning("bad room event for %s: %s", room_id, exc)
            return
        if isinstance(event, ChatEvent):
            room.receive_chat(event.messages)
            self._watch_gap(room)
        elif isinstance(event, DeletedEvent):
            self.close_room(room)
        else:
            room.apply(event)
            self.after(room, event)

    def _watch_gap(self, room: LocalRoom) -> None:
        if not room.begin_fill():
            return
        delay = 0.0 if room.waiting > MAX_WAITING else GAP_WAIT
        asyncio.get_running_loop().call_later(delay, self._rooms.spawn, self._fill(room))

    async def _fill(self, room: LocalRoom) -> None:
        """Read a hole the broker did not fill in time from the database."""
        try:
            gap = room.gap()
            if gap is not None:
                room.fill(await store.messages_between(self._database, room.id, *gap), gap[1])
        except Exception as exc:
            log.warning("chat gap fill failed: %s", type(exc).__name__)
        finally:
            room.end_fill()
        if self._rooms.serves(room):
            self._watch_gap(room)

    def close_room(self, room: LocalRoom) -> None:
        room.close_all(CLOSE_DELETED, "room_deleted: the room was deleted")
        self._rooms.drop(room)
