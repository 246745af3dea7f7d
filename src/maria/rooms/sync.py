"""Everyone in step: the members' clocks, their ready states, the gate's scheduled start,
and drift.

- Clock: each socket is pinged (``clock``); its answers give the round trip and offset, and
  the member hears of the estimate (``clock`` frame) whenever it changes.
- Ready: a report is published (with the member's round trip) and applied on every
  instance (``LocalRoom.reported``); a member whose last socket here closes is published
  ``unknown`` at once, so a dropped member never holds a start.
- The gate: a waiting play starts once nobody is buffering. The instance that published
  the event that may have made it so (a ready report, the waiting play itself, a media
  change) checks when that event comes back through the broker: by then its replica holds
  every report published before it, and a report published later is checked by its own
  publisher. (An instance that starts serving a room has heard no earlier report: it asks,
  and the others answer with their members' states, which fill only what it lacks.)
  Every instance's tick starts a play that waited out the timeout. The start is a
  compare-and-set on the playback's ``seq``: however many try, exactly one stores it, and
  its one event gives every member the same ``at``.
- Drift: a member's reported position against the room's (``drift``), answered to them only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from maria.db import Database
from maria.rooms import protocol, sync_store
from maria.rooms.clock import FIRST_PINGS, PING_EVERY, BadPong
from maria.rooms.conn import Conn
from maria.rooms.drift import drift
from maria.rooms.events import (
    PlaybackEvent,
    QueueEvent,
    ReadyEvent,
    ReadyFillEvent,
    ReadyQueryEvent,
    RoomEvent,
)
from maria.rooms.gate import ReadyState, due, started
from maria.rooms.playback import Playback, now_ms
from maria.rooms.registry import Registry
from maria.rooms.room import LocalRoom

Publish = Callable[[str, RoomEvent], Coroutine[Any, Any, None]]


class Sync:
    def __init__(
        self, rooms: Registry, database: Database, publish: Publish, ready_timeout: float
    ) -> None:
        self._rooms = rooms
        self._database = database
        self._publish = publish
        self._timeout_ms = int(ready_timeout * 1000)
        self._starting: set[tuple[str, int]] = set()  # (room, waiting seq) being started here

    # -- the clock --------------------------------------------------------------------------

    def greet(self, conn: Conn) -> None:
        """Ping a socket that just joined, and three more times in its first ~2 s; if the
        room is new here, ask the other instances for the ready states."""
        room = self._rooms.get(conn.room_id)
        if room is not None and not room.ready.asked:
            room.ready.asked = True
            self._rooms.spawn(self._publish(room.id, ReadyQueryEvent(self._rooms.instance)))
        self._ping(conn)
        loop = asyncio.get_running_loop()
        for delay in FIRST_PINGS:
            loop.call_later(delay, self._ping, conn)

    def _ping(self, conn: Conn) -> None:
        if conn.closing is None:
            conn.push(protocol.ping(conn.clock.ping(now_ms())))

    def sample(self, conn: Conn, t0: int, t1: float) -> None:
        """A ``pong``: one more sample; the member hears of a new estimate."""
        try:
            estimate = conn.clock.sample(t0, t1, now_ms())
        except BadPong as exc:
            conn.push(protocol.error("validation_error", str(exc)))
            return
        if estimate is not None:
            conn.push(protocol.clock(estimate.rtt, estimate.offset))

    # -- ready states -----------------------------------------------------------------------

    async def ready(self, conn: Conn, state: ReadyState, movie_id: int | None) -> None:
        room = self._rooms.get(conn.room_id)
        view = None if room is None else room.view
        if view is None or (movie_id is not None and movie_id != view.movie_id):
            return  # a late report about the previous film
        await self._publish(
            conn.room_id,
            ReadyEvent(
                conn.user_id, state, conn.clock.rtt, view.queue.media_seq, self._rooms.instance
            ),
        )

    async def gone(self, conn: Conn) -> None:
        """A socket closed: if it was its user's last one here, they hold no start."""
        room = self._rooms.get(conn.room_id)
        view = None if room is None else room.view
        if room is None or view is None or room.is_local(conn.user_id):
            return
        if room.ready.state(conn.user_id) is not None:
            event = ReadyEvent(
                conn.user_id, "unknown", 0.0, view.queue.media_seq, self._rooms.instance
            )
            await self._publish(conn.room_id, event)

    # -- the gate ---------------------------------------------------------------------------

    def after(self, room: LocalRoom, event: RoomEvent) -> None:
        """An event was applied: if this instance published it, check the gate; if another
        instance asks for the ready states, tell it those of the members here."""
        if isinstance(event, ReadyQueryEvent):
            if event.origin != self._rooms.instance:
                self._rooms.spawn(self._answer(room))
            return
        mine = isinstance(event, ReadyEvent | PlaybackEvent | QueueEvent) and (
            event.origin == self._rooms.instance
        )
        if mine:
            self.check(room)

    async def _answer(self, room: LocalRoom) -> None:
        states = {}
        for conn in room.one_conn_per_user():
            mark = room.ready.mark(conn.user_id)
            if mark is not None:
                states[conn.user_id] = (mark.state, mark.media_seq, conn.clock.rtt)
        if states:
            await self._publish(room.id, ReadyFillEvent(states, self._rooms.instance))

    def check(self, room: LocalRoom) -> None:
        """Start a waiting play if nobody is buffering."""
        view = room.view
        if view is not None and view.playback.state == "waiting" and not room.ready.blocking():
            self._start_soon(room, view.playback)

    def tick(self, room: LocalRoom, now: int, mono: float) -> None:
        """Once a second: start a play that waited out the timeout; ping sockets due."""
        view = room.view
        if view is not None and due(view.playback, now, self._timeout_ms):
            self._start_soon(room, view.playback)
        for conn in room.all_conns():
            if conn.clock.next_ping <= mono:
                conn.clock.next_ping = mono + PING_EVERY
                self._ping(conn)

    def _start_soon(self, room: LocalRoom, waiting: Playback) -> None:
        key = (room.id, waiting.seq)
        if key not in self._starting:
            self._starting.add(key)
            self._rooms.spawn(self._start(room, waiting, key))

    async def _start(self, room: LocalRoom, waiting: Playback, key: tuple[str, int]) -> None:
        try:
            new = started(waiting, now_ms(), room.lead_ms())
            if await sync_store.start(self._database, room.id, waiting, new):
                await self._publish(room.id, PlaybackEvent(new))
        finally:
            self._starting.discard(key)

    # -- drift ------------------------------------------------------------------------------

    def position(self, conn: Conn, position: float, at: float) -> None:
        """A member's position report: ``drift`` to them if they are out of step."""
        room = self._rooms.get(conn.room_id)
        view = None if room is None else room.view
        if view is None:
            return
        found = drift(view.playback, position, at, now_ms())
        if found is not None:
            conn.push(protocol.drift(found.delta, found.position, found.at))
