"""Whether this instance can serve: what ``/readyz`` tells load balancers."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from maria.auth.revocation import RevokedSessions
from maria.backends.health import RedisHealth
from maria.db import Database
from maria.errors import Unavailable
from maria.keys.service import KeyRing

READY_TIMEOUT = 2.0


class Readiness:
    def __init__(
        self,
        database: Database,
        revoked: RevokedSessions,
        keys: KeyRing,
        redis: RedisHealth | None = None,
    ) -> None:
        self._database = database
        self._revoked = revoked
        self._keys = keys
        self._redis = redis

    def report(self) -> dict[str, str]:
        """What a ready instance says about itself: ``redis`` is ``degraded`` while it runs
        on its fallbacks (still ready: it serves), absent without Redis."""
        body = {"status": "ready"}
        if self._redis is not None:
            body["redis"] = self._redis.status
        return body

    async def check(self) -> None:
        """Ready: the database answers within two seconds, and the revoked-session list and
        the signing keys have been loaded from it (before that, a logged-out token might
        pass, and a token of a rotated key would be unknown)."""
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                async with self._database.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception:
            raise Unavailable("The database is not reachable") from None
        if not self._revoked.loaded:
            raise Unavailable("Revoked sessions not loaded yet")
        if not self._keys.current.loaded:  # a token of a rotated key would be unknown here
            raise Unavailable("Signing keys not loaded yet")
