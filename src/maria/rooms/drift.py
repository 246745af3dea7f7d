"""How far a member's player is from the room's: the server side of drift correction.

A client reports ``position {position, at}``: its player stood at ``position`` (seconds) at
server time ``at`` (unix ms, from its clock offset). The room's state says where it should
have been then; a member off by more than ``THRESHOLD`` is told how far (``drift``). The
correction is the client's, as Jellyfin's SyncPlay does it: at ``SEEK_AT`` or more it seeks
to the live position; below, it plays at rate ``1 - delta / 2`` for ``NUDGE_SECONDS`` (a
nudge nobody hears), then at 1 again.
"""

from __future__ import annotations

from dataclasses import dataclass

from maria.rooms.playback import Playback, live_position

THRESHOLD = 0.05  # seconds: closer than this is in step
SEEK_AT = 0.4  # seconds: from here on the client seeks rather than nudges
NUDGE_SECONDS = 2.0
MAX_SKEW_MS = 10_000  # a report about a moment further from now than this is ignored


@dataclass(frozen=True, slots=True)
class Drift:
    delta: float  # seconds; positive: the member is ahead
    position: float  # where the member should have been at ``at``
    at: float

    def as_dict(self) -> dict[str, float]:
        return {"delta": self.delta, "position": self.position, "at": self.at}


def drift(playback: Playback, position: float, at: float, now_ms: int) -> Drift | None:
    """The member's drift, if they are out of step; None when in step, or when the report
    says nothing about the current state (a moment too far from now, or before the state
    held: a report from before the last change)."""
    if abs(at - now_ms) > MAX_SKEW_MS or at < playback.at:
        return None
    expected = live_position(playback, int(at))
    delta = position - expected
    if abs(delta) <= THRESHOLD:
        return None
    return Drift(round(delta, 3), round(expected, 3), at)
