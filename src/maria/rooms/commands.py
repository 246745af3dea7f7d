"""What members ask of a room: chat, playback, control, handing over.

Every change goes the same way, whichever instance a member is connected to: store it (the
database decides races), publish an event on the broker, and apply the event when it comes
back, on every instance alike. If publishing fails, the change is stored anyway: this
instance applies the event itself, and the others catch up at their next resync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from maria.backends import channels
from maria.backends.broker import Broker
from maria.backends.ratelimit import Counters
from maria.db import Database, new_id
from maria.rooms import events, protocol, store
from maria.rooms.conn import Conn
from maria.rooms.events import ControlEvent, PlaybackEvent, RoomEvent
from maria.rooms.playback import Action, now_ms
from maria.rooms.protocol import CLOSE_UNAUTHENTICATED
from maria.rooms.registry import Registry
from maria.rooms.store import Draft
from maria.rooms.views import RoomView
from maria.rooms.writer import ChatWriter
from maria.users.service import UsersService

log = logging.getLogger("maria.rooms")


class Commands:
    def __init__(
        self,
        rooms: Registry,
        database: Database,
        broker: Broker,
        counters: Counters,
        users: UsersService,
        chat_limit: tuple[int, int],
        local: Callable[[str], None],
    ) -> None:
        self._rooms = rooms
        self._database = database
        self._broker = broker
        self._counters = counters
        self._users = users
        self._chat_limit = chat_limit  # messages per user per window (seconds)
        self._local = local  # applies an event on this instance when publishing failed
        self._writers: dict[str, ChatWriter] = {}

    async def publish(self, room_id: str, event: RoomEvent) -> None:
        message = events.encode(room_id, event)
        try:
            await self._broker.publish(channels.ROOMS, message)
        except Exception as exc:  # the change is stored: at least this instance shows it
            log.warning("room event not published: %s", type(exc).__name__)
            self._local(message)

    async def publish_control(self, view: RoomView) -> None:
        await self.publish(view.id, ControlEvent(view.control, view.host_id, view.control_seq))

    # -- chat -----------------------------------------------------------------------------

    async def chat(self, conn: Conn, text: str) -> None:
        """Queue a message to the room's writer (which throttles, stores and publishes it)."""
        room = self._rooms.get(conn.room_id)
        refusal = None if room is None else room.chat_refusal(conn.user_id)
        if refusal is not None:  # muted, or the chat is locked
            conn.push(protocol.error("forbidden", refusal))
            return
        user = await self._users.get(conn.user_id)
        if user is None or user.disabled:
            conn.close(CLOSE_UNAUTHENTICATED, "invalid_token: the account no longer exists")
            return
        writer = self._writers.get(conn.room_id)
        if writer is None:
            writer = self._writers[conn.room_id] = ChatWriter(
                conn.room_id,
                self._database,
                self._broker,
                self._counters,
                self._chat_limit,
                self._local,
                self._writer_done,
            )
        writer.submit(Draft(new_id(), conn.user_id, user.display_name, text, now_ms()), conn)

    def _writer_done(self, writer: ChatWriter) -> None:
        if self._writers.get(writer.room_id) is writer:
            del self._writers[writer.room_id]

    async def flush_chat(self, seconds: float) -> None:
        """Let stored-but-unpublished chat go out (shutting down)."""
        await ChatWriter.wait_all(list(self._writers.values()), seconds)

    # -- playback and control -------------------------------------------------------------

    def _view(self, conn: Conn) -> RoomView | None:
        room = self._rooms.get(conn.room_id)
        return None if room is None else room.view

    async def playback(
        self, conn: Conn, action: Action, position: float | None, force: bool = False
    ) -> None:
        room = self._rooms.get(conn.room_id)
        if room is not None and room.view is not None and not room.can_control(conn.user_id):
            conn.push(protocol.error("forbidden", "Only the host and co-hosts control playback"))
            return
        # A play waits while someone is buffering (unless forced), else starts a little
        # ahead, the same moment everywhere (``gate``).
        wait = action == "play" and not force and room is not None and room.ready.blocking()
        state = await store.change_playback(
            self._database,
            conn.room_id,
            user_id=conn.user_id,
            action=action,
            position=position,
            wait=wait,
            lead_ms=0 if room is None else room.lead_ms(),
        )
        await self.publish(conn.room_id, PlaybackEvent(state, self._rooms.instance))

    async def control(self, conn: Conn, mode: str) -> None:
        if not self._is_host(conn):
            return
        view = await store.set_control(
            self._database, conn.room_id, user_id=conn.user_id, mode=mode
        )
        await self.publish_control(view)

    async def hand_over(self, conn: Conn, target: str) -> None:
        if not self._is_host(conn):
            return
        room = self._rooms.get(conn.room_id)
        if room is None or target not in room.members:
            conn.push(protocol.error("not_found", "That user is not in the room"))
            return
        view = await store.hand_over(
            self._database, conn.room_id, user_id=conn.user_id, target=target
        )
        await self.publish_control(view)

    def _is_host(self, conn: Conn) -> bool:
        view = self._view(conn)
        if view is not None and view.host_id != conn.user_id:
            conn.push(protocol.error("forbidden", "Only the host can do that"))
            return False
        return True
