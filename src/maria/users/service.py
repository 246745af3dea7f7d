"""Users: lookups, creation, profile edits and a read-through cache for hot reads.

The cache keeps the token check's promise: an authenticated ``GET /users/me`` costs no
database round trip once the user was read. Every write here drops the entry locally and
announces it on the broker; ``UserCache.sync`` also polls ``updated_at`` so instances without
Redis converge too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from maria.backends.broker import Broker
from maria.db import utcnow
from maria.errors import Conflict
from maria.lists import service as lists
from maria.users.models import User

log = logging.getLogger("maria.users")

CHANNEL = "maria:users"


def normalize_email(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True, slots=True)
class UserView:
    """An immutable snapshot of a user, safe to cache and share between requests."""

    id: str
    email: str
    display_name: str
    avatar_url: str | None
    role: str
    email_verified: bool
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            avatar_url=user.avatar_url,
            role=user.role,
            email_verified=user.email_verified,
            disabled=user.disabled,
            created_at=user.created_at,
        )


async def get_by_email(db: AsyncSession, email: str) -> User | None:
    return (
        await db.execute(select(User).where(User.email == normalize_email(email)))
    ).scalar_one_or_none()


async def create_user(
    db: AsyncSession, *, email: str, password_hash: str, display_name: str, role: str = "user"
) -> User:
    """Insert a user, with their built-in lists, in the caller's transaction; a taken email
    is a 409."""
    user = User(
        email=normalize_email(email),
        password_hash=password_hash,
        display_name=display_name,
        role=role,
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError:
        await db.rollback()
        raise Conflict("An account with this email already exists") from None
    await lists.create_builtin_lists(db, user.id)
    return user


class UserCache:
    """LRU of ``UserView`` by id, invalidated by the broker and by polling ``updated_at``."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        broker: Broker,
        *,
        size: int = 50_000,
        poll_interval: float = 1.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._broker = broker
        self._size = size
        self._poll_interval = poll_interval
        self._entries: OrderedDict[str, UserView] = OrderedDict()
        self._task: asyncio.Task[None] | None = None
        broker.subscribe(CHANNEL, self.forget)

    def forget(self, user_id: str) -> None:
        self._entries.pop(user_id, None)

    def cached(self, user_id: str) -> UserView | None:
        """The view if this instance holds it (no database read)."""
        return self._entries.get(user_id)

    async def get(self, user_id: str) -> UserView | None:
        view = self._entries.get(user_id)
        if view is not None:
            return view
        async with self._sessionmaker() as db:
            user = await db.get(User, user_id)
        if user is None:
            return None
        view = UserView.of(user)
        self._entries[user_id] = view
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return view

    async def changed(self, user_id: str) -> None:
        """Call after a committed write to a user: every instance drops its copy."""
        self.forget(user_id)
        await self._broker.publish(CHANNEL, user_id)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._poll(), name="maria-user-cache")

    async def _poll(self) -> None:
        since = utcnow()
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                started = utcnow()
                async with self._sessionmaker() as db:
                    rows = await db.execute(
                        select(User.id).where(User.updated_at >= since - timedelta(seconds=2))
                    )
                for (user_id,) in rows:
                    self.forget(user_id)
                since = started
            except Exception as exc:  # the database may be briefly away; keep polling
                log.warning("user cache poll failed: %s", type(exc).__name__)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def count_users(db: AsyncSession) -> int:
    return int((await db.execute(select(func.count()).select_from(User))).scalar_one())


async def update_profile(
    db: AsyncSession, user_id: str, *, display_name: str | None
) -> User | None:
    user = await db.get(User, user_id)
    if user is None:
        return None
    if display_name is not None:
        user.display_name = display_name
    user.updated_at = utcnow()
    await db.flush()
    return user
