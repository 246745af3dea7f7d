"""Rooms as the REST side sees them: create (under a per-user limit), read, history, delete,
settings, invites and the caller's rooms. The live side (sockets, events) is
``hub.RoomHub``, which this service tells when a room is deleted or its settings change
(after the commit).

A private room is 404 to whoever may not enter it (``members.may_enter``), as if it did
not exist; changing a room and its invites is for its host and co-hosts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from maria.backends.ratelimit import Counters
from maria.db import Database
from maria.errors import Forbidden, NotFound, RateLimited
from maria.identity import Identity
from maria.metrics import refused
from maria.rooms import members, store
from maria.rooms.events import ManagedEvent
from maria.rooms.hub import RoomHub
from maria.rooms.invites import Invites
from maria.rooms.members import ListRole
from maria.rooms.models import Room
from maria.rooms.views import Member, RoomView

CREATE_LIMIT = 30  # rooms per user ...
CREATE_WINDOW = 600  # ... per 10 minutes
NO_ROOM = "No such room"
STAFF_ONLY = "Only the host and co-hosts can do that"
SETTINGS = ("title", "visibility", "capacity")


class RoomsService:
    def __init__(
        self,
        database: Database,
        hub: RoomHub,
        counters: Counters,
        invites: Invites,
        capacity: int = 200,
    ) -> None:
        self._database = database
        self.hub = hub
        self._counters = counters
        self._invites = invites
        self._capacity = capacity  # MARIA_ROOM_CAPACITY: a room's own is at most that

    def _capped(self, capacity: int | None) -> int | None:
        return None if capacity is None else min(capacity, self._capacity)

    async def create(
        self,
        host_id: str,
        *,
        movie_id: int,
        title: str | None,
        visibility: str = "public",
        capacity: int | None = None,
    ) -> RoomView:
        """A room for a film, hosted by ``host_id``."""
        count, retry = await self._counters.hit(f"room-create:{host_id}", CREATE_WINDOW)
        if count > CREATE_LIMIT:
            refused("room_create")
            raise RateLimited(retry, "Too many rooms created; try again later")
        async with self._database.work() as work:
            return await store.create_room(
                work.db,
                host_id=host_id,
                movie_id=movie_id,
                title=title,
                visibility=visibility,
                capacity=self._capped(capacity),
            )

    async def _visible(self, db: AsyncSession, room_id: str, identity: Identity) -> RoomView:
        """The room, if ``identity`` may see it (else 404: a private room is no room)."""
        view = await store.get_room(db, room_id)
        if not await members.can_see(db, view, identity):
            raise NotFound(NO_ROOM)
        return view

    async def _staff(self, room_id: str, identity: Identity) -> RoomView:
        """The room, if ``identity`` hosts or co-hosts it (403 otherwise)."""
        async with self._database.autocommit() as db:
            view = await self._visible(db, room_id, identity)
            row = await db.get(Room, room_id)
            role = None if row is None else await members.role_of(db, row, identity.user_id)
        if role not in ("host", "cohost"):
            raise Forbidden(STAFF_ONLY)
        return view

    async def get(self, room_id: str, identity: Identity) -> tuple[RoomView, list[Member]]:
        """A room and who is online in it (on any instance)."""
        async with self._database.autocommit() as db:
            view = await self._visible(db, room_id, identity)
        return view, await self.hub.members(room_id)

    async def messages(
        self, room_id: str, identity: Identity, *, before: str | None, limit: int
    ) -> list[dict[str, Any]]:
        async with self._database.autocommit() as db:
            await self._visible(db, room_id, identity)
            return await store.list_messages(db, room_id, before=before, limit=limit)

    async def update(self, room_id: str, identity: Identity, changes: dict[str, Any]) -> RoomView:
        """Change a room's title, visibility or capacity (its host and co-hosts). Whoever
        is in a room that turns private may come back to it."""
        await self._staff(room_id, identity)
        values = {key: changes[key] for key in SETTINGS if key in changes}
        if "capacity" in values:
            values["capacity"] = self._capped(values["capacity"])
        async with self._database.work() as work:
            room = await members.bump(work.db, room_id, **values)
            if room is None:
                raise NotFound(NO_ROOM)
            if values.get("visibility") == "private":
                present = await self.hub.members(room_id)
                await members.grant(work.db, room_id, [m.user_id for m in present])
            view = RoomView.of(room)
            roles = await members.roles(
                work.db, room_id, chat_locked=view.chat_locked, seq=view.roles_seq
            )
            event = ManagedEvent(roles, view.title, view.visibility, view.capacity)
            work.after_commit("room settings", lambda: self.hub.managed(room_id, event))
        return view

    async def mine(
        self, identity: Identity, role: ListRole | None
    ) -> list[tuple[RoomView, str, datetime | None]]:
        async with self._database.autocommit() as db:
            return await members.mine(db, identity.user_id, role)

    async def create_invite(
        self, room_id: str, identity: Identity, *, expires_in: int, single_use: bool
    ) -> dict[str, Any]:
        await self._staff(room_id, identity)
        async with self._database.work() as work:
            invite = await self._invites.create(
                work.db,
                room_id,
                by=identity.user_id,
                expires_in=expires_in,
                single_use=single_use,
            )
        return self._invites.public(invite)

    async def invites(self, room_id: str, identity: Identity) -> list[dict[str, Any]]:
        await self._staff(room_id, identity)
        async with self._database.autocommit() as db:
            return [self._invites.public(i) for i in await self._invites.listed(db, room_id)]

    async def revoke_invite(self, room_id: str, identity: Identity, invite_id: str) -> None:
        await self._staff(room_id, identity)
        async with self._database.work() as work:
            await self._invites.revoke(work.db, room_id, invite_id)

    async def join(self, room_id: str, identity: Identity, token: str) -> RoomView:
        """Redeem an invite: the caller may enter the room from now on, private or not."""
        invite_id = self._invites.check(token, room_id)  # no database read for a bad one
        async with self._database.work() as work:
            await self._invites.redeem(work.db, room_id, invite_id, identity.user_id)
            return await store.get_room(work.db, room_id)

    async def delete(self, room_id: str, identity: Identity) -> None:
        """Delete a room as its host or an admin; its sockets everywhere close (4410)."""
        async with self._database.work() as work:
            if not identity.is_admin:
                await self._visible(work.db, room_id, identity)
            await store.delete_room(
                work.db, room_id, user_id=identity.user_id, is_admin=identity.is_admin
            )
            work.after_commit("room sockets closing", lambda: self.hub.deleted(room_id))
