"""Throttle, store and publish a room's chat, in batches.

One writer per room per instance, alive only while it has work. Messages sent while a
batch is in flight go together into the next one (group commit): a burst costs a few
counter round trips and transactions instead of one each per message, and a sender's
socket never waits for either, so its next frame is read at once. A message is published
only once it is stored: a member never sees a message the history would not have.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

from maria.backends import channels
from maria.backends.broker import Broker
from maria.backends.ratelimit import Counters
from maria.db import Database
from maria.logs import detached
from maria.metrics import CHAT_MESSAGES, refused
from maria.rooms import events, protocol, store
from maria.rooms.conn import Conn
from maria.rooms.events import ChatEvent
from maria.rooms.store import Draft

log = logging.getLogger("maria.rooms")

MAX_BATCH = 1000


class ChatWriter:
    def __init__(
        self,
        room_id: str,
        database: Database,
        broker: Broker,
        counters: Counters,
        limit: tuple[int, int],
        local: Callable[[str], None],
        done: Callable[[ChatWriter], None],
    ) -> None:
        self.room_id = room_id
        self._database = database
        self._broker = broker
        self._counters = counters
        self._limit, self._window = limit  # messages per user per window (seconds)
        self._local = local  # delivery on this instance when publishing fails
        self._done = done
        self._pending: list[tuple[Draft, Conn]] = []
        self.task: asyncio.Task[None] | None = None

    @staticmethod
    async def wait_all(writers: list[ChatWriter], seconds: float) -> None:
        """Wait (at most ``seconds``) for the writers' batches in flight."""
        tasks = [w.task for w in writers if w.task is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=seconds)

    def submit(self, draft: Draft, conn: Conn) -> None:
        self._pending.append((draft, conn))
        if self.task is None:  # it writes every member's messages: no request's task
            self.task = asyncio.create_task(self._run(), name="maria-room-chat", context=detached())

    async def _run(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                await self._write(batch)
        finally:
            self.task = None
            self._done(self)

    async def _throttle(self, batch: list[tuple[Draft, Conn]]) -> list[tuple[Draft, Conn]]:
        """The messages within their sender's limit (counted on every instance alike);
        the others are answered ``rate_limited``."""
        keys = [f"room-chat:{draft.user_id}" for draft, _ in batch]
        counts = Counter(keys)
        try:
            totals = await self._counters.add_many(counts, self._window)
        except Exception as exc:
            log.warning("chat not counted in room %s: %s", self.room_id, type(exc).__name__)
            _tell(batch, "unavailable", "The message could not be sent; try again")
            return []
        # This batch's messages of a key are the last counts[key] events of its total.
        seen: Counter[str] = Counter()
        allowed = []
        for key, (draft, conn) in zip(keys, batch, strict=True):
            total, retry = totals[key]
            seen[key] += 1
            if total - counts[key] + seen[key] <= self._limit:
                allowed.append((draft, conn))
            else:
                refused("room_chat")
                conn.push(
                    protocol.error(
                        "rate_limited",
                        f"At most {self._limit} messages per {self._window} s",
                        retry_after=retry,
                    )
                )
        return allowed

    async def _write(self, batch: list[tuple[Draft, Conn]]) -> None:
        batch = await self._throttle(batch)
        if not batch:
            return
        try:
            stored = await store.append_messages(
                self._database, self.room_id, [draft for draft, _ in batch]
            )
        except Exception as exc:
            log.warning("chat not stored in room %s: %s", self.room_id, type(exc).__name__)
            _tell(batch, "unavailable", "The message could not be stored; try again")
            return
        if stored is None:
            _tell(batch, "not_found", "The room no longer exists")
            return
        CHAT_MESSAGES.inc(len(stored))
        message = events.encode(self.room_id, ChatEvent(stored))
        try:
            await self._broker.publish(channels.ROOMS, message)
        except Exception as exc:
            # Stored, so other instances pick it up from the database at the next hole.
            log.warning("chat not published in room %s: %s", self.room_id, type(exc).__name__)
            self._local(message)


def _tell(batch: list[tuple[Draft, Conn]], code: str, text: str) -> None:
    frame = protocol.error(code, text)
    for _, conn in batch:
        conn.push(frame)
