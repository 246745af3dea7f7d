"""Recording what happens to accounts, in the same transaction as the change, and reading
it back (admins: everything; users: their own). Old events are pruned in the background
after ``MARIA_AUDIT_RETENTION_DAYS``."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from maria.audit import store
from maria.audit.store import EventView
from maria.db import AnyWork, Database, Pruner, utcnow
from maria.identity import Client

log = logging.getLogger("maria.audit")

PRUNE_EVERY = 3600.0
PRUNED = "audit events"

# What is recorded (the ``event`` column).
REGISTERED = "registered"
SIGNED_IN = "signed_in"
SIGN_IN_FAILED = "sign_in_failed"
CODE_SIGNED_IN = "code_signed_in"
SIGNED_OUT = "signed_out"
REFRESH_REUSED = "refresh_reused"
PASSWORD_CHANGED = "password_changed"
PASSWORD_RESET = "password_reset"
EMAIL_VERIFIED = "email_verified"
ROLE_CHANGED = "role_changed"
DISABLED = "disabled"
ENABLED = "enabled"
SESSIONS_REVOKED = "sessions_revoked"
DELETED = "deleted"
# Room moderation (``maria.rooms.moderation``): ``user_id`` is the member acted on (the
# actor for a lock or a clear), ``actor_id`` the host or co-host, ``detail`` the room.
ROOM_MEMBER_KICKED = "room_member_kicked"
ROOM_MEMBER_MUTED = "room_member_muted"
ROOM_MEMBER_UNMUTED = "room_member_unmuted"
ROOM_CHAT_LOCKED = "room_chat_locked"
ROOM_CHAT_UNLOCKED = "room_chat_unlocked"
ROOM_CHAT_CLEARED = "room_chat_cleared"
ROOM_ROLE_CHANGED = "room_role_changed"
EVENTS = frozenset(
    {
        REGISTERED,
        SIGNED_IN,
        SIGN_IN_FAILED,
        CODE_SIGNED_IN,
        SIGNED_OUT,
        REFRESH_REUSED,
        PASSWORD_CHANGED,
        PASSWORD_RESET,
        EMAIL_VERIFIED,
        ROLE_CHANGED,
        DISABLED,
        ENABLED,
        SESSIONS_REVOKED,
        DELETED,
        ROOM_MEMBER_KICKED,
        ROOM_MEMBER_MUTED,
        ROOM_MEMBER_UNMUTED,
        ROOM_CHAT_LOCKED,
        ROOM_CHAT_UNLOCKED,
        ROOM_CHAT_CLEARED,
        ROOM_ROLE_CHANGED,
    }
)


class AuditLog:
    def __init__(self, database: Database, *, retention_days: int) -> None:
        self._database = database
        self._retention = timedelta(days=retention_days)
        self._pruner = Pruner(PRUNED, self.prune, PRUNE_EVERY, log)

    async def record(
        self,
        work: AnyWork,
        event: str,
        *,
        user_id: str | None,
        client: Client | None = None,
        actor_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append an event in the caller's unit of work: it exists exactly if the change
        committed. ``detail`` is never a secret or an email."""
        assert event in EVENTS, event
        await store.append(
            work.db,
            event,
            user_id=user_id,
            actor_id=actor_id,
            ip=client.ip if client else None,
            user_agent=client.user_agent if client else None,
            detail=detail,
        )

    async def record_now(self, event: str, **fields: Any) -> None:
        """An event that goes with no change (a failed sign-in): its own statement."""
        async with self._database.core_work() as work:
            await self.record(work, event, **fields)

    async def page(
        self, *, user_id: str | None, event: str | None, cursor: str | None, limit: int
    ) -> tuple[list[EventView], str | None]:
        async with self._database.connect() as conn:
            return await store.page(conn, user_id=user_id, event=event, cursor=cursor, limit=limit)

    async def forget_user(self, work: AnyWork, user_id: str) -> None:
        await store.forget_user(work.db, user_id)

    async def prune(self) -> int:
        async with self._database.connect() as conn:
            return await store.prune(conn, utcnow() - self._retention)

    async def start(self) -> None:
        await self._pruner.start()

    async def close(self) -> None:
        await self._pruner.close()
