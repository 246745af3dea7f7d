"""The real services tests may use, from ``MARIA_TEST_*`` variables.

Without a variable the tests that need the service skip with the reason;
``MARIA_TEST_REQUIRE_SERVICES=1`` (CI) turns the skips into failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from maria.config import normalize_database_url

POSTGRES_URL = os.environ.get("MARIA_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("MARIA_TEST_REDIS_URL")
REQUIRE_SERVICES = os.environ.get("MARIA_TEST_REQUIRE_SERVICES") == "1"


def need_service(name: str, value: str | None) -> str:
    """Return the service URL, or skip (fail under MARIA_TEST_REQUIRE_SERVICES=1)."""
    if value:
        return value
    reason = f"{name} not set: this test needs a real service"
    if REQUIRE_SERVICES:
        pytest.fail(f"MARIA_TEST_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def flushed_redis() -> str:
    """The test Redis's URL, its database emptied first (skips without one)."""
    url = need_service("MARIA_TEST_REDIS_URL", REDIS_URL)
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


async def pg(url: str, *statements: str) -> None:
    """Run statements on a Postgres server (asyncpg, outside Maria)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def plain_pg(url: str) -> str:
    """A Postgres URL as asyncpg takes it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def truncate_postgres(url: str) -> None:
    from maria.db import Base
    from maria.models import load_all

    load_all()
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    asyncio.run(pg(plain_pg(url), f"TRUNCATE {tables} CASCADE"))


@contextlib.contextmanager
def fresh_postgres(prefix: str = "maria_rooms") -> Iterator[str]:
    """An empty Postgres database of its own (servers migrate it when they start)."""
    base = need_service("MARIA_TEST_POSTGRES_URL", POSTGRES_URL)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = plain_pg(normalize_database_url(base))
    asyncio.run(pg(admin, f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(normalize_database_url(base)).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        asyncio.run(pg(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
