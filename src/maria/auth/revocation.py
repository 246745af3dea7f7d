"""The in-memory view of revoked sessions that lets every request skip the database.

A revoked session's access tokens stay in this map until they would have expired anyway.
Revocations arrive three ways: this instance revoking (at once), the broker (Redis pub/sub:
milliseconds across instances) and a poll of the ``revoked_sessions`` table, written in the
revoking transaction (at most ``poll_interval`` seconds; it also fills the map at start-up
and covers instances without Redis or a pub/sub message lost in a reconnect). The table
outlives the session rows, so a deleted account's tokens are refused everywhere too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from maria.auth import store
from maria.backends import channels
from maria.backends.broker import Broker
from maria.db import Database, utcnow
from maria.metrics import REVOCATION_LAG, REVOCATIONS

log = logging.getLogger("maria.auth.revocation")

FORGET_EVERY = 300.0  # seconds between deletions of revocations no token can need any more
FORGET_MARGIN = 60.0


class RevokedSessions:
    def __init__(
        self,
        database: Database,
        broker: Broker,
        *,
        token_lifetime: float,
        poll_interval: float = 1.0,
    ) -> None:
        self._database = database
        self._broker = broker
        self._lifetime = token_lifetime
        self._poll_interval = poll_interval
        self._until: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self.loaded = False
        broker.subscribe(channels.REVOKED, self._on_message)

    def is_revoked(self, sid: str) -> bool:
        until = self._until.get(sid)
        return until is not None and until > time.time()

    def _add(self, sid: str, revoked_at: float, source: str | None = None) -> None:
        """Refuse ``sid``'s tokens; a revocation this instance did not know yet is counted
        under ``source`` (none: the load at start), with the time since its commit."""
        until = revoked_at + self._lifetime
        known = self._until.get(sid)
        if known is None or until > known:
            self._until[sid] = until
            if known is None and source is not None:
                REVOCATIONS.labels(source).inc()
                REVOCATION_LAG.labels(source).observe(max(0.0, time.time() - revoked_at))

    def _on_message(self, message: str) -> None:
        sid, _, at = message.partition(" ")
        try:
            self._add(sid, float(at), "pubsub")
        except ValueError:
            log.warning("ignored a malformed revocation message")

    async def revoke(self, sids: Iterable[str], revoked_at: datetime) -> None:
        """After the revocation is committed: this instance refuses the tokens at once, the
        others when the broker tells them (or their poll does)."""
        at = revoked_at.timestamp()
        sids = list(sids)
        for sid in sids:
            self._add(sid, at, "local")
        for sid in sids:
            await self._broker.publish(channels.REVOKED, f"{sid} {at}")

    async def _load_since(self, since: datetime, source: str | None = "poll") -> None:
        async with self._database.connect() as conn:
            rows = await store.revoked_since(conn, since)
        for sid, revoked_at in rows:
            self._add(sid, revoked_at.timestamp(), source)

    async def _forget_old(self) -> None:
        async with self._database.connect() as conn:
            await store.forget_revocations(
                conn, utcnow() - timedelta(seconds=self._lifetime + FORGET_MARGIN)
            )

    def _prune(self) -> None:
        now = time.time()
        for sid in [s for s, until in self._until.items() if until <= now]:
            del self._until[sid]

    async def start(self) -> None:
        """Load recent revocations; if the database is away, serve anyway and keep trying
        (``loaded`` stays False, so /readyz answers 503 until the first load succeeds)."""
        started = utcnow()
        since = started - timedelta(seconds=self._lifetime)
        try:
            await self._load_since(since, None)
            self.loaded, since = True, started
        except Exception as exc:
            log.warning("revocations not loaded at start (%s); retrying", type(exc).__name__)
        self._task = asyncio.create_task(self._poll(since), name="maria-revocations")

    async def _poll(self, since: datetime) -> None:
        forgot = time.monotonic()
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                started = utcnow()
                # Overlap the windows so a commit racing the previous poll is not missed.
                await self._load_since(
                    since - timedelta(seconds=2), "poll" if self.loaded else None
                )
                self.loaded, since = True, started
                self._prune()
                if time.monotonic() - forgot >= FORGET_EVERY:
                    forgot = time.monotonic()
                    await self._forget_old()
            except Exception as exc:
                log.warning("revocation poll failed: %s", type(exc).__name__)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
