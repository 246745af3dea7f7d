"""The rooms one instance serves, as the room sockets see them.

``RoomHub`` puts the parts together and gives the socket loop its few calls: the state they
share (``registry``), who is in a room (``membership``), what members ask (``commands``),
keeping everyone in step (``sync``: clocks, ready states, the gate, drift), the shared
queue (``queues``), events from the broker (``dispatch``), and the clock
(``maintenance``). Every change goes the same way, whichever instance a member is connected
to: store it, publish an event, and apply the event when it comes back, on every instance
alike. Chat is ordered by its database sequence number (``ordering``); join/leave by the
presence store's atomic publish; playback, control and the queue by their ``seq``, newer
wins.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from maria.audit.service import AuditLog
from maria.backends import channels
from maria.backends.broker import Broker
from maria.backends.ratelimit import Counters
from maria.db import Database
from maria.lists.service import ListsService
from maria.rooms import protocol
from maria.rooms.commands import Commands
from maria.rooms.conn import CloseSocket, Conn, Flusher, SendFrames, WriteNow
from maria.rooms.dispatch import Dispatch
from maria.rooms.events import DeletedEvent, ManagedEvent
from maria.rooms.frames import ClientQueue
from maria.rooms.gate import ReadyState
from maria.rooms.maintenance import Maintenance
from maria.rooms.membership import Membership
from maria.rooms.moderation import Moderation
from maria.rooms.playback import Action, now_ms
from maria.rooms.presence import Presence
from maria.rooms.protocol import CLOSE_SERVICE_RESTART
from maria.rooms.queues import Queues
from maria.rooms.reactions import Reactions
from maria.rooms.registry import Registry
from maria.rooms.sync import Sync
from maria.rooms.views import Member
from maria.users.service import UsersService


class RoomHub:
    def __init__(
        self,
        *,
        database: Database,
        broker: Broker,
        presence: Presence,
        counters: Counters,
        users: UsersService,
        lists: ListsService,
        is_revoked: Callable[[str], bool],
        chat_limit: tuple[int, int],
        reconnect_grace: float,
        host_grace: float,
        ready_timeout: float,
        audit: AuditLog,
        capacity: int = 200,
        kick_ban: float = 300.0,
    ) -> None:
        self._rooms = Registry()
        self._presence = presence
        self.dispatch = Dispatch(self._rooms, database)
        self.commands = Commands(
            self._rooms, database, broker, counters, users, chat_limit, self.dispatch.on_message
        )
        self.membership = Membership(
            self._rooms, database, presence, Flusher(), reconnect_grace, capacity
        )
        self.moderation = Moderation(self._rooms, database, audit, self.commands.publish, kick_ban)
        self.reactions = Reactions(
            self._rooms, database, users, counters, chat_limit, self.commands.publish
        )
        self.sync = Sync(self._rooms, database, self.commands.publish, ready_timeout)
        self.queues = Queues(self._rooms, database, self.commands.publish, lists)
        self.dispatch.after = self.sync.after
        self.maintenance = Maintenance(
            self._rooms,
            database,
            presence,
            self.membership,
            self.commands,
            self.dispatch,
            is_revoked,
            host_grace,
            self.sync,
        )
        self._ticker: asyncio.Task[None] | None = None
        broker.subscribe(channels.ROOMS, self.dispatch.on_message)
        broker.on_reconnect.append(self.maintenance.resync_all)

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await self._presence.heartbeat()
        self._ticker = asyncio.create_task(self.maintenance.run(), name="maria-rooms")

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        await self.commands.flush_chat(seconds=2)
        conns = [
            conn
            for room in self._rooms.all()
            for conn in room.close_all(
                CLOSE_SERVICE_RESTART, "service_restart: the server is restarting; reconnect"
            )
        ]
        await asyncio.sleep(0.1)
        for conn in conns:
            await conn.stop()
        self._rooms.cancel_tasks()
        self._rooms.clear()

    # -- what a socket does ---------------------------------------------------------------

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
        conn = await self.membership.join(
            room_id,
            user_id=user_id,
            name=name,
            sid=sid,
            exp=exp,
            send=send,
            close=close,
            write_now=write_now,
            is_admin=is_admin,
        )
        if conn is not None:
            self.sync.greet(conn)
        return conn

    async def leave(self, conn: Conn) -> None:
        await self.membership.leave(conn)
        await self.sync.gone(conn)

    async def chat(self, conn: Conn, text: str) -> None:
        await self.commands.chat(conn, text)

    async def playback(
        self, conn: Conn, action: Action, position: float | None, force: bool = False
    ) -> None:
        await self.commands.playback(conn, action, position, force)

    async def control(self, conn: Conn, mode: str) -> None:
        await self.commands.control(conn, mode)

    async def hand_over(self, conn: Conn, target: str) -> None:
        await self.commands.hand_over(conn, target)

    def pong(self, conn: Conn, t0: float | int) -> None:
        conn.push(protocol.pong(t0, now_ms()))

    def sample_clock(self, conn: Conn, t0: int, t1: float) -> None:
        self.sync.sample(conn, t0, t1)

    async def ready(self, conn: Conn, state: ReadyState, movie_id: int | None) -> None:
        await self.sync.ready(conn, state, movie_id)

    def position(self, conn: Conn, position: float, at: float) -> None:
        self.sync.position(conn, position, at)

    async def queue(self, conn: Conn, frame: ClientQueue) -> None:
        await self.queues.change(conn, frame)

    # -- what the REST side asks ----------------------------------------------------------

    async def members(self, room_id: str) -> list[Member]:
        return await self.membership.members(room_id)

    async def managed(self, room_id: str, event: ManagedEvent) -> None:
        """The room's settings changed (REST): every instance applies them."""
        await self.commands.publish(room_id, event)

    async def deleted(self, room_id: str) -> None:
        """After the room's row is gone: every instance closes its sockets."""
        with contextlib.suppress(Exception):
            await self.membership.forget(room_id)
        await self.commands.publish(room_id, DeletedEvent())
