"""Immutable snapshots of users, safe to cache and to share between requests and domains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class UserView:
    id: str
    email: str
    display_name: str
    avatar_url: str | None
    role: str
    email_verified: bool
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    """What signing in needs: the user and their password hash (never cached)."""

    user: UserView
    password_hash: str


def normalize_email(email: str) -> str:
    """Emails are stored trimmed and lower-cased: unique case-insensitively everywhere."""
    return email.strip().lower()
