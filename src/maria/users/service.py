"""Users: every read and write of accounts goes through here, for this domain's routes and
for the others (sign-in reads credentials, registration creates, admin changes and deletes).

Methods that take ``work`` join the caller's unit of work (registration creates the user and
the session in one transaction); the others open their own. Either way, a write registers
the cache invalidation as an after-commit effect.
"""

from __future__ import annotations

from functools import partial

from maria.db import AnyWork, Database, Work
from maria.errors import AccountGone, NotFound
from maria.lists.service import ListsService
from maria.users import avatars, store
from maria.users.cache import UserCache
from maria.users.views import Credentials, UserView, normalize_email

AVATAR_PATH = "/api/v1/avatars/"


class UsersService:
    def __init__(
        self, database: Database, cache: UserCache, lists: ListsService, *, public_url: str
    ) -> None:
        self._database = database
        self.cache = cache
        self._lists = lists
        self._public_url = public_url

    # -- reads ----------------------------------------------------------------------------

    def cached(self, user_id: str) -> UserView | None:
        """The user if this instance holds them: no I/O."""
        return self.cache.cached(user_id)

    async def get(self, user_id: str) -> UserView | None:
        return await self.cache.get(user_id)

    async def active(self, user_id: str) -> UserView:
        """The user behind a valid token, unless the account was deleted or disabled since."""
        user = await self.cache.get(user_id)
        if user is None or user.disabled:
            raise AccountGone()
        return user

    async def credentials(self, email: str) -> Credentials | None:
        async with self._database.connect() as conn:
            return await store.by_email(conn, normalize_email(email))

    async def find(self, work: AnyWork, user_id: str) -> UserView | None:
        """The current row, read in the caller's transaction."""
        return await store.find(work.db, user_id)

    async def find_credentials(self, work: AnyWork, email: str) -> Credentials | None:
        """``credentials``, read in the caller's transaction."""
        return await store.by_email(work.db, normalize_email(email))

    async def require(self, user_id: str) -> UserView:
        """The current row (not the cache), or 404."""
        async with self._database.autocommit() as db:
            user = await store.find(db, user_id)
        if user is None:
            raise NotFound("No such user")
        return user

    async def require_in(self, work: Work, user_id: str) -> UserView:
        """The current row in the caller's transaction, or 404."""
        user = await store.find(work.db, user_id)
        if user is None:
            raise NotFound("No such user")
        return user

    async def search(
        self, *, query: str | None, cursor: str | None, limit: int
    ) -> tuple[list[UserView], str | None]:
        async with self._database.autocommit() as db:
            return await store.search(db, query=query, cursor=cursor, limit=limit)

    # -- writes ---------------------------------------------------------------------------

    def _changed(self, work: AnyWork, user_id: str) -> None:
        work.after_commit("user cache invalidation", partial(self.cache.changed, user_id))

    async def create(
        self,
        work: Work,
        *,
        email: str,
        password_hash: str,
        display_name: str,
        role: str = "user",
        email_verified: bool = False,
    ) -> UserView:
        """A new account with its built-in lists, in the caller's unit of work (409 if the
        email is taken). An empty ``password_hash``: no password (a sign-in code made it)."""
        user = await store.insert_user(
            work.db,
            email=normalize_email(email),
            password_hash=password_hash,
            display_name=display_name,
            role=role,
            email_verified=email_verified,
        )
        await self._lists.create_builtins(work, user.id)
        return user

    async def set_password_hash(self, work: AnyWork, user_id: str, password_hash: str) -> None:
        await store.update_user(work.db, user_id, password_hash=password_hash)

    async def mark_verified(self, work: AnyWork, user_id: str) -> UserView | None:
        """The account's email is proven (a link or a code from it was used)."""
        user = await store.update_user(work.db, user_id, email_verified=True)
        if user is not None:
            self._changed(work, user_id)
        return user

    async def update_profile(self, user_id: str, *, display_name: str | None) -> UserView:
        await self.active(user_id)
        async with self._database.work() as work:
            values = {} if display_name is None else {"display_name": display_name}
            user = await store.update_user(work.db, user_id, **values)
            if user is None:
                raise AccountGone()
            self._changed(work, user_id)
        return user

    async def set_avatar(self, user_id: str, upload: bytes) -> UserView:
        """Check and re-encode an uploaded picture (422 if it is not an image we take) and
        make it the user's avatar, at a URL named by its content."""
        await self.active(user_id)
        processed = await avatars.process_off_loop(upload)
        url = f"{self._public_url}{AVATAR_PATH}{processed.digest}.webp"
        async with self._database.work() as work:
            await store.set_avatar(work.db, user_id, processed.digest, processed.data)
            user = await store.update_user(work.db, user_id, avatar_url=url)
            if user is None:
                raise AccountGone()
            self._changed(work, user_id)
        return user

    async def delete_avatar(self, user_id: str) -> UserView:
        await self.active(user_id)
        async with self._database.work() as work:
            await store.delete_avatar(work.db, user_id)
            user = await store.update_user(work.db, user_id, avatar_url=None)
            if user is None:
                raise AccountGone()
            self._changed(work, user_id)
        return user

    async def avatar(self, digest: str) -> bytes | None:
        """The WebP named ``digest``, if an account still has it."""
        async with self._database.connect() as conn:
            return await store.avatar(conn, digest)

    async def update_account(
        self, work: Work, user_id: str, *, role: str | None, disabled: bool | None
    ) -> tuple[UserView, bool]:
        """Change a role or disable (admin), in the caller's unit of work; also whether the
        change takes rights away, so the user's sessions must end."""
        current = await store.find(work.db, user_id)
        if current is None:
            raise NotFound("No such user")
        loses_access = (role is not None and role != current.role) or (
            disabled is True and not current.disabled
        )
        values: dict[str, object] = {}
        if role is not None:
            values["role"] = role
        if disabled is not None:
            values["disabled"] = disabled
        user = await store.update_user(work.db, user_id, **values)
        assert user is not None  # read above, in this transaction
        self._changed(work, user_id)
        return user, loses_access

    async def delete(self, work: Work, user_id: str) -> None:
        """Delete the account (its lists, sessions and messages go by cascade), in the
        caller's unit of work."""
        await store.delete_user(work.db, user_id)
        self._changed(work, user_id)

    async def create_or_promote_admin(
        self, *, email: str, password_hash: str, display_name: str
    ) -> str:
        """``maria create-admin``: a new admin, or an existing account made admin with this
        password; what was done, in words."""
        async with self._database.work() as work:
            existing = await store.by_email(work.db, normalize_email(email))
            if existing is None:
                user = await self.create(
                    work,
                    email=email,
                    password_hash=password_hash,
                    display_name=display_name,
                    role="admin",
                )
                return f"created admin {user.id}"
            await store.update_user(
                work.db, existing.user.id, role="admin", password_hash=password_hash
            )
            self._changed(work, existing.user.id)
            return f"promoted {existing.user.id} to admin"
