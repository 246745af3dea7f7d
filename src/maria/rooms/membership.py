"""Who is in a room: sockets joining and leaving, and what everyone else sees of it.

A room is loaded (row, recent chat, presence) when its first local socket joins. A user's
first socket here adds them to the presence store, which announces the ``join`` to every
instance; when their last socket goes, they leave only after the reconnect grace, so a
reconnect (here or on another instance) shows no leave/join churn.
"""

from __future__ import annotations

import asyncio
import logging

from maria.db import Database
from maria.rooms import members as room_members
from maria.rooms import reactions, store
from maria.rooms.conn import CloseSocket, Conn, Flusher, SendFrames, WriteNow
from maria.rooms.playback import now_ms
from maria.rooms.presence import Presence
from maria.rooms.protocol import CLOSE_FORBIDDEN, CLOSE_ROOM_FULL, Refused
from maria.rooms.registry import Registry
from maria.rooms.room import LocalRoom
from maria.rooms.views import Member

log = logging.getLogger("maria.rooms")

BACKGROUND_REDIS = 8  # presence removals in flight at once, so a mass exit cannot crowd out chat


class Membership:
    def __init__(
        self,
        rooms: Registry,
        database: Database,
        presence: Presence,
        flusher: Flusher,
        reconnect_grace: float,
        capacity: int = 200,
    ) -> None:
        self._rooms = rooms
        self._database = database
        self._presence = presence
        self._flusher = flusher
        self._grace = reconnect_grace
        self._capacity = capacity  # MARIA_ROOM_CAPACITY: no room holds more
        self._background = asyncio.Semaphore(BACKGROUND_REDIS)

    async def join(
        self,
        room_id: str,
        *,
        user_id: str,
        name: str,
        sid: str,
        exp: int,
        send: SendFrames,
        close: CloseSocket,
        write_now: WriteNow | None = None,
        is_admin: bool = False,
    ) -> Conn | None:
        """Register a socket; None if the room does not exist, ``Refused`` if the user may
        not enter it (kicked, a private room, full). Its first frame is the welcome;
        everyone else gets ``presence join`` unless the user was here already."""
        room, new = self._rooms.open(room_id)
        if new:
            room.start_loading(asyncio.create_task(self._load(room)))
        first = room.hold(user_id)
        admitted = False
        try:
            if room.loading is not None and not await asyncio.shield(room.loading):
                return None
            self._check_ban(room, user_id)
            await self._check_access(room, user_id, is_admin)
            me = Member(user_id, name, now_ms())
            # Back within the grace: still present. Else every socket asks the presence
            # store (idempotent): a second tab is admitted as present already.
            if not room.cancel_grace(user_id) and not await self._enter(room, me):
                raise Refused(CLOSE_ROOM_FULL, "room_full", "the room is full; try later")
            admitted = True
            self._check_ban(room, user_id)  # a kick that arrived meanwhile
        except BaseException:
            if admitted:  # kicked while entering: gone at once
                self._release(room, user_id, name, 0.0)
            else:
                self._refuse(room, user_id)
            raise
        if first:
            self._rooms.spawn(room_members.joined(self._database, room_id, user_id))
        conn = Conn(
            room_id=room_id,
            user_id=user_id,
            name=name,
            sid=sid,
            exp=exp,
            send=send,
            close=close,
            write_now=write_now,
            flusher=self._flusher,
        )
        room.attach(conn)
        conn.start(room.welcome(conn, room.members.get(user_id, me)))
        return conn

    def _check_ban(self, room: LocalRoom, user_id: str) -> None:
        until = room.banned_until(user_id, now_ms())
        if until is not None:
            seconds = max(1, (until - now_ms() + 999) // 1000)
            raise Refused(CLOSE_FORBIDDEN, "banned", f"removed from the room; back in {seconds} s")

    async def _check_access(self, room: LocalRoom, user_id: str, is_admin: bool) -> None:
        view = room.view
        assert view is not None
        if view.visibility != "private":
            return
        async with self._database.autocommit() as db:
            allowed = await room_members.may_enter(db, view, user_id, is_admin=is_admin)
        if not allowed:
            raise Refused(CLOSE_FORBIDDEN, "forbidden", "an invite is needed")

    async def _enter(self, room: LocalRoom, me: Member) -> bool:
        """Take a place in the room's presence, within its capacity (the presence store
        decides atomically, across instances); whether there was one."""
        view = room.view
        assert view is not None
        capacity = min(view.capacity or self._capacity, self._capacity)
        try:
            return await self._presence.add(room.id, me, capacity)
        except Exception as exc:
            log.warning("presence add failed: %s", type(exc).__name__)
            return True

    def _refuse(self, room: LocalRoom, user_id: str) -> None:
        """A socket that never entered: no presence to leave, no grace to wait."""
        if room.release(user_id) and room.idle and self._rooms.serves(room):
            self._rooms.drop(room)

    async def _load(self, room: LocalRoom) -> bool:
        try:
            snap = await store.snapshot(self._database, room.id)
            if snap is None:
                self._rooms.drop(room)
                return False
            view = snap[0]
            async with self._database.autocommit() as db:
                roles = await room_members.roles(
                    db, room.id, chat_locked=view.chat_locked, seq=view.roles_seq
                )
                bans = await room_members.bans(db, room.id, now_ms())
            recent = await reactions.recent(self._database, room.id)
            try:
                members = await self._presence.members(room.id)
            except Exception as exc:
                log.warning("presence read failed: %s", type(exc).__name__)
                members = []
            room.loaded(*snap, members, roles=roles, bans=bans, reactions=recent)
            return True
        except BaseException:
            self._rooms.drop(room)
            raise

    async def leave(self, conn: Conn) -> None:
        """The socket is gone; the user leaves after the reconnect grace if it was their last
        (at once if they were kicked: nobody waits for them to come back)."""
        await conn.stop()
        room = self._rooms.get(conn.room_id)
        if room is None:
            return
        room.detach(conn)
        kicked = conn.closing is not None and conn.closing[0] == CLOSE_FORBIDDEN
        self._release(room, conn.user_id, conn.name, 0.0 if kicked else self._grace)

    def _release(
        self, room: LocalRoom, user_id: str, name: str, grace: float | None = None
    ) -> None:
        if not room.release(user_id) or not self._rooms.serves(room):
            return
        delay = self._grace if grace is None else grace
        room.start_grace(user_id, delay, lambda: self._grace_over(room, user_id, name))

    def _grace_over(self, room: LocalRoom, user_id: str, name: str) -> None:
        if room.grace_over(user_id):
            self._rooms.spawn(self._depart(room, user_id, name))

    async def _depart(self, room: LocalRoom, user_id: str, name: str) -> None:
        try:
            async with self._background:
                if room.is_held(user_id):  # came back while waiting for a turn
                    return
                await self._presence.remove(room.id, user_id, name)
        except Exception as exc:
            log.warning("presence remove failed: %s", type(exc).__name__)
        if room.idle:
            self._rooms.drop(room)

    async def members(self, room_id: str) -> list[Member]:
        """Everyone online in the room, on any instance, longest-present first."""
        room = self._rooms.get(room_id)
        found = (
            list(room.members.values())
            if room is not None and room.view is not None
            else await self._presence.members(room_id)
        )
        return sorted(found, key=lambda m: (m.since, m.user_id))

    async def forget(self, room_id: str) -> None:
        """The room is gone: drop its presence entries."""
        await self._presence.forget(room_id)

    async def add_back(self, room: LocalRoom) -> None:
        """Re-add this instance's users (entries lost with a Redis restart come back)."""
        for conn in room.one_conn_per_user():
            held = room.members.get(conn.user_id)
            member = held or Member(conn.user_id, conn.name, now_ms())
            await self._presence.add(room.id, member, None)  # present: never refused
