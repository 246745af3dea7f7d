"""The room tables.

A room row is the authority for everything several instances must agree on: the host, the
control mode, the playback state and the queue (each change is a compare-and-set on a
``*_seq`` column), and ``message_seq``, the last chat sequence number. Incrementing it in the same
transaction that inserts the messages makes the per-room sequence gapless among committed
messages, which is what lets every instance deliver chat in one order (see ``ordering``).
``roles_seq`` does the same for the moderation state and the room's settings.

Beside it: ``room_members`` (roles, mutes, bans, access; ``members``), ``room_invites``
(``invites``) and ``room_reactions`` (``reactions``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from maria.db import Base, UTCDateTime, new_id, utcnow

MAX_TITLE = 200
MAX_TEXT = 1000
MAX_NAME = 100
MAX_MOVIE_ID = 2**31 - 1


class Room(Base):
    __tablename__ = "rooms"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    movie_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(String(MAX_TITLE), default=None)
    # NULL once the host deleted their account: the room lives on and gets a new host.
    host_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    control: Mapped[str] = mapped_column(String(16), default="host")
    control_seq: Mapped[int] = mapped_column(Integer, default=0)
    playback_state: Mapped[str] = mapped_column(String(8), default="paused")
    playback_position: Mapped[float] = mapped_column(Float, default=0.0)
    playback_at: Mapped[int] = mapped_column(BigInteger, default=0)
    playback_by: Mapped[str | None] = mapped_column(String(36), default=None)
    playback_seq: Mapped[int] = mapped_column(Integer, default=0)
    message_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The shared queue (``rooms/queue.py``): its entries as JSON, the current one, and the
    # numbers of media changes and of queue changes.
    queue_items: Mapped[str] = mapped_column(Text, default="[]")
    queue_index: Mapped[int | None] = mapped_column(Integer, default=None)
    media_seq: Mapped[int] = mapped_column(Integer, default=0)
    queue_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Access and moderation (``members``, ``moderation``): ``roles_seq`` grows with every
    # change of who moderates, who is muted, the chat lock and the room's settings.
    visibility: Mapped[str] = mapped_column(String(8), default="public")
    capacity: Mapped[int | None] = mapped_column(Integer, default=None)  # None: the server's
    chat_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    roles_seq: Mapped[int] = mapped_column(Integer, default=0)


class RoomMessage(Base):
    __tablename__ = "room_messages"
    # The unique (room, seq) index is also the one every history page scans.
    __table_args__ = (UniqueConstraint("room_id", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(36), ForeignKey("rooms.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    # A deleted account takes its messages with it ("all its data gone").
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    text: Mapped[str] = mapped_column(String(MAX_TEXT))
    timestamp: Mapped[int] = mapped_column(BigInteger)  # unix ms, as the client's IMessage


class RoomMember(Base):
    """Someone who has been in a room (or may enter it): their role, moderation and access.
    The host is ``rooms.host_id``; this row only says ``cohost`` or ``member``."""

    __tablename__ = "room_members"

    room_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(8), default="member")
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    banned_until: Mapped[int | None] = mapped_column(BigInteger, default=None)  # unix ms
    access: Mapped[bool] = mapped_column(Boolean, default=False)  # may enter a private room
    first_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class RoomInvite(Base):
    """An invite link's row: what makes a signed token revocable and single-use."""

    __tablename__ = "room_invites"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    room_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("rooms.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    single_use: Mapped[bool] = mapped_column(Boolean, default=False)
    used_by: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None
    )
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class RoomReaction(Base):
    """An emoji on a message (``message_id``) or on the timeline (``position``)."""

    __tablename__ = "room_reactions"
    __table_args__ = (Index("ix_room_reactions_room_id_timestamp", "room_id", "timestamp"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    room_id: Mapped[str] = mapped_column(String(36), ForeignKey("rooms.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    emoji: Mapped[str] = mapped_column(String(16))
    message_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("room_messages.id", ondelete="CASCADE"), index=True, default=None
    )
    # The message's place in the chat's order: a cleared chat takes its reactions along.
    message_seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    position: Mapped[float | None] = mapped_column(Float, default=None)
    timestamp: Mapped[int] = mapped_column(BigInteger)  # unix ms
