"""Shared fixtures: real SQLite and (when configured) real Postgres and Redis.

``MARIA_TEST_POSTGRES_URL`` / ``MARIA_TEST_REDIS_URL`` enable the service-backed variants;
without them those tests skip with the reason, and ``MARIA_TEST_REQUIRE_SERVICES=1`` (CI)
turns the skips into failures.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from maria.app import create_app
from maria.config import Settings, normalize_database_url
from maria.migrate import upgrade

POSTGRES_URL = os.environ.get("MARIA_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("MARIA_TEST_REDIS_URL")
REQUIRE_SERVICES = os.environ.get("MARIA_TEST_REQUIRE_SERVICES") == "1"
TEST_SECRET = "test-secret-" + "k" * 40
PASSWORD = "correct horse battery staple"


def need_service(name: str, value: str | None) -> str:
    """Return the service URL, or skip (fail under MARIA_TEST_REQUIRE_SERVICES=1)."""
    if value:
        return value
    reason = f"{name} not set: this test needs a real service"
    if REQUIRE_SERVICES:
        pytest.fail(f"MARIA_TEST_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


# -- databases ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


async def _pg(url: str, *statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _plain_pg(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated Postgres database for this test run, dropped afterwards."""
    base = need_service("MARIA_TEST_POSTGRES_URL", POSTGRES_URL)
    name = f"maria_test_{secrets.token_hex(4)}"
    admin = _plain_pg(normalize_database_url(base))
    asyncio.run(_pg(admin, f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_database_url(base)).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        upgrade(rendered)
        yield rendered
    finally:
        asyncio.run(_pg(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def truncate_postgres(url: str) -> None:
    from maria.db import Base
    from maria.models import load_all

    load_all()
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    asyncio.run(_pg(_plain_pg(url), f"TRUNCATE {tables} CASCADE"))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every database test runs twice: on SQLite and on Postgres."""
    if request.param == "sqlite":
        path = tmp_path / "maria.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    truncate_postgres(url)
    return url


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis, emptied before the test (tests use their own DB index)."""
    url = need_service("MARIA_TEST_REDIS_URL", REDIS_URL)
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    yield url


# -- the app --------------------------------------------------------------------------


def make_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Test settings: a fixed secret and cheap argon2 (the defaults are tested on their own)."""
    values: dict[str, Any] = {
        "env": "test",
        "secret_key": TEST_SECRET,
        "database_url": database_url,
        "data_dir": data_dir,
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        "password_hash_threads": 2,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def register(
    client: httpx.AsyncClient, email: str | None = None, password: str = PASSWORD, **extra: Any
) -> dict[str, Any]:
    """Register a fresh user and return the Session body."""
    email = email or f"user-{secrets.token_hex(4)}@example.com"
    body = {
        "email": email,
        "password": password,
        "display_name": extra.pop("display_name", "Tester"),
    }
    response = await client.post("/api/v1/auth/register", json=body, **extra)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The contract's error shape, with the expected status and code."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body
