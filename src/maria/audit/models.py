"""The audit events table. ``user_id`` is no foreign key: the record of an account's
deletion outlives the account (with its id, never its email)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from maria.db import Base, UTCDateTime, new_id, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        # Pages are newest first by (at, id): the whole log, one user's, one kind of event.
        Index("ix_audit_events_at_id", "at", "id"),
        Index("ix_audit_events_user_id_at", "user_id", "at"),
        Index("ix_audit_events_event_at", "event", "at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str | None] = mapped_column(String(36), default=None)  # whose account
    actor_id: Mapped[str | None] = mapped_column(String(36), default=None)  # an admin acting
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    user_agent: Mapped[str | None] = mapped_column(String(512), default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)  # JSON, never a secret
