"""Immutable snapshots of sign-in sessions, as other domains and the routers see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SessionView:
    id: str
    created_at: datetime
    last_used_at: datetime
    user_agent: str | None
    ip: str | None
