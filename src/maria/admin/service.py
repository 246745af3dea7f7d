"""Admin operations on accounts, through the users and auth services. A change of role or
a disable ends the user's sessions in the same unit of work, so no access token keeps a role
or a right the user no longer has."""

from __future__ import annotations

from maria.auth.service import AuthService
from maria.db import Database
from maria.users.service import UsersService
from maria.users.views import UserView


class AdminService:
    def __init__(self, database: Database, users: UsersService, auth: AuthService) -> None:
        self._database = database
        self._users = users
        self._auth = auth

    async def list_users(
        self, *, query: str | None, cursor: str | None, limit: int
    ) -> tuple[list[UserView], str | None]:
        """Users oldest first, optionally filtered by a substring of email or display name."""
        return await self._users.search(query=query, cursor=cursor, limit=limit)

    async def get_user(self, user_id: str) -> UserView:
        return await self._users.require(user_id)

    async def update_user(
        self, user_id: str, *, role: str | None, disabled: bool | None
    ) -> UserView:
        async with self._database.work() as work:
            user, loses_access = await self._users.update_account(
                work, user_id, role=role, disabled=disabled
            )
            if loses_access:
                await self._auth.end_sessions(work, user_id)
        return user

    async def delete_user(self, user_id: str) -> None:
        async with self._database.work() as work:
            await self._users.require_in(work, user_id)
            await self._auth.end_sessions(work, user_id)
            await self._users.delete(work, user_id)
