"""The users table, in the caller's transaction (``db``). Statements that run on every
sign-in are built once, on the table's Core columns and with bound parameters: constructing
one costs more than running it, and the ORM's compile step as much again."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, delete, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from maria.db import new_id, utcnow
from maria.errors import BadCursor, Conflict
from maria.users.models import Avatar, User
from maria.users.views import Credentials, UserView

VIEW_COLUMNS = (
    User.id,
    User.email,
    User.display_name,
    User.avatar_url,
    User.role,
    User.email_verified,
    User.disabled,
    User.created_at,
)
_TABLE = User.__table__.c
_AVATARS = cast(Table, Avatar.__table__)
_ID = re.compile(r"[0-9a-f-]{1,36}")  # the user id in a cursor: a UUID, nothing to trip SQL
_CORE_COLUMNS = tuple(_TABLE[column.key] for column in VIEW_COLUMNS)
_BY_EMAIL = select(*_CORE_COLUMNS, _TABLE.password_hash).where(
    _TABLE.email == bindparam("email", type_=String())
)
_BY_ID = select(*_CORE_COLUMNS).where(_TABLE.id == bindparam("user_id", type_=String()))


def _view(row: Sequence[Any]) -> UserView:
    return UserView(*row[: len(VIEW_COLUMNS)])


async def by_email(db: AsyncSession | AsyncConnection, email: str) -> Credentials | None:
    """``email`` already normalized."""
    row = (await db.execute(_BY_EMAIL, {"email": email})).first()
    return None if row is None else Credentials(_view(row), row[-1])


async def find(db: AsyncSession | AsyncConnection, user_id: str) -> UserView | None:
    row = (await db.execute(_BY_ID, {"user_id": user_id})).first()
    return None if row is None else _view(row)


async def insert_user(
    db: AsyncSession | AsyncConnection,
    *,
    email: str,
    password_hash: str,
    display_name: str,
    role: str,
    email_verified: bool = False,
) -> UserView:
    """A new row; a taken email is a 409."""
    now, user_id = utcnow(), new_id()
    values = {
        "id": user_id,
        "email": email,
        "password_hash": password_hash,
        "display_name": display_name,
        "avatar_url": None,
        "role": role,
        "email_verified": email_verified,
        "disabled": False,
        "created_at": now,
        "updated_at": now,
    }
    try:
        await db.execute(insert(User).values(values))
    except IntegrityError:
        raise Conflict("An account with this email already exists") from None
    return UserView(
        id=user_id,
        email=email,
        display_name=display_name,
        avatar_url=None,
        role=role,
        email_verified=email_verified,
        disabled=False,
        created_at=now,
    )


async def update_user(
    db: AsyncSession | AsyncConnection, user_id: str, **values: Any
) -> UserView | None:
    """Set ``values`` (and ``updated_at``, which the other instances' caches poll)."""
    row = (
        await db.execute(
            update(User)
            .where(User.id == user_id)
            .values(**values, updated_at=utcnow())
            .returning(*VIEW_COLUMNS)
        )
    ).first()
    return None if row is None else _view(row)


async def delete_user(db: AsyncSession | AsyncConnection, user_id: str) -> None:
    await db.execute(delete(User).where(User.id == user_id))


async def changed_since(db: AsyncSession, since: datetime) -> list[str]:
    rows = await db.execute(select(User.id).where(User.updated_at >= since))
    return [user_id for (user_id,) in rows]


def _encode_cursor(user: UserView) -> str:
    raw = f"{user.created_at.isoformat()}|{user.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        created, user_id = raw.split("|", 1)
        moment = datetime.fromisoformat(created)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor() from None
    if moment.tzinfo is None or not _ID.fullmatch(user_id):
        raise BadCursor()
    return moment, user_id


async def search(
    db: AsyncSession, *, query: str | None, cursor: str | None, limit: int
) -> tuple[list[UserView], str | None]:
    """Users oldest first, optionally those whose email or display name contains ``query``."""
    stmt = select(*VIEW_COLUMNS).order_by(User.created_at, User.id).limit(limit + 1)
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
    rows = [_view(row) for row in await db.execute(stmt)]
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


async def lock_admins(db: AsyncSession | AsyncConnection) -> list[tuple[str, bool]]:
    """``(id, disabled)`` of every admin, their rows held until the transaction ends: a
    no-op update (row locks on Postgres; SQLite's write lock), so that two admins demoting
    each other at once cannot both pass the last-admin check."""
    rows = await db.execute(
        update(User)
        .where(User.role == "admin")
        .values(role=User.role)
        .returning(User.id, User.disabled)
        .execution_options(synchronize_session=False)
    )
    return [(user_id, disabled) for user_id, disabled in rows]


async def set_avatar(
    db: AsyncSession | AsyncConnection, user_id: str, digest: str, data: bytes
) -> None:
    """The user's one avatar row, replaced: the old picture leaves no trace."""
    await db.execute(delete(_AVATARS).where(_AVATARS.c.user_id == user_id))
    await db.execute(
        insert(_AVATARS).values(user_id=user_id, digest=digest, data=data, created_at=utcnow())
    )


async def delete_avatar(db: AsyncSession | AsyncConnection, user_id: str) -> None:
    await db.execute(delete(_AVATARS).where(_AVATARS.c.user_id == user_id))


async def avatar(db: AsyncSession | AsyncConnection, digest: str) -> bytes | None:
    row = (
        await db.execute(select(_AVATARS.c.data).where(_AVATARS.c.digest == digest).limit(1))
    ).first()
    return None if row is None else bytes(row[0])
