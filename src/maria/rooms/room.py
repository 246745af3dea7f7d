"""A room as one instance serves it: local sockets, a replica of who is online anywhere,
the room's state, the last messages, and the chat orderer.

Its state changes only through its methods, and all of them are synchronous: an event
applied here is applied, and fanned out to every local socket, before anything else runs on
the loop. That is what keeps a welcome (a snapshot) and the frames queued after it
consistent.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from maria.metrics import FANOUT_LAG
from maria.rooms import protocol
from maria.rooms.conn import Conn
from maria.rooms.events import (
    ControlEvent,
    JoinEvent,
    LeaveEvent,
    PlaybackEvent,
    QueueEvent,
    ReadyEvent,
    ReadyFillEvent,
    RoomEvent,
)
from maria.rooms.gate import ReadyBoard
from maria.rooms.ordering import Orderer
from maria.rooms.playback import Playback, newer, now_ms
from maria.rooms.store import HISTORY
from maria.rooms.views import Member, RoomView


class LocalRoom:
    def __init__(self, room_id: str) -> None:
        self.id = room_id
        self._view: RoomView | None = None  # None while loading
        self._loading: asyncio.Task[bool] | None = None
        self._members: dict[str, Member] = {}  # everyone online, on any instance
        self._orderer: Orderer[dict[str, Any]] = Orderer()
        self._presence_epoch = 0  # bumped by every join/leave applied
        self._backlog: list[RoomEvent] = []  # events that arrived while loading
        self._conns: dict[str, set[Conn]] = {}
        self._holds: dict[str, int] = {}  # local sockets per user, joining ones included
        self._leaving: dict[str, asyncio.TimerHandle] = {}  # reconnect grace timers
        self._recent: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self._filling = False
        self._host_missing_since: float | None = None
        self._replacing = False
        self.ready = ReadyBoard()  # the members' ready states (``gate``)

    @property
    def view(self) -> RoomView | None:
        """The room's state as this instance knows it; None while loading."""
        return self._view

    @property
    def members(self) -> Mapping[str, Member]:
        """Everyone online in the room, on any instance."""
        return self._members

    @property
    def presence_epoch(self) -> int:
        """Grows with every join or leave applied: tells whether a read is still current."""
        return self._presence_epoch

    @property
    def loading(self) -> asyncio.Task[bool] | None:
        return self._loading

    def start_loading(self, task: asyncio.Task[bool]) -> None:
        self._loading = task

    @property
    def idle(self) -> bool:
        return not self._holds and not self._leaving

    def all_conns(self) -> list[Conn]:
        return [conn for conns in self._conns.values() for conn in conns]

    def lead_ms(self) -> int:
        """How far ahead to schedule a start now: from the round trips reported with ready
        states and those of the sockets here (``gate``)."""
        local: dict[str, float] = {}
        for user_id, conns in self._conns.items():
            local[user_id] = max(conn.clock.rtt for conn in conns)
        return self.ready.lead_ms(local)

    def one_conn_per_user(self) -> list[Conn]:
        return [next(iter(conns)) for conns in self._conns.values() if conns]

    # -- local sockets --------------------------------------------------------------------

    def hold(self, user_id: str) -> bool:
        """Count a socket of ``user_id`` joining; whether it is the user's first here."""
        count = self._holds.get(user_id, 0) + 1
        self._holds[user_id] = count
        return count == 1 and user_id not in self._conns

    def release(self, user_id: str) -> bool:
        """A socket of ``user_id`` is gone; whether it was their last here."""
        left = self._holds.get(user_id, 0) - 1
        if left > 0:
            self._holds[user_id] = left
            return False
        self._holds.pop(user_id, None)
        return True

    def attach(self, conn: Conn) -> None:
        self._conns.setdefault(conn.user_id, set()).add(conn)

    def detach(self, conn: Conn) -> None:
        conns = self._conns.get(conn.user_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._conns[conn.user_id]

    def is_held(self, user_id: str) -> bool:
        return user_id in self._holds

    def is_local(self, user_id: str) -> bool:
        """Whether ``user_id`` has a socket here."""
        return user_id in self._conns

    # -- reconnect grace ------------------------------------------------------------------

    def start_grace(self, user_id: str, delay: float, over: Callable[[], None]) -> None:
        self._leaving[user_id] = asyncio.get_running_loop().call_later(delay, over)

    def cancel_grace(self, user_id: str) -> bool:
        """Back within the grace: nobody saw them leave. Whether a grace was running."""
        timer = self._leaving.pop(user_id, None)
        if timer is None:
            return False
        timer.cancel()
        return True

    def grace_over(self, user_id: str) -> bool:
        """The grace ended; whether the user is really gone (no socket came back)."""
        self._leaving.pop(user_id, None)
        return user_id not in self._holds

    # -- loading --------------------------------------------------------------------------

    def loaded(self, view: RoomView, history: list[dict[str, Any]], members: list[Member]) -> None:
        """Install the snapshot, then replay what arrived while it was read (events newer
        than the snapshot win; ones it already contains change nothing)."""
        self._view = view
        self._loading = None
        self._recent.extend(history)
        self._members = {m.user_id: m for m in members}
        last = max([view.message_seq, *(m["seq"] for m in history)])
        self.deliver(self._orderer.start(last + 1))
        backlog, self._backlog = self._backlog, []
        for event in backlog:
            self.apply(event)

    # -- events ---------------------------------------------------------------------------

    def fanout(self, frame: str, skip_user: str | None = None) -> None:
        for user_id, conns in self._conns.items():
            if user_id != skip_user:
                for conn in conns:
                    conn.push(frame)

    def receive_chat(self, messages: list[dict[str, Any]]) -> None:
        """Stored messages from the broker (any order, duplicates too): what is next in
        sequence goes out, in one delivery (written as one)."""
        released: list[dict[str, Any]] = []
        for message in messages:
            released += self._orderer.offer(message["seq"], message)
        self.deliver(released)

    def fill(self, found: list[dict[str, Any]], upto: int) -> None:
        """Messages below ``upto`` read from the database: a hole is filled (numbers missing
        even there are given up), delivery moves on."""
        self.deliver(self._orderer.fill([(m["seq"], m) for m in found], upto))

    def gap(self) -> tuple[int, int] | None:
        """``[first missing, first waiting)`` while chat waits behind a hole."""
        return self._orderer.gap()

    @property
    def waiting(self) -> int:
        """Messages held back behind a hole."""
        return self._orderer.waiting

    @property
    def next_seq(self) -> int | None:
        """The chat number delivered next (None before the room is loaded)."""
        return self._orderer.next_seq

    def deliver(self, messages: list[dict[str, Any]]) -> None:
        """Chat in order: each frame encoded once, a batch queued to each socket at once."""
        if not messages:
            return
        now = now_ms()
        for message in messages:
            FANOUT_LAG.observe(max(0, now - message["timestamp"]) / 1000)
        self._recent.extend(messages)
        frames = [protocol.chat(message) for message in messages]
        for conns in self._conns.values():
            for conn in conns:
                conn.push_all(frames)

    def apply(self, event: RoomEvent) -> None:
        """A non-chat event from the broker, a resync, or the backlog."""
        if self._view is None:
            self._backlog.append(event)
            return
        if isinstance(event, JoinEvent):
            self.joined(event.member)
        elif isinstance(event, LeaveEvent):
            self.left(event.user_id, event.name)
        elif isinstance(event, PlaybackEvent):
            self.played(event.state)
        elif isinstance(event, ControlEvent):
            self.controlled(event.mode, event.host_id, event.seq)
        elif isinstance(event, ReadyEvent):
            self.reported(event)
        elif isinstance(event, QueueEvent):
            self.queued(event)
        elif isinstance(event, ReadyFillEvent):
            self.filled(event)

    def played(self, state: Playback) -> None:
        assert self._view is not None
        if newer(state, self._view.playback):
            self._view = replace(self._view, playback=state)
            self.fanout(protocol.playback(state))

    def reported(self, event: ReadyEvent) -> None:
        """A member's ready state (one for an earlier film than the current is too late)."""
        assert self._view is not None
        if event.media_seq < self._view.queue.media_seq:
            return
        if event.state == "unknown":
            changed = self.ready.drop(event.user_id)
        else:
            changed = self.ready.report(event.user_id, event.state, event.media_seq, event.rtt)
        if changed:
            self.fanout(protocol.ready(event.user_id, event.state))

    def filled(self, event: ReadyFillEvent) -> None:
        """Another instance's members' states, where this board has none."""
        assert self._view is not None
        current = self._view.queue.media_seq
        for user_id, (state, media_seq, rtt) in event.states.items():
            if media_seq >= current and self.ready.fill(user_id, state, media_seq, rtt):
                self.fanout(protocol.ready(user_id, state))

    def queued(self, event: QueueEvent) -> None:
        """A queue change; a new media resets everyone present to buffering (no frame each:
        the queue frame's new ``media_seq`` says so), then the playback that came with it."""
        assert self._view is not None
        queue = event.queue
        if queue.seq > self._view.queue.seq:
            media = queue.media_seq > self._view.queue.media_seq
            self._view = replace(self._view, queue=queue, movie_id=queue.movie_id)
            if media:
                self.ready.media_changed(queue.media_seq, self._members)
            self.fanout(protocol.queue(queue))
        if event.playback is not None:
            self.played(event.playback)

    def joined(self, member: Member) -> None:
        held = self._members.get(member.user_id)
        if held is not None:
            if member.since < held.since:
                self._members[member.user_id] = member
            return
        self._members[member.user_id] = member
        self._presence_epoch += 1
        if self.view is not None and member.user_id == self.view.host_id:
            self._host_missing_since = None
        self.fanout(protocol.presence("join", member.user_id, member.name), member.user_id)

    def left(self, user_id: str, name: str) -> None:
        member = self._members.pop(user_id, None)
        if member is None:
            return
        self.ready.drop(user_id)  # a leave ends the ready state too (no frame of its own)
        self._presence_epoch += 1
        if self.view is not None and user_id == self.view.host_id:
            self._host_missing_since = time.monotonic()
        self.fanout(protocol.presence("leave", user_id, name or member.name), user_id)

    def controlled(self, mode: str, host_id: str | None, seq: int) -> None:
        if self._view is None or seq <= self._view.control_seq:
            return
        if host_id != self._view.host_id:
            self._host_missing_since = None if host_id in self._members else time.monotonic()
        self._view = replace(self._view, control=mode, host_id=host_id, control_seq=seq)
        self.fanout(protocol.control(mode, host_id))

    def sync_members(self, members: list[Member]) -> None:
        """Reconcile the replica with a fresh read of the presence store."""
        current = {m.user_id: m for m in members}
        for user_id in [u for u in self._members if u not in current]:
            self.left(user_id, "")
        for member in current.values():
            self.joined(member)

    # -- filling holes in the chat --------------------------------------------------------

    def begin_fill(self) -> bool:
        """Whether a fill should start now: a hole waits and no fill is under way."""
        if self._filling or self._orderer.gap() is None:
            return False
        self._filling = True
        return True

    def end_fill(self) -> None:
        self._filling = False

    # -- the host -------------------------------------------------------------------------

    def host_due(self, mono: float, grace: float) -> Member | None:
        """The member to make host, once the host has been gone for ``grace`` seconds (and
        no replacement is under way); marks the replacement started."""
        view = self.view
        if view is None or self._replacing:
            return None
        if view.host_id is not None and view.host_id in self.members:
            self._host_missing_since = None
            return None
        if self._host_missing_since is None:
            self._host_missing_since = mono
            return None
        if mono - self._host_missing_since <= grace:
            return None
        successor = self.successor()
        if successor is not None:
            self._replacing = True
        return successor

    def host_replaced(self) -> None:
        self._replacing = False
        self._host_missing_since = None

    def successor(self) -> Member | None:
        """The longest-present member other than the host."""
        host = self.view.host_id if self.view is not None else None
        candidates = [m for m in self.members.values() if m.user_id != host]
        return min(candidates, key=_by_since, default=None)

    # -- closing --------------------------------------------------------------------------

    def close_all(self, code: int, reason: str) -> list[Conn]:
        """Stop the grace timers and close every local socket (after what is queued)."""
        for timer in self._leaving.values():
            timer.cancel()
        self._leaving.clear()
        conns = self.all_conns()
        for conn in conns:
            conn.close(code, reason)
        return conns

    def close_expired(self, now: float, is_revoked: Callable[[str], bool], code: int) -> None:
        """Close the sockets whose token expired or whose session was revoked."""
        for conn in self.all_conns():
            if conn.closing is not None:
                continue
            if conn.exp <= now:
                conn.close(code, "token_expired: send a fresh token in time")
            elif is_revoked(conn.sid):
                conn.close(code, "invalid_token: the session has ended")

    # -- joining --------------------------------------------------------------------------

    def welcome(self, conn: Conn, me: Member) -> str:
        """The first frame of ``conn``: a snapshot consistent with every frame queued after
        it (call it in the same synchronous step that registers ``conn``)."""
        assert self.view is not None
        members = dict(self.members)
        members.setdefault(me.user_id, me)  # our own join may still be on its way
        return protocol.encode(
            {
                "type": "welcome",
                "room": self.view.public(),
                "members": [m.as_dict() for m in sorted(members.values(), key=_by_since)],
                "playback": self.view.playback.as_dict(),
                "history": list(self._recent),
                "host_id": self.view.host_id,
                "control": self.view.control,
                "user_id": conn.user_id,
                "server_time": now_ms(),
                "queue": self.view.queue.as_dict(),
                "ready": self.ready.states(),
            }
        )


def _by_since(member: Member) -> tuple[int, str]:
    return member.since, member.user_id
