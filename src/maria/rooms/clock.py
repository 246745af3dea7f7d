"""Each member's clock, measured by the server: round trip and offset from ``ping``/``pong``.

The server sends ``ping {t0}`` (its clock, unix ms) right after the welcome, three more
times in the first ~2 s, then every 15 s; the client answers ``pong {t0, t1}`` with ``t1``
its own clock when the ping arrived. Each answer is a sample: ``rtt = now - t0`` and
``offset = t1 - (t0 + rtt / 2)`` (the client's clock minus the server's). Of the last 8
samples the one with the lowest round trip is the estimate, as NTP and Jellyfin's SyncPlay
do: the fastest exchange is the one least skewed by a delay on one way only. The member is
told the estimate (``clock``) whenever it changes; the round trip also sets how far ahead a
start is scheduled (``gate``).
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLES = 8
FIRST_PINGS = (0.5, 1.0, 1.5)  # seconds after the welcome's ping
PING_EVERY = 15.0
OUTSTANDING = 4  # pings a pong may answer: a later one answers nothing (``BadPong``)


class BadPong(ValueError):
    """A pong whose ``t0`` is not that of one of the last pings sent on the socket."""


@dataclass(frozen=True, slots=True)
class Estimate:
    rtt: float  # ms
    offset: float  # ms, the client's clock minus the server's

    def as_dict(self) -> dict[str, float]:
        return {"rtt": self.rtt, "offset": self.offset}


class Clock:
    """One socket's pings and samples (small: there is one per idle socket)."""

    __slots__ = ("_sent", "_samples", "best", "next_ping")

    def __init__(self, next_ping: float) -> None:
        self._sent: list[int] = []
        self._samples: list[Estimate] = []
        self.best: Estimate | None = None
        self.next_ping = next_ping  # monotonic seconds: when the periodic ping is due

    def ping(self, now_ms: int) -> int:
        """Remember a ping sent now; its ``t0``."""
        self._sent.append(now_ms)
        del self._sent[:-OUTSTANDING]
        return now_ms

    def sample(self, t0: int, t1: float, now_ms: int) -> Estimate | None:
        """Take the answer to the ping ``t0``; the new estimate if it changed, else None."""
        if t0 not in self._sent:
            raise BadPong("'t0' is not the t0 of one of the last pings")
        rtt = float(max(0, now_ms - t0))
        self._samples.append(Estimate(rtt, round(t1 - (t0 + rtt / 2), 1)))
        del self._samples[:-SAMPLES]
        best = estimate(self._samples)
        if best == self.best:
            return None
        self.best = best
        return best

    @property
    def rtt(self) -> float:
        """The estimated round trip (0 before the first sample)."""
        return 0.0 if self.best is None else self.best.rtt


def estimate(samples: list[Estimate]) -> Estimate | None:
    """The sample with the lowest round trip (the newest of equals)."""
    best: Estimate | None = None
    for sample in samples:
        if best is None or sample.rtt <= best.rtt:
            best = sample
    return best
