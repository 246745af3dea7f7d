"""The rooms' clock: once a second, end sockets whose token expired or whose session was
revoked, replace hosts gone too long, start plays that waited out the ready timeout and
ping the sockets due (``sync``); every few seconds keep this instance's presence
alive; every half minute (and after a broker reconnect) resync each room with the database
and the presence store, catching up with whatever the broker lost."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from maria.db import Database
from maria.rooms import members as room_members
from maria.rooms import store
from maria.rooms.commands import Commands
from maria.rooms.dispatch import Dispatch
from maria.rooms.events import ControlEvent, ManagedEvent, PlaybackEvent, QueueEvent
from maria.rooms.membership import Membership
from maria.rooms.playback import now_ms
from maria.rooms.presence import Presence
from maria.rooms.protocol import CLOSE_UNAUTHENTICATED
from maria.rooms.registry import Registry
from maria.rooms.room import LocalRoom
from maria.rooms.sync import Sync

log = logging.getLogger("maria.rooms")

TICK = 1.0
HEARTBEAT_EVERY = 5.0
RESYNC_EVERY = 30.0


class Maintenance:
    def __init__(
        self,
        rooms: Registry,
        database: Database,
        presence: Presence,
        membership: Membership,
        commands: Commands,
        dispatch: Dispatch,
        is_revoked: Callable[[str], bool],
        host_grace: float,
        sync: Sync,
    ) -> None:
        self._rooms = rooms
        self._database = database
        self._presence = presence
        self._membership = membership
        self._commands = commands
        self._dispatch = dispatch
        self._is_revoked = is_revoked
        self._host_grace = host_grace
        self._sync = sync

    async def run(self) -> None:
        beat = resync = time.monotonic()
        while True:
            await asyncio.sleep(TICK)
            try:
                now, mono, ms = time.time(), time.monotonic(), now_ms()
                for room in self._rooms.all():
                    room.close_expired(now, self._is_revoked, CLOSE_UNAUTHENTICATED)
                    self._check_host(room, mono)
                    self._sync.tick(room, ms, mono)
                if mono - beat >= HEARTBEAT_EVERY:
                    beat = mono
                    await self._presence.heartbeat()
                    for room in self._rooms.all():
                        await self._presence.sweep(room.id)
                if mono - resync >= RESYNC_EVERY:
                    resync = mono
                    self.resync_all()
            except Exception as exc:
                log.warning("room maintenance failed: %s", type(exc).__name__)

    def _check_host(self, room: LocalRoom, mono: float) -> None:
        successor = room.host_due(mono, self._host_grace)
        if successor is not None:
            assert room.view is not None
            self._rooms.spawn(self._replace_host(room, room.view.host_id, successor.user_id))

    async def _replace_host(self, room: LocalRoom, absent: str | None, successor: str) -> None:
        try:
            view = await store.replace_host(
                self._database, room.id, absent=absent, successor=successor
            )
            if view is not None:  # else another instance was first: its event says so
                await self._commands.publish_control(view)
        finally:
            room.host_replaced()

    def resync_all(self) -> None:
        self._rooms.spawn(self._resync_all())

    async def _resync_all(self) -> None:
        # Alive first: after a Redis restart the entries added back count only once this
        # instance's liveness key exists again (else others read the room empty for seconds).
        try:
            await self._presence.heartbeat()
        except Exception as exc:
            log.warning("presence heartbeat failed: %s", type(exc).__name__)
        for room in self._rooms.all():
            if room.view is not None:
                self._rooms.spawn(self._resync(room))

    async def _resync(self, room: LocalRoom) -> None:
        """Catch up with what the broker may have lost (a Redis reconnect, a failed publish)."""
        async with self._database.autocommit() as db:
            view = await store.find_room(db, room.id)
            if view is not None:
                roles = await room_members.roles(
                    db, room.id, chat_locked=view.chat_locked, seq=view.roles_seq
                )
                bans = await room_members.bans(db, room.id, now_ms())
        if view is None:
            self._dispatch.close_room(room)
            return
        room.apply(QueueEvent(view.queue, None))
        room.apply(PlaybackEvent(view.playback))
        room.apply(ControlEvent(view.control, view.host_id, view.control_seq))
        room.apply(ManagedEvent(roles, view.title, view.visibility, view.capacity))
        room.sync_bans(bans)
        next_seq = room.next_seq
        if next_seq is not None and view.message_seq >= next_seq:
            upto = view.message_seq + 1
            room.fill(await store.messages_between(self._database, room.id, next_seq, upto), upto)
        await self._membership.add_back(room)
        epoch = room.presence_epoch
        members = await self._presence.members(room.id)
        if room.presence_epoch == epoch:  # no join/leave arrived meanwhile: the read is current
            room.sync_members(members)
