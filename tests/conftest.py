"""Shared fixtures: real SQLite and (when configured) real Postgres and Redis, and the app.

``MARIA_TEST_POSTGRES_URL`` / ``MARIA_TEST_REDIS_URL`` enable the service-backed variants;
without them those tests skip with the reason, and ``MARIA_TEST_REQUIRE_SERVICES=1`` (CI)
turns the skips into failures. Helpers live in ``tests/support``.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from maria.config import Settings, normalize_database_url
from maria.migrate import upgrade
from tests.support.app import client_of, make_settings, running
from tests.support.mail import PUBLIC_URL, MailSink
from tests.support.services import (
    POSTGRES_URL,
    flushed_redis,
    need_service,
    pg,
    plain_pg,
    truncate_postgres,
)

# -- databases ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated Postgres database for this test run, dropped afterwards."""
    base = need_service("MARIA_TEST_POSTGRES_URL", POSTGRES_URL)
    name = f"maria_test_{secrets.token_hex(4)}"
    admin = plain_pg(normalize_database_url(base))
    asyncio.run(pg(admin, f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_database_url(base)).set(database=name)
    rendered = url.render_as_string(hide_password=False)
    try:
        upgrade(rendered)
        yield rendered
    finally:
        asyncio.run(pg(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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
    yield flushed_redis()


# -- the app --------------------------------------------------------------------------


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    async with running(settings) as application:
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as c:
        yield c


# -- mail -----------------------------------------------------------------------------


@pytest.fixture
def sink() -> Iterator[MailSink]:
    """A real SMTP server (aiosmtpd) keeping what it receives."""
    server = MailSink().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def mail_app(database_url: str, tmp_path: Path, sink: MailSink) -> AsyncIterator[Any]:
    """The app, mailing to ``sink``; links point to ``PUBLIC_URL``."""
    settings = make_settings(database_url, tmp_path, smtp_url=sink.url, public_url=PUBLIC_URL)
    async with running(settings) as application:
        yield application


@pytest.fixture
async def mail_client(mail_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(mail_app) as c:
        yield c
