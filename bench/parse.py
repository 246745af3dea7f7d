"""What parsing one room frame costs, in-process: ``maria.rooms.protocol.parse`` on the
frames of the hot path (chat, playback, ping) and on a refused one, best of 9 runs of
100,000 each. Run it on two checkouts to compare them (bench/RESULTS.md has the command).
"""

from __future__ import annotations

import json
import timeit

from maria.rooms import protocol

FRAMES = {
    "chat": {"type": "chat", "text": "Shall we start the film at nine? I'll bring popcorn."},
    "playback": {"type": "playback", "action": "seek", "position": 1234.5},
    "ping": {"type": "ping", "t0": 1733140800123.5},
    "chat, refused (spaces only)": {"type": "chat", "text": "   "},
}
NUMBER = 100_000


def cost(data: str) -> float:
    """Nanoseconds per ``parse``, the best of 9 runs."""

    def once() -> None:
        try:  # noqa: SIM105 (a context manager would be part of the time measured)
            protocol.parse(data)
        except protocol.FrameError:
            pass

    return min(timeit.repeat(once, number=NUMBER, repeat=9)) / NUMBER * 1e9


def main() -> None:
    for name, frame in FRAMES.items():
        print(f"{name:28s} {cost(json.dumps(frame)):7.0f} ns")


if __name__ == "__main__":
    main()
