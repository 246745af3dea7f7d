"""Invite links to a room: signed, expiring, revocable, optionally single-use.

A token is ``i1.<invite id, hex>.<expiry, unix s>.<mac>``, the MAC an HMAC-SHA256 of the
invite id, the room id and the expiry under a key derived from ``MARIA_SECRET_KEY`` for
invites alone (never the JWT key itself). A garbled, forged or another room's token is
thus refused without a database read, and so is an expired one; the invite's row is what
makes it revocable and single-use. Tokens are not stored: the same MAC is computed again
to list an invite's link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from maria.db import new_id, utcnow
from maria.errors import ApiError, NotFound
from maria.rooms import members
from maria.rooms.models import RoomInvite

_KEY_LABEL = b"maria/room-invite/v1"
_SHAPE = re.compile(r"i1\.([0-9a-f]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")
MAX_LISTED = 100
NO_INVITE = "No such invite for this room"


class InviteExpired(ApiError):
    status, code, message = 410, "invite_expired", "The invite has expired"


class InviteRevoked(ApiError):
    status, code, message = 410, "invite_revoked", "The invite was revoked"


class InviteUsed(ApiError):
    status, code, message = 410, "invite_used", "The invite was for one person, and was used"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class InviteTokens:
    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()

    def _mac(self, hex_id: str, room_id: str, expires: int) -> str:
        message = f"{hex_id}|{room_id}|{expires}".encode()
        return _b64(hmac.new(self._key, message, hashlib.sha256).digest())

    def issue(self, invite_id: str, room_id: str, expires: int) -> str:
        hex_id = uuid.UUID(invite_id).hex
        return f"i1.{hex_id}.{expires}.{self._mac(hex_id, room_id, expires)}"

    def verify(self, token: str, room_id: str) -> tuple[str, int] | None:
        """The invite id and expiry (unix s) of a genuine token of ``room_id``, else None."""
        match = _SHAPE.fullmatch(token)
        if match is None:
            return None
        hex_id, expires, mac = match.groups()
        if not hmac.compare_digest(self._mac(hex_id, room_id, int(expires)), mac):
            return None
        return str(uuid.UUID(hex_id)), int(expires)


@dataclass(frozen=True, slots=True)
class InviteView:
    id: str
    room_id: str
    created_by: str | None
    expires_at: datetime
    single_use: bool
    used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: RoomInvite) -> InviteView:
        return cls(
            row.id,
            row.room_id,
            row.created_by,
            row.expires_at,
            row.single_use,
            row.used_at,
            row.revoked_at,
        )


class Invites:
    """Invites of rooms: made, listed and revoked by the host and co-hosts (the service
    checks who asks), redeemed by anyone signed in who holds a token."""

    def __init__(self, secret: bytes, public_url: str) -> None:
        self._tokens = InviteTokens(secret)
        self._public_url = public_url

    def public(self, invite: InviteView) -> dict[str, Any]:
        """The contract's ``Invite``, with its token and link."""
        expires = int(invite.expires_at.timestamp())
        token = self._tokens.issue(invite.id, invite.room_id, expires)
        return {
            "id": invite.id,
            "token": token,
            "url": f"{self._public_url}/rooms/{invite.room_id}?invite={token}",
            "expires_at": invite.expires_at,
            "single_use": invite.single_use,
            "created_by": invite.created_by,
            "used_at": invite.used_at,
            "revoked_at": invite.revoked_at,
        }

    async def create(
        self, db: AsyncSession, room_id: str, *, by: str, expires_in: int, single_use: bool
    ) -> InviteView:
        expires = int(time.time()) + expires_in  # whole seconds: the token's expiry
        row = RoomInvite(
            id=new_id(),
            room_id=room_id,
            created_by=by,
            created_at=utcnow(),
            expires_at=datetime.fromtimestamp(expires, UTC),
            single_use=single_use,
        )
        db.add(row)
        await db.flush()
        return InviteView.of(row)

    async def listed(self, db: AsyncSession, room_id: str) -> list[InviteView]:
        """The room's newest invites (revoked, used and expired ones too)."""
        rows = await db.execute(
            select(RoomInvite)
            .where(RoomInvite.room_id == room_id)
            .order_by(RoomInvite.created_at.desc(), RoomInvite.id)
            .limit(MAX_LISTED)
        )
        return [InviteView.of(row) for row in rows.scalars()]

    async def revoke(self, db: AsyncSession, room_id: str, invite_id: str) -> None:
        """Revoke (idempotent: a second time keeps the first time)."""
        result = await db.execute(
            update(RoomInvite)
            .where(RoomInvite.id == invite_id, RoomInvite.room_id == room_id)
            .values(revoked_at=func.coalesce(RoomInvite.revoked_at, utcnow()))
            .returning(RoomInvite.id)
            .execution_options(synchronize_session=False)
        )
        if result.scalar_one_or_none() is None:
            raise NotFound(NO_INVITE)

    def check(self, token: str, room_id: str) -> str:
        """The invite id of a genuine, unexpired token of ``room_id`` (no database read)."""
        found = self._tokens.verify(token, room_id)
        if found is None:
            raise NotFound(NO_INVITE)
        invite_id, expires = found
        if expires <= time.time():
            raise InviteExpired()
        return invite_id

    async def redeem(self, db: AsyncSession, room_id: str, invite_id: str, user_id: str) -> None:
        """Grant ``user_id`` access to the room. A single-use invite is taken by one
        conditional UPDATE: of two racing redeemers, one wins; its redeemer may redeem
        it again."""
        taken = await db.execute(
            update(RoomInvite)
            .where(
                RoomInvite.id == invite_id,
                RoomInvite.room_id == room_id,
                RoomInvite.revoked_at.is_(None),
                or_(
                    RoomInvite.single_use.is_(False),
                    RoomInvite.used_by.is_(None),
                    RoomInvite.used_by == user_id,
                ),
            )
            .values(
                used_by=case((RoomInvite.single_use, user_id), else_=RoomInvite.used_by),
                used_at=case(
                    (RoomInvite.single_use, func.coalesce(RoomInvite.used_at, utcnow())),
                    else_=RoomInvite.used_at,
                ),
            )
            .returning(RoomInvite.id)
            .execution_options(synchronize_session=False)
        )
        if taken.scalar_one_or_none() is None:
            row = await db.get(RoomInvite, invite_id)
            if row is None or row.room_id != room_id:
                raise NotFound(NO_INVITE)
            if row.revoked_at is not None:
                raise InviteRevoked()
            raise InviteUsed()
        await members.upsert(db, room_id, user_id, access=True)
