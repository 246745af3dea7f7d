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
from maria.rooms import store
from maria.rooms.conn import CloseSocket, Conn, Flusher, SendFrames, WriteNow
from maria.rooms.playback import now_ms
from maria.rooms.presence import Presence
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
    ) -> None:
        self._rooms = rooms
        self._database = database
        self._presence = presence
        self._flusher = flusher
        self._grace = reconnect_grace
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
    ) -> Conn | None:
        """Register a socket; None if the room does not exist. Its first frame is the
        welcome; everyone else gets ``presence join`` unless the user was here already."""
        room, new = self._rooms.open(room_id)
        if new:
            room.start_loading(asyncio.create_task(self._load(room)))
        first = room.hold(user_id)
        try:
            if room.loading is not None and not await asyncio.shield(room.loading):
                return None
            me = Member(user_id, name, now_ms())
            if not room.cancel_grace(user_id) and first:
                try:
                    await self._presence.add(room_id, me)
                except Exception as exc:
                    log.warning("presence add failed: %s", type(exc).__name__)
        except BaseException:
            self._release(room, user_id, name)
            raise
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

    async def _load(self, room: LocalRoom) -> bool:
        try:
            snap = await store.snapshot(self._database, room.id)
            if snap is None:
                self._rooms.drop(room)
                return False
            try:
                members = await self._presence.members(room.id)
            except Exception as exc:
                log.warning("presence read failed: %s", type(exc).__name__)
                members = []
            room.loaded(*snap, members)
            return True
        except BaseException:
            self._rooms.drop(room)
            raise

    async def leave(self, conn: Conn) -> None:
        """The socket is gone; the user leaves after the reconnect grace if it was their last."""
        await conn.stop()
        room = self._rooms.get(conn.room_id)
        if room is None:
            return
        room.detach(conn)
        self._release(room, conn.user_id, conn.name)

    def _release(self, room: LocalRoom, user_id: str, name: str) -> None:
        if not room.release(user_id) or not self._rooms.serves(room):
            return
        room.start_grace(user_id, self._grace, lambda: self._grace_over(room, user_id, name))

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
            await self._presence.add(room.id, held or Member(conn.user_id, conn.name, now_ms()))
