"""The playback state machine: pure arithmetic, shared by the server and its tests.

The server stores one state ``{state, position, at, by, seq}``: ``position`` (seconds) holds
at server time ``at`` (unix ms). While playing, the live position is
``position + max(0, now - at) / 1000``, so a late joiner needs no history, only this state
and an estimate of the server clock (``ping``/``pong``). A start is scheduled: ``at`` may lie
a little in the future, and until then the film stands at ``position`` (``gate``). While
``waiting`` (a play held by the ready gate) it stands still too. Every change bumps ``seq``
by one, so a client that receives states out of order keeps the newest.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

State = Literal["playing", "paused", "waiting"]
Action = Literal["play", "pause", "seek"]
# No film runs a week: a position past that is a client's bug (or ``1e308``), not a film.
MAX_POSITION = 7 * 24 * 3600.0


class BadPosition(ValueError):
    """A position that is not a number of seconds in 0 … ``MAX_POSITION``."""


@dataclass(frozen=True, slots=True)
class Playback:
    state: State = "paused"
    position: float = 0.0
    at: int = 0
    by: str | None = None
    seq: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def state_of(stored: str) -> State:
    """A stored state as the type says it is (anything unknown reads as paused)."""
    if stored == "playing":
        return "playing"
    return "waiting" if stored == "waiting" else "paused"


def valid_position(value: object) -> float:
    """The position as a float; booleans, NaN, infinities, negatives and anything past
    ``MAX_POSITION`` (7 days) are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadPosition("position must be a number of seconds")
    try:
        position = float(value)
    except OverflowError:  # an integer too large for a float
        raise BadPosition("position must be a finite number") from None
    if not math.isfinite(position) or not 0 <= position <= MAX_POSITION:
        raise BadPosition(f"position must be a number of seconds from 0 to {MAX_POSITION:.0f}")
    return position


def live_position(playback: Playback, now_ms: int) -> float:
    """Where the film is at ``now_ms``: it advances only while playing (never backwards),
    and never past ``MAX_POSITION``."""
    if playback.state != "playing":
        return playback.position
    return min(MAX_POSITION, playback.position + max(0, now_ms - playback.at) / 1000.0)


def apply(
    playback: Playback,
    action: Action,
    position: float | None,
    by: str,
    now_ms: int,
    *,
    wait: bool = False,
    lead_ms: int = 0,
) -> Playback:
    """The state after ``action`` at ``now_ms``.

    ``seek`` needs a position and keeps playing/paused/waiting as it was; ``play`` and
    ``pause`` take an optional one (default: where the film is now), so a pause freezes the
    live position rather than jumping back to the last change. ``play`` waits (``wait``: a
    member is buffering) or starts ``lead_ms`` from now, so that every member starts at
    the same moment (``gate``).
    """
    if position is None:
        if action == "seek":
            raise BadPosition("seek needs a position")
        position = live_position(playback, now_ms)
    else:
        position = valid_position(position)
    state: State
    at = now_ms
    if action == "play":
        state = "waiting" if wait else "playing"
        at += 0 if wait else lead_ms
    elif action == "pause":
        state = "paused"
    else:
        state = playback.state
    return replace(playback, state=state, position=position, at=at, by=by, seq=playback.seq + 1)


def newer(candidate: Playback, current: Playback) -> bool:
    """Whether a received state replaces the one held (stale ones are dropped)."""
    return candidate.seq > current.seq


def now_ms() -> int:
    """Server time in unix milliseconds: the unit of ``at``, ``timestamp`` and pongs."""
    return time.time_ns() // 1_000_000
