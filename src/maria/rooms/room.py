"""A room as one instance serves it: local sockets, a replica of who is online anywhere,
the room's state, the last messages, and the chat orderer.

All methods are synchronous: an event applied here is applied, and fanned out to every
local socket, before anything else runs on the loop. That is what keeps a welcome (a
snapshot) and the frames queued after it consistent.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import replace
from typing import Any

from maria.rooms import protocol
from maria.rooms.conn import Conn
from maria.rooms.ordering import Orderer
from maria.rooms.playback import Playback, newer, now_ms
from maria.rooms.presence import Member
from maria.rooms.service import HISTORY
from maria.rooms.views import RoomView


class LocalRoom:
    def __init__(self, room_id: str) -> None:
        self.id = room_id
        self.view: RoomView | None = None  # None while loading
        self.loading: asyncio.Task[bool] | None = None
        self.backlog: list[dict[str, Any]] = []  # non-chat events that arrived while loading
        self.conns: dict[str, set[Conn]] = {}
        self.holds: dict[str, int] = {}  # local sockets per user, joining ones included
        self.leaving: dict[str, asyncio.TimerHandle] = {}  # reconnect grace timers
        self.members: dict[str, Member] = {}  # everyone online, on any instance
        self.presence_epoch = 0  # bumped by every join/leave applied
        self.recent: deque[dict[str, Any]] = deque(maxlen=HISTORY)
        self.orderer: Orderer[dict[str, Any]] = Orderer()
        self.filling = False
        self.host_missing_since: float | None = None
        self.replacing = False

    @property
    def idle(self) -> bool:
        return not self.holds and not self.leaving

    def all_conns(self) -> list[Conn]:
        return [conn for conns in self.conns.values() for conn in conns]

    # -- loading ----------------------------------------------------------------------

    def loaded(self, view: RoomView, history: list[dict[str, Any]], members: list[Member]) -> None:
        """Install the snapshot, then replay what arrived while it was read (events newer
        than the snapshot win; ones it already contains change nothing)."""
        self.view = view
        self.recent.extend(history)
        self.members = {m.user_id: m for m in members}
        last = max([view.message_seq, *(m["seq"] for m in history)])
        self.deliver(self.orderer.start(last + 1))
        backlog, self.backlog = self.backlog, []
        for event in backlog:
            self.apply(event)

    # -- events -----------------------------------------------------------------------

    def fanout(self, frame: str, skip_user: str | None = None) -> None:
        for user_id, conns in self.conns.items():
            if user_id != skip_user:
                for conn in conns:
                    conn.push(frame)

    def deliver(self, messages: list[dict[str, Any]]) -> None:
        """Chat in order: each frame encoded once, a batch queued to each socket at once."""
        if not messages:
            return
        self.recent.extend(messages)
        frames = [protocol.chat(message) for message in messages]
        for conns in self.conns.values():
            for conn in conns:
                conn.push_all(frames)

    def apply(self, event: dict[str, Any]) -> None:
        """A non-chat event from the broker (or the backlog)."""
        if self.view is None:
            self.backlog.append(event)
            return
        kind = event.get("k")
        if kind == "join":
            m = event["m"]
            self.joined(Member(str(m["user_id"]), str(m["name"]), int(m["since"])))
        elif kind == "leave":
            self.left(str(event["u"]), str(event.get("n", "")))
        elif kind == "playback":
            state = Playback(**event["p"])
            if newer(state, self.view.playback):
                self.view = replace(self.view, playback=state)
                self.fanout(protocol.playback(state))
        elif kind == "control":
            self.controlled(str(event["mode"]), event.get("host_id"), int(event["seq"]))

    def joined(self, member: Member) -> None:
        held = self.members.get(member.user_id)
        if held is not None:
            if member.since < held.since:
                self.members[member.user_id] = member
            return
        self.members[member.user_id] = member
        self.presence_epoch += 1
        if self.view is not None and member.user_id == self.view.host_id:
            self.host_missing_since = None
        self.fanout(protocol.presence("join", member.user_id, member.name), member.user_id)

    def left(self, user_id: str, name: str) -> None:
        member = self.members.pop(user_id, None)
        if member is None:
            return
        self.presence_epoch += 1
        if self.view is not None and user_id == self.view.host_id:
            self.host_missing_since = time.monotonic()
        self.fanout(protocol.presence("leave", user_id, name or member.name), user_id)

    def controlled(self, mode: str, host_id: str | None, seq: int) -> None:
        if self.view is None or seq <= self.view.control_seq:
            return
        if host_id != self.view.host_id:
            self.host_missing_since = None if host_id in self.members else time.monotonic()
        self.view = replace(self.view, control=mode, host_id=host_id, control_seq=seq)
        self.fanout(protocol.control(mode, host_id))

    def sync_members(self, members: list[Member]) -> None:
        """Reconcile the replica with a fresh read of the presence store."""
        current = {m.user_id: m for m in members}
        for user_id in [u for u in self.members if u not in current]:
            self.left(user_id, "")
        for member in current.values():
            self.joined(member)

    # -- joining ----------------------------------------------------------------------

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
                "history": list(self.recent),
                "host_id": self.view.host_id,
                "control": self.view.control,
                "user_id": conn.user_id,
                "server_time": now_ms(),
            }
        )

    def successor(self) -> Member | None:
        """The longest-present member other than the host."""
        host = self.view.host_id if self.view is not None else None
        candidates = [m for m in self.members.values() if m.user_id != host]
        return min(candidates, key=_by_since, default=None)


def _by_since(member: Member) -> tuple[int, str]:
    return member.since, member.user_id
