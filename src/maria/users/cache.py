"""A per-instance read-through cache of users: ``GET /users/me`` without the database.

Every write to a user drops the entry here at once and announces it on the broker
(``changed``, registered by the service as an after-commit effect); ``_poll`` also reads the
ids whose ``updated_at`` moved, so instances without Redis, or that missed a message,
converge within ``poll_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from datetime import timedelta

from maria.backends import channels
from maria.backends.broker import Broker
from maria.db import Database, utcnow
from maria.users import store
from maria.users.views import UserView

log = logging.getLogger("maria.users")


class UserCache:
    """LRU of ``UserView`` by id, invalidated by the broker and by polling ``updated_at``."""

    def __init__(
        self,
        database: Database,
        broker: Broker,
        *,
        size: int = 50_000,
        poll_interval: float = 1.0,
    ) -> None:
        self._database = database
        self._broker = broker
        self._size = size
        self._poll_interval = poll_interval
        self._entries: OrderedDict[str, UserView] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        broker.subscribe(channels.USERS, self.forget)

    def forget(self, user_id: str) -> None:
        self._entries.pop(user_id, None)

    def cached(self, user_id: str) -> UserView | None:
        """The view if this instance holds it (no database read)."""
        return self._entries.get(user_id)

    async def get(self, user_id: str) -> UserView | None:
        view = self._entries.get(user_id)
        if view is not None:
            return view
        async with self._database.connect() as conn:
            view = await store.find(conn, user_id)
        if view is None:
            return None
        self._entries[user_id] = view
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return view

    def known_active(self, user_id: str) -> bool | None:
        """Whether the account exists and is not disabled, if this instance holds it."""
        view = self._entries.get(user_id)
        return None if view is None else not view.disabled

    async def is_active(self, user_id: str) -> bool:
        view = await self.get(user_id)
        return view is not None and not view.disabled

    async def changed(self, user_id: str) -> None:
        """After a committed write to a user: this instance forgets it now, the others when
        the broker tells them (a failure to tell is the caller's to log)."""
        self.forget(user_id)
        await self._broker.publish(channels.USERS, user_id)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name="maria-user-cache")

    async def _poll(self) -> None:
        since = utcnow()
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                started = utcnow()
                async with self._database.autocommit() as db:
                    changed = await store.changed_since(db, since - timedelta(seconds=2))
                for user_id in changed:
                    self.forget(user_id)
                since = started
            except Exception as exc:  # the database may be briefly away; keep polling
                log.warning("user cache poll failed: %s", type(exc).__name__)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
