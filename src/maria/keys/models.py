"""The signing keys table: every key Maria made besides ``MARIA_SECRET_KEY``, sealed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from maria.db import Base, UTCDateTime, utcnow


class StoredKey(Base):
    """One signing key. ``seq`` orders keys (the newest active one signs; unique, so two
    rotations at once cannot both win); ``secret`` is sealed (``keys.material``), NULL for
    the row of ``MARIA_SECRET_KEY`` itself, which exists only once that key is retired."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    alg: Mapped[str] = mapped_column(String(16))
    secret: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    activates_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
