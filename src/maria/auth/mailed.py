"""Secrets sent by mail (``account_tokens``): verification and reset links, sign-in codes.

A link token is 32 random bytes; a code is six digits. Only a digest is stored: SHA-256 of
a link token (too long to guess), an HMAC under the server's secret of a code with its
address (a million codes would otherwise be a moment's work for whoever reads the table).
Each is single use and expires; a code dies after five wrong tries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from maria.auth.models import AccountToken
from maria.db import new_id, utcnow

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
EMAIL_CODE = "email_code"

_TABLE = cast(Table, AccountToken.__table__)
Db = AsyncSession | AsyncConnection


@dataclass(frozen=True, slots=True)
class Found:
    id: str
    user_id: str | None
    email: str
    attempts: int


def new_link_token() -> tuple[str, str]:
    """A token for a link, and its digest."""
    token = secrets.token_urlsafe(32)
    return token, link_digest(token)


def link_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def code_digest(secret: bytes, email: str, code: str) -> str:
    message = f"email_code|{email}|{code}".encode("utf-8", "surrogatepass")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


async def issue(
    db: Db, purpose: str, *, user_id: str | None, email: str, digest: str, ttl: timedelta
) -> None:
    """A new secret for ``purpose``; the earlier unused ones of the same address are void
    (only the newest link or code works)."""
    now = utcnow()
    await db.execute(
        update(_TABLE)
        .where(_TABLE.c.purpose == purpose, _TABLE.c.email == email, _TABLE.c.used_at.is_(None))
        .values(used_at=now)
    )
    await db.execute(
        insert(_TABLE).values(
            id=new_id(),
            purpose=purpose,
            user_id=user_id,
            email=email,
            digest=digest,
            created_at=now,
            expires_at=now + ttl,
            used_at=None,
            attempts=0,
        )
    )


async def consume(db: Db, purpose: str, digest: str, now: datetime) -> Found | None:
    """Use a link token: the row if it was live (and is used now), else None. One
    conditional update, so two clicks racing cannot both use it."""
    c = _TABLE.c
    row = (
        await db.execute(
            update(_TABLE)
            .where(
                c.digest == digest,
                c.purpose == purpose,
                c.used_at.is_(None),
                c.expires_at > now,
            )
            .values(used_at=now)
            .returning(c.id, c.user_id, c.email, c.attempts)
        )
    ).first()
    return None if row is None else Found(*row)


async def live_code(db: Db, email: str, now: datetime) -> Any:
    """The newest live sign-in code of an address (its row), if any."""
    c = _TABLE.c
    return (
        await db.execute(
            select(c.id, c.user_id, c.email, c.attempts, c.digest)
            .where(
                c.purpose == EMAIL_CODE,
                c.email == email,
                c.used_at.is_(None),
                c.expires_at > now,
            )
            .order_by(c.created_at.desc())
            .limit(1)
        )
    ).first()


async def use_code(db: Db, token_id: str, now: datetime) -> bool:
    """Mark a matching code used; False if a racing request used it first."""
    c = _TABLE.c
    result = await db.execute(
        update(_TABLE).where(c.id == token_id, c.used_at.is_(None)).values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def wrong_code(db: Db, token_id: str, now: datetime, max_attempts: int) -> None:
    """Count a wrong try; the code is void after ``max_attempts``."""
    c = _TABLE.c
    await db.execute(update(_TABLE).where(c.id == token_id).values(attempts=c.attempts + 1))
    await db.execute(
        update(_TABLE)
        .where(c.id == token_id, c.attempts >= max_attempts, c.used_at.is_(None))
        .values(used_at=now)
    )
