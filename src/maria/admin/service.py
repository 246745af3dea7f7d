"""Admin operations on accounts, through the users, auth, audit and accounts services.

A change of role or a disable ends the user's sessions in the same unit of work, so no
access token keeps a role or a right the user no longer has. The last active admin can be
neither demoted, disabled nor deleted (409): the check holds the admins' rows until the
commit, so two admins acting on each other at once cannot both pass it.
"""

from __future__ import annotations

from maria.accounts.service import Accounts
from maria.audit import service as audit
from maria.audit.service import AuditLog
from maria.audit.store import EventView
from maria.auth.service import AuthService
from maria.auth.views import SessionView
from maria.db import Database, Work
from maria.errors import Conflict, NotFound
from maria.identity import Client, Identity
from maria.users import store as users_store
from maria.users.service import UsersService
from maria.users.views import UserView

LAST_ADMIN = "The last admin can't be demoted, disabled or deleted"


class AdminService:
    def __init__(
        self,
        database: Database,
        users: UsersService,
        auth: AuthService,
        accounts: Accounts,
        audit_log: AuditLog,
    ) -> None:
        self._database = database
        self._users = users
        self._auth = auth
        self._accounts = accounts
        self._audit = audit_log

    async def list_users(
        self, *, query: str | None, cursor: str | None, limit: int
    ) -> tuple[list[UserView], str | None]:
        """Users oldest first, optionally filtered by a substring of email or display name."""
        return await self._users.search(query=query, cursor=cursor, limit=limit)

    async def get_user(self, user_id: str) -> UserView:
        return await self._users.require(user_id)

    async def _keep_an_admin(self, work: Work, user: UserView) -> None:
        """Refuse to take the last active admin away."""
        if user.role != "admin" or user.disabled:
            return
        admins = await users_store.lock_admins(work.db)
        if not any(admin_id != user.id and not disabled for admin_id, disabled in admins):
            raise Conflict(LAST_ADMIN)

    async def update_user(
        self,
        admin: Identity,
        user_id: str,
        *,
        role: str | None,
        disabled: bool | None,
        client: Client,
    ) -> UserView:
        async with self._database.work() as work:
            current = await self._users.require_in(work, user_id)
            if (role is not None and role != current.role) or (
                disabled is True and not current.disabled
            ):
                await self._keep_an_admin(work, current)
            user, loses_access = await self._users.update_account(
                work, user_id, role=role, disabled=disabled
            )
            if loses_access:
                await self._auth.end_sessions(work, user_id)
            if user.role != current.role:
                await self._audit.record(
                    work,
                    audit.ROLE_CHANGED,
                    user_id=user_id,
                    actor_id=admin.user_id,
                    client=client,
                    detail={"from": current.role, "to": user.role},
                )
            if user.disabled != current.disabled:
                event = audit.DISABLED if user.disabled else audit.ENABLED
                await self._audit.record(
                    work, event, user_id=user_id, actor_id=admin.user_id, client=client
                )
        return user

    async def delete_user(self, admin: Identity, user_id: str, client: Client) -> None:
        async with self._database.work() as work:
            user = await self._users.require_in(work, user_id)
            await self._keep_an_admin(work, user)
            await self._accounts.delete_in(work, user_id, actor_id=admin.user_id, client=client)

    async def sessions(self, user_id: str) -> list[SessionView]:
        await self._users.require(user_id)
        return await self._auth.list_sessions(user_id)

    async def end_session(self, admin: Identity, user_id: str, sid: str, client: Client) -> None:
        if not await self._auth.end_session(user_id, sid, actor_id=admin.user_id, client=client):
            raise NotFound("No such session")

    async def audit(
        self, *, user_id: str | None, event: str | None, cursor: str | None, limit: int
    ) -> tuple[list[EventView], str | None]:
        return await self._audit.page(user_id=user_id, event=event, cursor=cursor, limit=limit)
