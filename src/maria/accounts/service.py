"""Leaving, and taking one's data along.

An account is deleted in one unit of work: its sessions are revoked (recorded where every
instance's poll reads them, and broadcast after the commit), the rooms it hosts are
deleted (their sockets close everywhere after the commit), its audit events are dropped,
and the user row goes, taking by cascade its lists and items, sessions, chat messages,
avatar, mailed secrets and queued mail. What remains is one audit event, ``deleted``, with
the id and never the email. Chat messages go with their author: a room's history keeps no
trace of someone who left (documented in docs/api.md).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from maria.audit import service as audit
from maria.audit import store as audit_store
from maria.audit.service import AuditLog
from maria.auth import store as auth_store
from maria.auth.passwords import PasswordService
from maria.auth.recovery import Recovery
from maria.auth.service import AuthService
from maria.db import Database, Work
from maria.errors import InvalidCredentials
from maria.identity import Client, Identity
from maria.lists import store as lists_store
from maria.rooms import members as room_members
from maria.rooms import reactions as room_reactions
from maria.rooms import store as rooms_store
from maria.rooms.hub import RoomHub
from maria.users.service import UsersService

EXPORT_VERSION = 1


class Accounts:
    def __init__(
        self,
        *,
        database: Database,
        users: UsersService,
        auth: AuthService,
        recovery: Recovery,
        passwords: PasswordService,
        hub: RoomHub,
        audit_log: AuditLog,
    ) -> None:
        self._database = database
        self._users = users
        self._auth = auth
        self._recovery = recovery
        self._passwords = passwords
        self._hub = hub
        self._audit = audit_log

    async def delete_own(
        self, identity: Identity, *, password: str | None, code: str | None, client: Client
    ) -> None:
        """The caller leaves, proving it with their password, or (an account without one)
        with a fresh sign-in code mailed to them."""
        user = await self._users.active(identity.user_id)
        found = await self._users.credentials(user.email)
        has_password = found is not None and bool(found.password_hash)
        if has_password:
            assert found is not None
            if password is None:
                raise InvalidCredentials("This account confirms with its password")
            ok, _ = await self._passwords.verify(found.password_hash, password)
            if not ok:
                raise InvalidCredentials("The password is wrong")
        else:
            if code is None:
                raise InvalidCredentials(
                    "This account has no password: send a sign-in code (POST /auth/email-code)"
                )
            async with self._database.work() as work:  # a wrong try is counted and kept
                matched = await self._recovery.use_code(work, user.email, code)
            if not matched:
                raise InvalidCredentials("Invalid or expired code")
        async with self._database.work() as work:
            await self.delete_in(work, user.id, actor_id=None, client=client)

    async def delete_in(
        self, work: Work, user_id: str, *, actor_id: str | None, client: Client | None
    ) -> None:
        """Delete the account in the caller's unit of work (see the module docstring)."""
        await self._auth.end_sessions(work, user_id)
        for room_id in await rooms_store.delete_hosted(work.db, user_id):
            work.after_commit("room sockets closing", partial(self._hub.deleted, room_id))
        await self._audit.forget_user(work, user_id)
        await self._users.delete(work, user_id)
        await self._audit.record(
            work, audit.DELETED, user_id=user_id, actor_id=actor_id, client=client
        )

    async def export(self, identity: Identity) -> dict[str, Any]:
        """Everything Maria holds about the caller, as one JSON-ready document."""
        user = await self._users.active(identity.user_id)
        async with self._database.autocommit() as db:
            found = await self._users.credentials(user.email)
            sessions = await auth_store.all_sessions(db, user.id)
            addresses = await auth_store.known_addresses(db, user.id)
            lists = await lists_store.export(db, user.id)
            messages = await rooms_store.messages_by(db, user.id)
            reactions = await room_reactions.by_user(db, user.id)
            rooms = await room_members.of_user(db, user.id)
            events: list[Any] = []
            cursor = None
            while True:
                page, cursor = await audit_store.page(
                    db, user_id=user.id, event=None, cursor=cursor, limit=500
                )
                events += page
                if cursor is None:
                    break
        return {
            "version": EXPORT_VERSION,
            "account": {
                "id": user.id,
                "email": user.email,
                "display_name": user.display_name,
                "avatar_url": user.avatar_url,
                "role": user.role,
                "email_verified": user.email_verified,
                "has_password": found is not None and bool(found.password_hash),
                "created_at": user.created_at.isoformat(),
            },
            "sessions": [
                {
                    "id": s.id,
                    "created_at": s.created_at.isoformat(),
                    "last_used_at": s.last_used_at.isoformat(),
                    "expires_at": s.expires_at.isoformat(),
                    "revoked_at": s.revoked_at.isoformat() if s.revoked_at else None,
                    "ip": s.ip,
                    "user_agent": s.user_agent,
                }
                for s in sessions
            ],
            "known_addresses": [
                {"address": address, "last_seen_at": seen.isoformat()}
                for address, seen in addresses
            ],
            "lists": lists,
            "messages": messages,
            "reactions": reactions,
            "rooms": rooms,
            "audit": [
                {
                    "at": e.at.isoformat(),
                    "event": e.event,
                    "actor_id": e.actor_id,
                    "ip": e.ip,
                    "user_agent": e.user_agent,
                    "detail": e.detail,
                }
                for e in events
            ],
        }
