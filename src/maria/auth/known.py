"""Where each account signed in from lately (``known_addresses``): a client there is known to
the account for the login limits, so a bearer client that keeps no device token is not
locked out at home.

Remembered in the sign-in's own unit of work (one statement, which rewrites a row at most
hourly, and which an instance skips for an address it remembered itself within the hour);
read only when the limits need it (the account is locked, or an attempt failed). Rows past
the window are pruned in the background.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from datetime import timedelta

from maria.auth import store
from maria.auth.devices import address_key
from maria.db import AnyWork, Database, Pruner, utcnow

log = logging.getLogger("maria.auth")

PRUNE_EVERY = 3600.0
PRUNED = "known addresses"
REFRESH_AFTER = timedelta(hours=1)
RECENT_MAX = 10_000  # (account, address) pairs this instance remembered lately


class KnownAddresses:
    def __init__(self, database: Database, *, days: int) -> None:
        self._database = database
        self.window = timedelta(days=days)
        self._remember = store.remember_address_statement(database.engine.dialect.name)
        self._pruner = Pruner(PRUNED, self.prune, PRUNE_EVERY, log)
        self._recent: OrderedDict[tuple[str, str], float] = OrderedDict()

    async def remember(self, work: AnyWork, user_id: str, ip: str) -> None:
        """In the sign-in's unit of work: ``ip`` signed in to ``user_id`` now."""
        key = (user_id, address_key(ip))
        seen = self._recent.get(key)
        if seen is not None and time.monotonic() - seen < REFRESH_AFTER.total_seconds():
            return  # the row is fresh: this instance wrote it within the hour
        now = utcnow()
        params = {"user_id": user_id, "address": key[1], "now": now}
        await work.db.execute(self._remember, {**params, "stale": now - REFRESH_AFTER})

        async def written() -> None:
            self._recent[key] = time.monotonic()
            self._recent.move_to_end(key)
            while len(self._recent) > RECENT_MAX:
                self._recent.popitem(last=False)

        work.after_commit("known address", written)

    async def is_known(self, user_id: str, ip: str) -> bool:
        """Whether ``ip`` signed in to ``user_id`` within the window."""
        async with self._database.connect() as conn:
            return await store.address_seen_since(
                conn, user_id, address_key(ip), utcnow() - self.window
            )

    async def prune(self) -> int:
        async with self._database.connect() as conn:
            return await store.forget_addresses(conn, utcnow() - self.window)

    async def start(self) -> None:
        await self._pruner.start()

    async def close(self) -> None:
        await self._pruner.close()
