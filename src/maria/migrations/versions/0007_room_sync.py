"""rooms in step: the shared queue on the room row (and playback may be waiting)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("queue_items", sa.Text(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("queue_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("media_seq", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("queue_seq", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("rooms") as batch:
        batch.drop_column("queue_seq")
        batch.drop_column("media_seq")
        batch.drop_column("queue_index")
        batch.drop_column("queue_items")
