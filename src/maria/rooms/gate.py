"""The ready gate, as pure rules: who is ready for the current film, whether a play must
wait, and when a start is scheduled.

Members report ``ready`` or ``buffering`` for the room's current media (``media_seq``). A
play while someone present is buffering becomes ``waiting``; once nobody is buffering (or
the timeout passed, or the controller forced it), the start is scheduled ``lead`` ms ahead:
``max(2 × the highest round trip among the members, 200 ms)``, so that the one ``playback``
frame reaches everyone before its ``at`` and every player starts at that same moment (as
Jellyfin's SyncPlay schedules its unpause). A member without a state (never reported, or
gone) does not hold the room.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from maria.rooms.playback import Playback, State

ReadyState = Literal["ready", "buffering"]
MIN_LEAD_MS = 200
# A round trip counts at most this much: a member on a bad line (or one answering pings
# late on purpose) cannot hold every start back for longer than 2 × this.
MAX_RTT_MS = 2_500.0


def lead_ms(rtts: Iterable[float]) -> int:
    """How far ahead a start is scheduled: twice the highest round trip, at least 200 ms."""
    highest = min(MAX_RTT_MS, max(rtts, default=0.0))
    return max(MIN_LEAD_MS, math.ceil(2 * highest))


def started(waiting: Playback, now_ms: int, lead: int) -> Playback:
    """The waiting play, started: from where it waits, ``lead`` ms from now (``by`` stays
    who asked to play)."""
    return replace(waiting, state="playing", at=now_ms + lead, seq=waiting.seq + 1)


def due(playback: Playback, now_ms: int, timeout_ms: int) -> bool:
    """Whether a waiting play has waited out the ready timeout."""
    return playback.state == "waiting" and now_ms - playback.at >= timeout_ms


def after_media_change(playback: Playback, by: str, now_ms: int) -> Playback:
    """The playback of a new film: from the start, paused if it was paused, else waiting
    (it starts through the gate once the members have loaded it)."""
    state: State = "paused" if playback.state == "paused" else "waiting"
    return Playback(state=state, position=0.0, at=now_ms, by=by, seq=playback.seq + 1)


@dataclass(frozen=True, slots=True)
class Mark:
    state: ReadyState
    media_seq: int  # the media it was reported (or reset) for


class ReadyBoard:
    """The members' ready states and round trips in one room, as one instance knows them
    (every instance applies the same events)."""

    def __init__(self) -> None:
        self._marks: dict[str, Mark] = {}
        self._rtts: dict[str, float] = {}
        self.asked = False  # whether this instance asked the others for their states

    def report(self, user_id: str, state: ReadyState, media_seq: int, rtt: float) -> bool:
        """A member's report for media ``media_seq``; whether their state changed. A report
        for an older film than the one the board knows is ignored (it arrived late)."""
        if rtt > 0:
            self._rtts[user_id] = rtt
        held = self._marks.get(user_id)
        if held is not None and media_seq < held.media_seq:
            return False
        self._marks[user_id] = Mark(state, media_seq)
        return held is None or held.state != state

    def fill(self, user_id: str, state: ReadyState, media_seq: int, rtt: float) -> bool:
        """Another instance's word for a member this board knows nothing of (it started
        serving the room lately); whether it was taken."""
        if user_id in self._marks:
            return False
        return self.report(user_id, state, media_seq, rtt)

    def mark(self, user_id: str) -> Mark | None:
        return self._marks.get(user_id)

    def drop(self, user_id: str) -> bool:
        """The member has no state any more (gone); whether they had one."""
        self._rtts.pop(user_id, None)
        return self._marks.pop(user_id, None) is not None

    def media_changed(self, media_seq: int, present: Iterable[str]) -> None:
        """A new film: everyone present is buffering it (a report that came for it already,
        ahead of the change, stands); states of anyone else are gone."""
        marks: dict[str, Mark] = {}
        for user_id in present:
            held = self._marks.get(user_id)
            keep = held is not None and held.media_seq >= media_seq
            marks[user_id] = held if keep and held is not None else Mark("buffering", media_seq)
        self._marks = marks

    def state(self, user_id: str) -> ReadyState | None:
        mark = self._marks.get(user_id)
        return None if mark is None else mark.state

    def states(self) -> dict[str, ReadyState]:
        """``{user id: state}`` of the members who have one (the welcome's ``ready``)."""
        return {user_id: mark.state for user_id, mark in self._marks.items()}

    def blocking(self) -> bool:
        """Whether a play must wait: someone is buffering."""
        return any(mark.state == "buffering" for mark in self._marks.values())

    def lead_ms(self, local: Mapping[str, float] | None = None) -> int:
        """The lead for a start now, from the round trips reported with ready states and
        ``local`` ones (members on this instance, measured here)."""
        rtts = dict(self._rtts)
        for user_id, rtt in (local or {}).items():
            rtts[user_id] = max(rtt, rtts.get(user_id, 0.0))
        return lead_ms(rtts.values())
