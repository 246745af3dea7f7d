"""Store a room's chat in batches, then publish it.

One writer per room per instance, alive only while it has work. Messages sent while a
transaction is in flight are stored together by the next one (group commit), so a burst
costs a few transactions instead of one per message, and a message is published only once
it is stored: a member never sees a message the history would not have.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from maria.backends.broker import Broker
from maria.rooms import events, protocol, service
from maria.rooms.conn import Conn
from maria.rooms.service import Draft, Sessions

log = logging.getLogger("maria.rooms")

MAX_BATCH = 200


class ChatWriter:
    def __init__(
        self,
        room_id: str,
        sessions: Sessions,
        broker: Broker,
        local: Callable[[str], None],
        done: Callable[[ChatWriter], None],
    ) -> None:
        self.room_id = room_id
        self._sessions = sessions
        self._broker = broker
        self._local = local  # delivery on this instance when publishing fails
        self._done = done
        self._pending: list[tuple[Draft, Conn]] = []
        self.task: asyncio.Task[None] | None = None

    def submit(self, draft: Draft, conn: Conn) -> None:
        self._pending.append((draft, conn))
        if self.task is None:
            self.task = asyncio.create_task(self._run(), name="maria-room-chat")

    async def _run(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                await self._write(batch)
        finally:
            self.task = None
            self._done(self)

    async def _write(self, batch: list[tuple[Draft, Conn]]) -> None:
        try:
            stored = await service.append_messages(
                self._sessions, self.room_id, [draft for draft, _ in batch]
            )
        except Exception as exc:
            log.warning("chat not stored in room %s: %s", self.room_id, type(exc).__name__)
            _tell(batch, "unavailable", "The message could not be stored; try again")
            return
        if stored is None:
            _tell(batch, "not_found", "The room no longer exists")
            return
        message = events.pack(self.room_id, {"k": "chat", "m": stored})
        try:
            await self._broker.publish(events.CHANNEL, message)
        except Exception as exc:
            # Stored, so other instances pick it up from the database at the next hole.
            log.warning("chat not published in room %s: %s", self.room_id, type(exc).__name__)
            self._local(message)


def _tell(batch: list[tuple[Draft, Conn]], code: str, text: str) -> None:
    frame = protocol.error(code, text)
    for _, conn in batch:
        conn.push(frame)
