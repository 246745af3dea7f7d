"""Rooms as the REST side sees them: create (under a per-user limit), read, history, delete.
The live side (sockets, events) is ``hub.RoomHub``, which this service tells when a room is
deleted (after the commit)."""

from __future__ import annotations

from typing import Any

from maria.backends.ratelimit import Counters
from maria.db import Database
from maria.errors import RateLimited
from maria.identity import Identity
from maria.metrics import refused
from maria.rooms import store
from maria.rooms.hub import RoomHub
from maria.rooms.views import Member, RoomView

CREATE_LIMIT = 30  # rooms per user ...
CREATE_WINDOW = 600  # ... per 10 minutes


class RoomsService:
    def __init__(self, database: Database, hub: RoomHub, counters: Counters) -> None:
        self._database = database
        self.hub = hub
        self._counters = counters

    async def create(self, host_id: str, *, movie_id: int, title: str | None) -> RoomView:
        """A room for a film, hosted by ``host_id``."""
        count, retry = await self._counters.hit(f"room-create:{host_id}", CREATE_WINDOW)
        if count > CREATE_LIMIT:
            refused("room_create")
            raise RateLimited(retry, "Too many rooms created; try again later")
        async with self._database.work() as work:
            return await store.create_room(work.db, host_id=host_id, movie_id=movie_id, title=title)

    async def get(self, room_id: str) -> tuple[RoomView, list[Member]]:
        """A room and who is online in it (on any instance)."""
        async with self._database.autocommit() as db:
            view = await store.get_room(db, room_id)
        return view, await self.hub.members(room_id)

    async def messages(
        self, room_id: str, *, before: str | None, limit: int
    ) -> list[dict[str, Any]]:
        async with self._database.autocommit() as db:
            return await store.list_messages(db, room_id, before=before, limit=limit)

    async def delete(self, room_id: str, identity: Identity) -> None:
        """Delete a room as its host or an admin; its sockets everywhere close (4410)."""
        async with self._database.work() as work:
            await store.delete_room(
                work.db, room_id, user_id=identity.user_id, is_admin=identity.is_admin
            )
            work.after_commit("room sockets closing", lambda: self.hub.deleted(room_id))
