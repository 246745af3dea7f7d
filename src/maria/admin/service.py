"""Admin operations on accounts. A change of role or a disable ends the user's sessions,
so no access token keeps a role or a right the user no longer has."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from sqlalchemy import delete, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from maria.auth.service import AuthService
from maria.db import utcnow
from maria.errors import NotFound, ValidationFailed
from maria.users.models import User
from maria.users.service import UserCache, UserView


def _encode_cursor(user: User) -> str:
    raw = f"{user.created_at.isoformat()}|{user.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created, user_id = raw.split("|", 1)
        return datetime.fromisoformat(created), user_id
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationFailed("Invalid cursor") from None


async def list_users(
    db: AsyncSession, *, query: str | None, cursor: str | None, limit: int
) -> tuple[list[UserView], str | None]:
    """Users oldest first, optionally filtered by a substring of email or display name."""
    stmt = select(User).order_by(User.created_at, User.id).limit(limit + 1)
    if query:
        stmt = stmt.where(
            or_(
                User.email.contains(query.lower(), autoescape=True),
                User.display_name.icontains(query, autoescape=True),
            )
        )
    if cursor:
        created, user_id = _decode_cursor(cursor)
        stmt = stmt.where(tuple_(User.created_at, User.id) > tuple_(created, user_id))
    rows = list((await db.execute(stmt)).scalars())
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return [UserView.of(u) for u in rows[:limit]], next_cursor


async def get_user(db: AsyncSession, user_id: str) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("No such user")
    return user


async def update_user(
    db: AsyncSession,
    auth: AuthService,
    cache: UserCache,
    user_id: str,
    *,
    role: str | None,
    disabled: bool | None,
) -> UserView:
    user = await get_user(db, user_id)
    ends_sessions = (role is not None and role != user.role) or (
        disabled is True and not user.disabled
    )
    if role is not None:
        user.role = role
    if disabled is not None:
        user.disabled = disabled
    user.updated_at = utcnow()
    await db.commit()
    view = UserView.of(user)
    await cache.changed(user_id)
    if ends_sessions:
        await auth.revoke_user_sessions(user_id)
    return view


async def delete_user(db: AsyncSession, auth: AuthService, cache: UserCache, user_id: str) -> None:
    await get_user(db, user_id)
    await auth.revoke_user_sessions(user_id)
    await db.execute(delete(User).where(User.id == user_id))
    await db.commit()
    await cache.changed(user_id)
