"""movie lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BUILTINS = (("favorites", "Favorites"), ("watch-later", "Watch later"))


def upgrade() -> None:
    lists = op.create_table(
        "movie_lists",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_movie_lists_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_movie_lists")),
        sa.UniqueConstraint("user_id", "slug", name=op.f("uq_movie_lists_user_id")),
    )
    op.create_table(
        "list_items",
        sa.Column("list_id", sa.String(36), nullable=False),
        sa.Column("movie_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["movie_lists.id"],
            name=op.f("fk_list_items_list_id_movie_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "movie_id", name=op.f("pk_list_items")),
    )
    op.create_index(
        "ix_list_items_list_id_added_at_movie_id",
        "list_items",
        ["list_id", "added_at", "movie_id"],
    )
    _add_builtins_for_existing_users(lists)


def _add_builtins_for_existing_users(lists: sa.Table) -> None:
    """Accounts made before lists existed get their built-ins here, as new ones do at
    registration: the app never creates them lazily."""
    users = sa.table("users", sa.column("id", sa.String(36)))
    user_ids = [row[0] for row in op.get_bind().execute(sa.select(users.c.id))]
    now = datetime.now(UTC)
    rows = [
        {
            "id": str(uuid.uuid4()),
            "user_id": user_id,
            "slug": slug,
            "title": title,
            "is_public": False,
            "builtin": True,
            "item_count": 0,
            "version": 0,
            "created_at": now,
            "updated_at": now,
        }
        for user_id in user_ids
        for slug, title in BUILTINS
    ]
    if rows:
        op.bulk_insert(lists, rows)


def downgrade() -> None:
    op.drop_table("list_items")
    op.drop_table("movie_lists")
