"""The rooms one instance serves, and the commands and events that change them.

Every change goes the same way, whichever instance a member is connected to: store it
(the database decides races), publish an event on the broker, and apply the event when
it comes back, on every instance alike. Chat is ordered by its database sequence number
(see ``ordering``); join/leave by the presence store's atomic publish; playback and control
by their ``seq``, newer wins. A maintenance tick ends sockets whose token expired or whose
session was revoked, replaces absent hosts, and keeps the presence store's view current.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine
from typing import Any

from maria.auth.revocation import RevokedSessions
from maria.backends.broker import Broker
from maria.backends.ratelimit import Counters
from maria.config import Settings
from maria.db import new_id
from maria.rooms import events, protocol, service
from maria.rooms.conn import CloseSocket, Conn, Flusher, SendFrames, WriteNow
from maria.rooms.playback import Action, now_ms
from maria.rooms.presence import Member, Presence
from maria.rooms.protocol import CLOSE_DELETED, CLOSE_GOING_AWAY, CLOSE_UNAUTHENTICATED
from maria.rooms.room import LocalRoom
from maria.rooms.service import Draft, Sessions
from maria.rooms.views import RoomView
from maria.rooms.writer import ChatWriter
from maria.users.service import UserCache

log = logging.getLogger("maria.rooms")

TICK = 1.0
HEARTBEAT_EVERY = 5.0
RESYNC_EVERY = 30.0
GAP_WAIT = 0.5
MAX_WAITING = 1000
BACKGROUND_REDIS = 8  # presence removals in flight at once, so a mass exit cannot crowd out chat


class RoomHub:
    def __init__(
        self,
        *,
        settings: Settings,
        sessions: Sessions,
        broker: Broker,
        presence: Presence,
        counters: Counters,
        users: UserCache,
        revoked: RevokedSessions,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._broker = broker
        self._presence = presence
        self._counters = counters
        self._users = users
        self._revoked = revoked
        self._rooms: dict[str, LocalRoom] = {}
        self._writers: dict[str, ChatWriter] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ticker: asyncio.Task[None] | None = None
        self._background = asyncio.Semaphore(BACKGROUND_REDIS)
        self._flusher = Flusher()
        broker.subscribe(events.CHANNEL, self._on_message)
        broker.on_reconnect.append(self._resync_all)

    # -- life cycle -------------------------------------------------------------------

    async def start(self) -> None:
        with contextlib.suppress(Exception):
            await self._presence.heartbeat()
        self._ticker = asyncio.create_task(self._maintain(), name="maria-rooms")

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        writers = [w.task for w in self._writers.values() if w.task is not None]
        if writers:  # let stored-but-unpublished chat go out
            await asyncio.wait(writers, timeout=2)
        conns = [conn for room in self._rooms.values() for conn in room.all_conns()]
        for room in self._rooms.values():
            for timer in room.leaving.values():
                timer.cancel()
        for conn in conns:
            conn.close(CLOSE_GOING_AWAY, "going_away: the server is shutting down")
        await asyncio.sleep(0.1)
        for conn in conns:
            await conn.stop()
        for task in list(self._tasks):
            task.cancel()
        self._rooms.clear()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("room task failed", exc_info=task.exception())

    # -- membership -------------------------------------------------------------------

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
        room = self._rooms.get(room_id)
        if room is None:
            room = self._rooms[room_id] = LocalRoom(room_id)
            room.loading = asyncio.create_task(self._load(room))
        room.holds[user_id] = room.holds.get(user_id, 0) + 1
        try:
            if room.loading is not None and not await asyncio.shield(room.loading):
                return None
            me = Member(user_id, name, now_ms())
            timer = room.leaving.pop(user_id, None)
            if timer is not None:
                timer.cancel()  # back within the reconnect grace: nobody saw them leave
            elif room.holds[user_id] == 1 and user_id not in room.conns:
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
        room.conns.setdefault(user_id, set()).add(conn)
        conn.start(room.welcome(conn, room.members.get(user_id, me)))
        return conn

    async def _load(self, room: LocalRoom) -> bool:
        try:
            snap = await service.snapshot(self._sessions, room.id)
            if snap is None:
                self._drop(room)
                return False
            try:
                members = await self._presence.members(room.id)
            except Exception as exc:
                log.warning("presence read failed: %s", type(exc).__name__)
                members = []
            room.loaded(*snap, members)
            room.loading = None
            return True
        except BaseException:
            self._drop(room)
            raise

    async def leave(self, conn: Conn) -> None:
        """The socket is gone; the user leaves after the reconnect grace if it was their last."""
        await conn.stop()
        room = self._rooms.get(conn.room_id)
        if room is None:
            return
        conns = room.conns.get(conn.user_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del room.conns[conn.user_id]
        self._release(room, conn.user_id, conn.name)

    def _release(self, room: LocalRoom, user_id: str, name: str) -> None:
        left = room.holds.get(user_id, 0) - 1
        if left > 0:
            room.holds[user_id] = left
            return
        room.holds.pop(user_id, None)
        if self._rooms.get(room.id) is not room:
            return
        room.leaving[user_id] = asyncio.get_running_loop().call_later(
            self._settings.room_reconnect_grace, self._grace_over, room, user_id, name
        )

    def _grace_over(self, room: LocalRoom, user_id: str, name: str) -> None:
        room.leaving.pop(user_id, None)
        if user_id not in room.holds:
            self._spawn(self._depart(room, user_id, name))

    async def _depart(self, room: LocalRoom, user_id: str, name: str) -> None:
        try:
            async with self._background:
                if user_id in room.holds:  # came back while waiting for a turn
                    return
                await self._presence.remove(room.id, user_id, name)
        except Exception as exc:
            log.warning("presence remove failed: %s", type(exc).__name__)
        if room.idle:
            self._drop(room)

    def _drop(self, room: LocalRoom) -> None:
        if self._rooms.get(room.id) is room:
            del self._rooms[room.id]

    async def members(self, room_id: str) -> list[Member]:
        """Everyone online in the room, on any instance, longest-present first."""
        room = self._rooms.get(room_id)
        found = (
            list(room.members.values())
            if room is not None and room.view is not None
            else await self._presence.members(room_id)
        )
        return sorted(found, key=lambda m: (m.since, m.user_id))

    async def deleted(self, room_id: str) -> None:
        """Call after the room's row is gone: every instance closes its sockets."""
        with contextlib.suppress(Exception):
            await self._presence.forget(room_id)
        await self._publish(room_id, {"k": "deleted"})

    # -- commands ---------------------------------------------------------------------

    async def chat(self, conn: Conn, text: str) -> None:
        """Queue a message to the room's writer (which throttles, stores and publishes it)."""
        user = await self._users.get(conn.user_id)
        if user is None or user.disabled:
            conn.close(CLOSE_UNAUTHENTICATED, "invalid_token: the account no longer exists")
            return
        writer = self._writers.get(conn.room_id)
        if writer is None:
            settings = self._settings
            writer = self._writers[conn.room_id] = ChatWriter(
                conn.room_id,
                self._sessions,
                self._broker,
                self._counters,
                (settings.room_chat_limit, settings.room_chat_window),
                self._on_message,
                self._writer_done,
            )
        writer.submit(Draft(new_id(), conn.user_id, user.display_name, text, now_ms()), conn)

    def _writer_done(self, writer: ChatWriter) -> None:
        if self._writers.get(writer.room_id) is writer:
            del self._writers[writer.room_id]

    def _view(self, conn: Conn) -> RoomView | None:
        room = self._rooms.get(conn.room_id)
        return None if room is None else room.view

    async def playback(self, conn: Conn, action: Action, position: float | None) -> None:
        view = self._view(conn)
        if view is not None and view.host_id != conn.user_id and view.control != "everyone":
            conn.push(protocol.error("forbidden", "Only the host controls playback"))
            return
        state = await service.change_playback(
            self._sessions, conn.room_id, user_id=conn.user_id, action=action, position=position
        )
        await self._publish(conn.room_id, {"k": "playback", "p": state.as_dict()})

    async def control(self, conn: Conn, mode: str) -> None:
        if not self._is_host(conn):
            return
        view = await service.set_control(
            self._sessions, conn.room_id, user_id=conn.user_id, mode=mode
        )
        await self._publish_control(view)

    async def hand_over(self, conn: Conn, target: str) -> None:
        if not self._is_host(conn):
            return
        room = self._rooms.get(conn.room_id)
        if room is None or target not in room.members:
            conn.push(protocol.error("not_found", "That user is not in the room"))
            return
        view = await service.hand_over(
            self._sessions, conn.room_id, user_id=conn.user_id, target=target
        )
        await self._publish_control(view)

    def _is_host(self, conn: Conn) -> bool:
        view = self._view(conn)
        if view is not None and view.host_id != conn.user_id:
            conn.push(protocol.error("forbidden", "Only the host can do that"))
            return False
        return True

    async def _publish_control(self, view: RoomView) -> None:
        await self._publish(
            view.id,
            {
                "k": "control",
                "mode": view.control,
                "host_id": view.host_id,
                "seq": view.control_seq,
            },
        )

    async def _publish(self, room_id: str, event: dict[str, Any]) -> None:
        message = events.pack(room_id, event)
        try:
            await self._broker.publish(events.CHANNEL, message)
        except Exception as exc:  # the change is stored: at least this instance shows it
            log.warning("room event not published: %s", type(exc).__name__)
            self._on_message(message)

    # -- events -----------------------------------------------------------------------

    def _on_message(self, message: str) -> None:
        room_id, body = events.room_of(message)
        room = self._rooms.get(room_id)
        if room is None:
            return
        try:
            event = json.loads(body)
            kind = event.get("k")
            if kind == "chat":
                released = []
                for item in event["m"]:
                    released += room.orderer.offer(int(item["seq"]), item)
                room.deliver(released)  # one delivery per event: a batch, written as one
                self._watch_gap(room)
            elif kind == "deleted":
                self._close_room(room)
            else:
                room.apply(event)
        except Exception:
            log.exception("bad room event for %s", room_id)

    def _watch_gap(self, room: LocalRoom) -> None:
        if room.filling or room.orderer.gap() is None:
            return
        room.filling = True
        delay = 0.0 if room.orderer.waiting > MAX_WAITING else GAP_WAIT
        asyncio.get_running_loop().call_later(delay, self._spawn, self._fill(room))

    async def _fill(self, room: LocalRoom) -> None:
        """Read a hole the broker did not fill in time from the database."""
        try:
            gap = room.orderer.gap()
            if gap is not None:
                found = await service.messages_between(self._sessions, room.id, *gap)
                room.deliver(room.orderer.fill([(m["seq"], m) for m in found], gap[1]))
        except Exception as exc:
            log.warning("chat gap fill failed: %s", type(exc).__name__)
        finally:
            room.filling = False
        if self._rooms.get(room.id) is room:
            self._watch_gap(room)

    def _close_room(self, room: LocalRoom) -> None:
        for timer in room.leaving.values():
            timer.cancel()
        room.leaving.clear()
        for conn in room.all_conns():
            conn.close(CLOSE_DELETED, "room_deleted: the room was deleted")
        self._drop(room)

    # -- maintenance ------------------------------------------------------------------

    async def _maintain(self) -> None:
        beat = resync = time.monotonic()
        while True:
            await asyncio.sleep(TICK)
            try:
                now, mono = time.time(), time.monotonic()
                for room in list(self._rooms.values()):
                    self._check_tokens(room, now)
                    self._check_host(room, mono)
                if mono - beat >= HEARTBEAT_EVERY:
                    beat = mono
                    await self._presence.heartbeat()
                    for room_id in list(self._rooms):
                        await self._presence.sweep(room_id)
                if mono - resync >= RESYNC_EVERY:
                    resync = mono
                    self._resync_all()
            except Exception as exc:
                log.warning("room maintenance failed: %s", type(exc).__name__)

    def _check_tokens(self, room: LocalRoom, now: float) -> None:
        for conn in room.all_conns():
            if conn.closing is not None:
                continue
            if conn.exp <= now:
                conn.close(CLOSE_UNAUTHENTICATED, "token_expired: send a fresh token in time")
            elif self._revoked.is_revoked(conn.sid):
                conn.close(CLOSE_UNAUTHENTICATED, "invalid_token: the session has ended")

    def _check_host(self, room: LocalRoom, mono: float) -> None:
        view = room.view
        if view is None or room.replacing:
            return
        if view.host_id is not None and view.host_id in room.members:
            room.host_missing_since = None
            return
        if room.host_missing_since is None:
            room.host_missing_since = mono
            return
        if mono - room.host_missing_since <= self._settings.room_host_grace:
            return
        successor = room.successor()
        if successor is not None:
            room.replacing = True
            self._spawn(self._replace_host(room, view.host_id, successor.user_id))

    async def _replace_host(self, room: LocalRoom, absent: str | None, successor: str) -> None:
        try:
            view = await service.replace_host(
                self._sessions, room.id, absent=absent, successor=successor
            )
            if view is not None:  # else another instance was first: its event says so
                await self._publish_control(view)
        finally:
            room.replacing = False
            room.host_missing_since = None

    def _resync_all(self) -> None:
        for room in list(self._rooms.values()):
            if room.view is not None:
                self._spawn(self._resync(room))

    async def _resync(self, room: LocalRoom) -> None:
        """Catch up with what the broker may have lost (a Redis reconnect, a failed publish)."""
        async with self._sessions() as db:
            view = await service.find_room(db, room.id)
        if view is None:
            self._close_room(room)
            return
        room.apply({"k": "playback", "p": view.playback.as_dict()})
        room.apply(
            {"k": "control", "mode": view.control, "host_id": view.host_id, "seq": view.control_seq}
        )
        next_seq = room.orderer.next_seq
        if next_seq is not None and view.message_seq >= next_seq:
            upto = view.message_seq + 1
            found = await service.messages_between(self._sessions, room.id, next_seq, upto)
            room.deliver(room.orderer.fill([(m["seq"], m) for m in found], upto))
        for conns in list(room.conns.values()):  # entries lost with a Redis restart come back
            conn = next(iter(conns))
            held = room.members.get(conn.user_id)
            await self._presence.add(room.id, held or Member(conn.user_id, conn.name, now_ms()))
        epoch = room.presence_epoch
        members = await self._presence.members(room.id)
        if room.presence_epoch == epoch:  # no join/leave arrived meanwhile: the read is current
            room.sync_members(members)
