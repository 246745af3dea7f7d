"""Deliver a room's chat in sequence order, whatever order it arrives in.

Chat numbers are assigned by the database (``rooms.message_seq``, bumped in the same
transaction as the insert), so committed numbers have no holes. Instances publish after
their commit, and two instances racing can publish ``n + 1`` before ``n`` reaches Redis.
Each instance therefore releases messages strictly in ``seq`` order: a message ahead of the
next expected number waits here; if the hole is not filled by the broker soon (its
publisher died after committing), the hub reads the missing numbers from the database and
calls ``fill``. Numbers absent even there (deleted with their author's account) are skipped.
Every member on every instance thus sees one order, the order of the history.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class Orderer(Generic[T]):
    def __init__(self) -> None:
        self.next_seq: int | None = None  # None: not started, everything waits
        self._pending: dict[int, T] = {}

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def start(self, next_seq: int) -> list[T]:
        """Begin at ``next_seq`` (the first number not in the caller's history)."""
        self.next_seq = next_seq
        for seq in [s for s in self._pending if s < next_seq]:
            del self._pending[seq]
        return self._release()

    def offer(self, seq: int, item: T) -> list[T]:
        """Take one message; return those now deliverable, in order (duplicates dropped)."""
        if self.next_seq is not None and seq < self.next_seq:
            return []
        self._pending.setdefault(seq, item)
        return self._release() if self.next_seq is not None else []

    def gap(self) -> tuple[int, int] | None:
        """``[first missing, first waiting)`` while messages wait behind a hole."""
        if self.next_seq is None or not self._pending:
            return None
        return self.next_seq, min(self._pending)

    def fill(self, found: list[tuple[int, T]], upto: int) -> list[T]:
        """Messages read from the store for a hole below ``upto``; numbers still missing are
        given up (they do not exist), so delivery moves on."""
        if self.next_seq is None:
            return []
        for seq, item in found:
            if self.next_seq <= seq < upto:
                self._pending.setdefault(seq, item)
        released = [self._pending.pop(seq) for seq in sorted(s for s in self._pending if s < upto)]
        self.next_seq = max(self.next_seq, upto)
        return released + self._release()

    def _release(self) -> list[T]:
        assert self.next_seq is not None
        out: list[T] = []
        while self._pending:
            item = self._pending.pop(self.next_seq, None)
            if item is None:
                break
            out.append(item)
            self.next_seq += 1
        return out
