"""Apply Alembic migrations programmatically (``maria migrate`` and ``maria serve``), one
instance at a time, and tell whether a database's schema is the one this code was written
for.

Instances of a fleet may start together, each migrating first: on PostgreSQL the migration
runs under a transaction-level advisory lock (``pg_advisory_xact_lock``, taken on the
migration's own connection before Alembic reads the schema's version), so the first one
migrates and the others wait, then find nothing to do. On SQLite (one host) an exclusive
``flock`` on a lock file beside the database does the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from maria.db import Database

# The advisory lock key of migrations (any fixed 64-bit number; b"maria-mg" as an integer).
LOCK_KEY = int.from_bytes(b"maria-mg", "big") - 2**63
LOCK_SUFFIX = ".migrate-lock"


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this code needs; the message says what to do."""


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "maria:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database to ``revision``, under the migration lock; runs its own event loop,
    so call it outside one."""
    with _sqlite_lock(database_url):
        command.upgrade(alembic_config(database_url), revision)


def lock_for_migrating(connection: Connection) -> None:
    """Wait for the fleet's migration lock (PostgreSQL), in the migration's transaction: it
    is released when that transaction commits or rolls back."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


@contextlib.contextmanager
def _sqlite_lock(database_url: str) -> Iterator[None]:
    url = make_url(database_url)
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}{LOCK_SUFFIX}")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@cache
def head_revision() -> str:
    """The newest migration this code has."""
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert head is not None
    return head


def schema_problem(current: str | None) -> str | None:
    """Why a database at revision ``current`` cannot be served by this code, or None."""
    head = head_revision()
    if current == head:
        return None
    if current is None:
        return "the database has no schema yet: run `maria migrate` first"
    try:
        known = ScriptDirectory.from_config(alembic_config("")).get_revision(current)
    except CommandError:
        known = None
    if known is None:
        return (
            f"the database schema is at revision {current}, which this Maria (schema {head}) "
            "does not know: a newer Maria migrated it. Run that version (or newer); this one "
            "would misread the data"
        )
    return (
        f"the database schema is at revision {current}, older than this Maria's {head}: "
        "run `maria migrate` (or `maria serve` without --no-migrate) first"
    )


async def current_revision(database: Database) -> str | None:
    """The schema revision the database records (None: never migrated)."""
    async with database.connect() as conn:
        try:
            row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
        except DBAPIError as exc:
            if "alembic_version" in str(exc.orig):
                return None  # no such table
            raise
    return str(row[0]) if row is not None else None


async def check_schema(database: Database) -> None:
    """Raise ``SchemaMismatch`` unless the database is at this code's schema."""
    problem = schema_problem(await current_revision(database))
    if problem is not None:
        raise SchemaMismatch(problem)
