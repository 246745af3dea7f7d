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
    ManagedEvent,
    PlaybackEvent,
    QueueEvent,
    ReactionEvent,
    ReadyEvent,
    ReadyFillEvent,
    RoomEvent,
)
from maria.rooms.gate import ReadyBoard
from maria.rooms.ordering import Orderer
from maria.rooms.playback import Playback, newer, now_ms
from maria.rooms.protocol import CLOSE_FORBIDDEN
from maria.rooms.roles import Roles, can_control, chat_refusal
from maria.rooms.store import HISTORY
from maria.rooms.views import Member, RoomView

REACTIONS = 100  # the reactions a welcome carries
ROLE_ACTIONS = frozenset({"mute", "unmute", "lock", "unlock", "cohost", "member"})
Reaction = tuple[dict[str, Any], int | None]  # the frame's fields, the message's seq


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
        self._roles = Roles()  # co-hosts, muted members, the chat lock (``roles``)
        self._bans: dict[str, int] = {}  # user -> banned until (unix ms), from kicks
        self._reactions: deque[Reaction] = deque(maxlen=REACTIONS)
        self._cleared_upto = 0  # chat up to this seq was cleared: never delivered again

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

    def loaded(
        self,
        view: RoomView,
        history: list[dict[str, Any]],
        members: list[Member],
        roles: Roles | None = None,
        bans: dict[str, int] | None = None,
        reactions: list[Reaction] | None = None,
    ) -> None:
        """Install the snapshot, then replay what arrived while it was read (events newer
        than the snapshot win; ones it already contains change nothing)."""
        self._view = view
        self._loading = None
        self._roles = roles or Roles(chat_locked=view.chat_locked, seq=view.roles_seq)
        self._bans = dict(bans or {})
        self._reactions.extend(reactions or [])
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
        if self._cleared_upto:  # stored before a clear, published after it
            messages = [m for m in messages if m["seq"] > self._cleared_upto]
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
        elif isinstance(event, ManagedEvent):
            self.managed(event)
        elif isinstance(event, ReactionEvent):
            self.reacted(event)

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

    # -- roles, moderation, reactions (``moderation``, ``reactions``) -----------------------

    @property
    def roles(self) -> Roles:
        return self._roles

    def can_control(self, user_id: str) -> bool:
        """Whether ``user_id`` may control playback and the queue (host, co-host, or
        anyone in ``everyone`` mode), as this instance knows the room."""
        return self._view is not None and can_control(self._view, self._roles, user_id)

    def chat_refusal(self, user_id: str) -> str | None:
        """Why ``user_id`` may not chat now (muted, or the chat locked), if so."""
        return None if self._view is None else chat_refusal(self._view, self._roles, user_id)

    def banned_until(self, user_id: str, now: int) -> int | None:
        """Until when ``user_id`` may not join (unix ms), if that is later than ``now``."""
        until = self._bans.get(user_id)
        return until if until is not None and until > now else None

    def managed(self, event: ManagedEvent) -> None:
        """The moderation state and settings, if newer; a kick and a clear take effect
        (and every action is announced) whatever the order of arrival."""
        assert self._view is not None
        if event.action is not None and event.by is not None:
            self.fanout(protocol.moderated(event.action, event.user_id, event.by))
        if event.roles.seq > self._roles.seq:
            before, self._roles = self._roles, event.roles
            self._view = replace(
                self._view,
                title=event.title,
                visibility=event.visibility,
                capacity=event.capacity,
                chat_locked=event.roles.chat_locked,
                roles_seq=event.roles.seq,
            )
            if not before.same_as(event.roles) or event.action in ROLE_ACTIONS:
                self.fanout(protocol.roles(event.roles))
        if event.action == "clear" and event.upto is not None:
            self._clear(event.upto)
        if event.action == "kick" and event.user_id is not None and event.until is not None:
            self._bans[event.user_id] = max(event.until, self._bans.get(event.user_id, 0))
            seconds = max(1, (event.until - now_ms() + 999) // 1000)
            for conn in list(self._conns.get(event.user_id, ())):
                conn.close(CLOSE_FORBIDDEN, f"kicked: removed from the room; back in {seconds} s")

    def sync_bans(self, bans: dict[str, int]) -> None:
        """Bans read from the database (a resync): a kick whose event was lost still
        closes the member's sockets here."""
        for user_id, until in bans.items():
            if until > self._bans.get(user_id, 0):
                self._bans[user_id] = until
                for conn in list(self._conns.get(user_id, ())):
                    conn.close(CLOSE_FORBIDDEN, "kicked: removed from the room")

    def _clear(self, upto: int) -> None:
        self._cleared_upto = max(self._cleared_upto, upto)
        kept = [m for m in self._recent if m["seq"] > upto]
        self._recent.clear()
        self._recent.extend(kept)
        reactions = [r for r in self._reactions if r[1] is None or r[1] > upto]
        self._reactions.clear()
        self._reactions.extend(reactions)
        next_seq = self._orderer.next_seq
        if next_seq is not None and next_seq <= upto:  # nothing up to ``upto`` is awaited
            self.deliver(self._orderer.fill([], upto + 1))

    def reacted(self, event: ReactionEvent) -> None:
        if event.message_seq is not None and event.message_seq <= self._cleared_upto:
            return
        self._reactions.append((event.reaction, event.message_seq))
        self.fanout(protocol.reaction(event.reaction))

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
                "roles": self._roles.as_dict(),
                "reactions": [reaction for reaction, _ in self._reactions],
            }
        )


def _by_since(member: Member) -> tuple[int, str]:
    return member.since, member.user_id
