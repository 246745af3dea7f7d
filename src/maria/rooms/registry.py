"""The rooms one instance serves, and the background tasks working on them: the state the
hub's parts (membership, commands, dispatch, maintenance) share."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Coroutine
from typing import Any

from maria.db import OutageLog
from maria.logs import detached
from maria.metrics import ROOMS
from maria.rooms.room import LocalRoom

log = logging.getLogger("maria.rooms")
outages = OutageLog(log)


class Registry:
    def __init__(self) -> None:
        self._rooms: dict[str, LocalRoom] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        # Names this instance in the events it publishes, so that it knows its own when
        # they come back (the ready gate's checks: ``sync``).
        self.instance = secrets.token_hex(8)

    def get(self, room_id: str) -> LocalRoom | None:
        return self._rooms.get(room_id)

    def open(self, room_id: str) -> tuple[LocalRoom, bool]:
        """The room, served from now on if it was not; whether it is new here."""
        room = self._rooms.get(room_id)
        if room is not None:
            return room, False
        room = self._rooms[room_id] = LocalRoom(room_id)
        ROOMS.inc()
        return room, True

    def serves(self, room: LocalRoom) -> bool:
        return self._rooms.get(room.id) is room

    def drop(self, room: LocalRoom) -> None:
        if self._rooms.get(room.id) is room:
            del self._rooms[room.id]
            ROOMS.dec()

    def all(self) -> list[LocalRoom]:
        return list(self._rooms.values())

    def clear(self) -> None:
        ROOMS.dec(len(self._rooms))
        self._rooms.clear()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background (no request's: its log lines carry no request
        id); its failure is logged, never lost."""
        task = asyncio.create_task(coro, context=detached())
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            exc = task.exception()
            if exc is not None:  # an outage: a warning now and then; else a bug's traceback
                outages.failed("a room task", exc)

    def cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
