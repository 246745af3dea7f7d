"""Maria in-process: settings for tests, the app with its lifespan, clients for it, and
direct access to its database for set-up and checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession

from maria.app import create_app
from maria.config import Settings
from maria.db import Database
from maria.users.models import User
from tests.support.api import PASSWORD, TEST_SECRET, register
from tests.support.contract import checking

CLIENT = ("203.0.113.7", 50000)  # the address in-process clients connect from


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


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app, started (lifespan) for the block."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def client_of(
    app: Any, address: tuple[str, int] = CLIENT
) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of ``app``, connecting from ``address``; every answer it gets
    must be one the schema declares (``tests/support/contract.py``)."""
    transport = httpx.ASGITransport(app=app, client=address)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        event_hooks={"response": [checking(app)]},
    ) as client:
        yield client


@asynccontextmanager
async def app_and_client(
    settings: Settings, address: tuple[str, int] = CLIENT
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(settings) as app, client_of(app, address) as client:
        yield app, client


@asynccontextmanager
async def transaction(app: Any) -> AsyncIterator[AsyncSession]:
    """A transaction on the app's database, committed at the end of the block: changes made
    behind the services' back (no cache invalidation, no broadcast)."""
    async with app.state.services.database.work() as work:
        yield work.db


def reading(app: Any) -> AsyncSession:
    """An autocommit session on the app's database, for checks."""
    session: AsyncSession = app.state.services.database.autocommit()
    return session


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL statements the calling task runs on any of ``database``'s engines while
    inside. Background work (the caches' and the revocation list's polls, the mail sender)
    runs in tasks of its own and is left out: its timing is not the test's."""
    seen: list[str] = []
    caller = asyncio.current_task()

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if asyncio.current_task() is caller:
            seen.append(sql)

    for engine in database.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in database.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)


async def make_admin(app: Any, client: httpx.AsyncClient) -> dict[str, Any]:
    """Register a user, promote them in the database, and sign in again for an admin token."""
    session = await register(client)
    async with transaction(app) as db:
        await db.execute(update(User).where(User.id == session["user"]["id"]).values(role="admin"))
    await app.state.services.users.cache.changed(session["user"]["id"])
    login = await client.post(
        "/api/v1/auth/login", json={"email": session["user"]["email"], "password": PASSWORD}
    )
    assert login.status_code == 200
    admin: dict[str, Any] = login.json()
    assert admin["user"]["role"] == "admin"
    return admin
