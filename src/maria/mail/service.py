"""Enqueueing mail in a unit of work, and the sender that drains the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from maria import metrics
from maria.db import Database, Work, utcnow
from maria.mail import store
from maria.mail.transports import Message, Transport

log = logging.getLogger("maria.mail")

LEASE = 60.0  # seconds a claimed message is this sender's (longer than one SMTP exchange)
BATCH = 20
POLL = 2.0  # seconds between looks for mail another instance queued, or retries now due
CLOSE_WAIT = 5.0  # seconds a closing sender may finish its batch
MAX_ATTEMPTS = 12  # about a day of retries (backoff doubles, at most an hour)


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure: 5 s, 10 s, 20 s ... an hour."""
    return float(min(3600, 5 * 2 ** (attempts - 1)))


class Mailer:
    def __init__(self, database: Database, transport: Transport) -> None:
        self._database = database
        self._transport = transport
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._skip_locked = database.engine.dialect.name == "postgresql"

    async def enqueue(self, work: Work, message: Message, *, user_id: str | None) -> None:
        """Queue ``message`` in the caller's unit of work; the sender is woken once it has
        committed (a message of a change that rolls back is never sent)."""
        await store.enqueue(work.db, message, user_id=user_id)
        work.after_commit("mail wake-up", self._woken)

    async def queued(self) -> int:
        """Mails in the outbox, due or not (every instance's: they share it)."""
        async with self._database.connect() as conn:
            return await store.pending(conn)

    async def _woken(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="maria-mail")

    async def close(self) -> None:
        """Stop after the batch under way (at most ``CLOSE_WAIT`` seconds); a batch cut
        short gives its claims back, so another instance or the next start sends it."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._task), CLOSE_WAIT)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                while await self.send_due():
                    pass
            except Exception as exc:  # the database may be away: try again later
                log.warning("mail sender: %s", type(exc).__name__)
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that arrives as the event is set (then close() would wait for ever).
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL):
                    await self._wake.wait()
            self._wake.clear()

    async def send_due(self) -> int:
        """Claim and send one batch of due messages; how many were claimed."""
        async with self._database.connect() as conn:
            claimed = await store.claim(
                conn, now=utcnow(), lease=LEASE, limit=BATCH, skip_locked=self._skip_locked
            )
        if not claimed:
            return 0
        messages = [
            Message(
                to=row["to_address"],
                subject=row["subject"],
                text=row["text_body"],
                html=row["html_body"],
            )
            for row in claimed
        ]
        try:
            outcomes = await self._transport.send_many(messages)
        except asyncio.CancelledError:
            await asyncio.shield(self._release([row["id"] for row in claimed]))
            raise
        async with self._database.connect() as conn:
            for row, error in zip(claimed, outcomes, strict=True):
                await self._settle(conn, row["id"], row["attempts"], error)
        return len(claimed)

    async def _release(self, mail_ids: list[str]) -> None:
        with contextlib.suppress(Exception):
            async with self._database.connect() as conn:
                await store.release(conn, mail_ids)

    async def _settle(
        self, conn: AsyncConnection, mail_id: str, attempts: int, error: Exception | None
    ) -> None:
        if error is None:
            await store.sent(conn, mail_id)
            return
        reason = f"{type(error).__name__}: {error}"
        metrics.MAIL_FAILURES.labels("true" if attempts >= MAX_ATTEMPTS else "false").inc()
        if attempts >= MAX_ATTEMPTS:
            log.error("mail %s given up after %d attempts: %s", mail_id, attempts, reason)
            await store.sent(conn, mail_id)
            return
        retry = utcnow() + timedelta(seconds=backoff(attempts))
        await store.failed(conn, mail_id, retry_at=retry, error=reason)
        log.warning("mail %s not sent (attempt %d: %s); retrying", mail_id, attempts, reason)
