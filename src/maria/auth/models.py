"""Sign-in sessions: one row per device, holding the refresh-token chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from maria.db import Base, UTCDateTime, new_id, utcnow


class AuthSession(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # Refresh tokens are HMACs of (salt, generation); only their SHA-256 is stored.
    salt: Mapped[str] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(Integer, default=0)
    refresh_hash: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_agent: Mapped[str | None] = mapped_column(String(512), default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None, index=True)


class RevokedSession(Base):
    """A revocation every instance must learn of, kept while an access token of the session
    could still be valid: what the revocation poll reads. Separate from ``sessions`` so that
    it survives the session row (an account's deletion takes its sessions with it) and
    names no user."""

    __tablename__ = "revoked_sessions"

    session_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AccountToken(Base):
    """A single-use secret sent by mail: an email verification link, a password reset link,
    or a sign-in code. Only its digest is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    purpose: Mapped[str] = mapped_column(String(16))  # verify_email | reset_password | email_code
    # NULL for a sign-in code to an address that has no account yet.
    user_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    email: Mapped[str] = mapped_column(String(320), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class KnownAddress(Base):
    """An address (IPv4, or an IPv6 /64) the account signed in from, and when it last did:
    clients there are known to the account for the login limits (``auth.limits``)."""

    __tablename__ = "known_addresses"

    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
