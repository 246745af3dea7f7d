"""Whether this instance can serve (what ``/readyz`` tells load balancers), and what
``/metrics`` samples when it is scraped."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os

from sqlalchemy import text

from maria import metrics
from maria.auth.revocation import RevokedSessions
from maria.backends.health import RedisHealth
from maria.db import Database
from maria.errors import Unavailable
from maria.keys.service import KeyRing
from maria.mail.service import Mailer

log = logging.getLogger("maria.ops")

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


class Telemetry:
    """What ``/metrics`` reads when scraped (the gauges nothing updates as it happens), and
    who may scrape it.

    With several workers each worker's gauges live in its own file, and any worker may
    answer a scrape: every worker then refreshes its own every ``LOCAL_EVERY`` seconds,
    and marks its files dead when it stops.
    """

    LOCAL_EVERY = 5.0
    MAIL_TIMEOUT = 1.0

    def __init__(
        self,
        database: Database,
        mailer: Mailer,
        redis: RedisHealth | None,
        *,
        token: str | None,
        multiprocess: bool,
    ) -> None:
        self._database = database
        self._mailer = mailer
        self._redis = redis
        self._token = token.encode() if token else None
        self._multiprocess = multiprocess
        self._task: asyncio.Task[None] | None = None

    def allows(self, authorization: str | None) -> bool:
        """Anyone without ``MARIA_METRICS_TOKEN``; else only ``Bearer <that token>``."""
        if self._token is None:
            return True
        scheme, _, presented = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), self._token
        )

    def sample_local(self) -> None:
        in_use = 0
        for engine in self._database.engines:
            checkedout = getattr(engine.pool, "checkedout", None)
            if checkedout is not None:
                in_use += checkedout()
        metrics.DB_POOL_IN_USE.set(in_use)
        metrics.REDIS_UP.set(1 if self._redis is not None and self._redis.available else 0)

    async def sample(self) -> None:
        """Right before a scrape is answered."""
        self.sample_local()
        try:
            async with asyncio.timeout(self.MAIL_TIMEOUT):
                metrics.MAIL_QUEUE.set(await self._mailer.queued())
        except Exception:  # the database away: the gauge keeps its last value
            log.debug("mail queue not read for /metrics")

    async def start(self) -> None:
        self.sample_local()
        if self._multiprocess:
            self._task = asyncio.create_task(self._refresh(), name="maria-telemetry")

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self.LOCAL_EVERY)
            self.sample_local()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._multiprocess:
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
