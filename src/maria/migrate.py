"""Apply Alembic migrations programmatically (``maria migrate`` and ``maria serve``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "maria:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to ``revision``; runs its own event loop, so call it outside one."""
    command.upgrade(alembic_config(database_url), revision)
