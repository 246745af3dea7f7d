"""rooms that can be run: roles, moderation, access, invites, capacity, reactions

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    referred = target.partition(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade() -> None:
    # Existing rooms: public, the server's capacity, chat open (server defaults fill them).
    op.add_column(
        "rooms", sa.Column("visibility", sa.String(8), nullable=False, server_default="public")
    )
    op.add_column("rooms", sa.Column("capacity", sa.Integer(), nullable=True))
    op.add_column(
        "rooms", sa.Column("chat_locked", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("rooms", sa.Column("roles_seq", sa.Integer(), nullable=False, server_default="0"))

    op.create_table(
        "room_members",
        sa.Column("room_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("banned_until", sa.BigInteger(), nullable=True),
        sa.Column("access", sa.Boolean(), nullable=False),
        sa.Column("first_joined_at", TS, nullable=True),
        sa.Column("last_joined_at", TS, nullable=True),
        _fk("room_members", "room_id", "rooms.id", "CASCADE"),
        _fk("room_members", "user_id", "users.id", "CASCADE"),
        sa.PrimaryKeyConstraint("room_id", "user_id", name=op.f("pk_room_members")),
    )
    op.create_index(op.f("ix_room_members_user_id"), "room_members", ["user_id"])
    # Hosts of existing rooms may enter them when they turn private.
    op.execute(
        "INSERT INTO room_members (room_id, user_id, role, muted, access) "
        "SELECT id, host_id, 'member', false, true FROM rooms WHERE host_id IS NOT NULL"
    )

    op.create_table(
        "room_invites",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("room_id", sa.String(36), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("single_use", sa.Boolean(), nullable=False),
        sa.Column("used_by", sa.String(36), nullable=True),
        sa.Column("used_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        _fk("room_invites", "room_id", "rooms.id", "CASCADE"),
        _fk("room_invites", "created_by", "users.id", "SET NULL"),
        _fk("room_invites", "used_by", "users.id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_invites")),
    )
    for column in ("room_id", "created_by", "used_by"):
        op.create_index(op.f(f"ix_room_invites_{column}"), "room_invites", [column])

    op.create_table(
        "room_reactions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("room_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("emoji", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(36), nullable=True),
        sa.Column("message_seq", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Float(), nullable=True),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        _fk("room_reactions", "room_id", "rooms.id", "CASCADE"),
        _fk("room_reactions", "user_id", "users.id", "CASCADE"),
        _fk("room_reactions", "message_id", "room_messages.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_reactions")),
    )
    op.create_index(
        "ix_room_reactions_room_id_timestamp", "room_reactions", ["room_id", "timestamp"]
    )
    op.create_index(op.f("ix_room_reactions_user_id"), "room_reactions", ["user_id"])
    op.create_index(op.f("ix_room_reactions_message_id"), "room_reactions", ["message_id"])


def downgrade() -> None:
    op.drop_table("room_reactions")
    op.drop_table("room_invites")
    op.drop_table("room_members")
    with op.batch_alter_table("rooms") as batch:
        for column in ("roles_seq", "chat_locked", "capacity", "visibility"):
            batch.drop_column(column)
