"""Units of work and their after-commit effects (``maria.db.Database.work``).

A service's write commits first; what must follow (drop a cache entry, tell the other
instances) runs after the commit, and a failure there is logged with its reason and never
fails the committed request: the write stands and the answer is a success.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from maria.db import Database, make_engine
from maria.users.models import User
from tests.support.api import ME, assert_error, bearer, register
from tests.support.app import reading


@pytest.fixture
async def database(database_url: str) -> Any:
    db = Database(make_engine(database_url))
    yield db
    await db.close()


async def _user_name(database: Database, user_id: str) -> str | None:
    async with database.autocommit() as db:
        name: str | None = (
            await db.execute(select(User.display_name).where(User.id == user_id))
        ).scalar_one_or_none()
        return name


async def test_effects_run_after_the_commit_in_order(
    database: Database, client: httpx.AsyncClient
) -> None:
    user_id = (await register(client, display_name="Before"))["user"]["id"]
    seen: list[tuple[str, str | None]] = []

    async def first() -> None:  # sees the committed row from another connection
        seen.append(("first", await _user_name(database, user_id)))

    async def second() -> None:
        seen.append(("second", await _user_name(database, user_id)))

    async with database.work() as work:
        await work.db.execute(update(User).where(User.id == user_id).values(display_name="After"))
        work.after_commit("first", first)
        work.after_commit("second", second)
        assert seen == []  # not before the commit
    assert seen == [("first", "After"), ("second", "After")]


async def test_no_effects_when_the_work_fails_or_is_discarded(
    database: Database, client: httpx.AsyncClient
) -> None:
    user_id = (await register(client, display_name="Kept"))["user"]["id"]
    ran: list[str] = []

    async def effect() -> None:
        ran.append("ran")

    with pytest.raises(RuntimeError):
        async with database.work() as work:
            await work.db.execute(update(User).where(User.id == user_id).values(display_name="X"))
            work.after_commit("effect", effect)
            raise RuntimeError("boom")
    async with database.work() as work:
        await work.db.execute(update(User).where(User.id == user_id).values(display_name="Y"))
        work.after_commit("effect", effect)
        work.discard()
    assert ran == []
    assert await _user_name(database, user_id) == "Kept"  # both rolled back


async def test_a_failing_effect_is_logged_and_the_rest_still_run(
    database: Database, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    user_id = (await register(client, display_name="Before"))["user"]["id"]
    ran: list[str] = []

    async def broken() -> None:
        raise ConnectionError("broker away")

    async def later() -> None:
        ran.append("later")

    with caplog.at_level(logging.WARNING, logger="maria.db"):
        async with database.work() as work:
            await work.db.execute(
                update(User).where(User.id == user_id).values(display_name="After")
            )
            work.after_commit("the broadcast", broken)
            work.after_commit("the rest", later)
    assert ran == ["later"]
    assert await _user_name(database, user_id) == "After"
    logged = [r.getMessage() for r in caplog.records if r.name == "maria.db"]
    assert logged == [
        "committed, but the broadcast failed (ConnectionError: broker away);"
        " other instances catch up by polling"
    ]


# -- the same rule through HTTP ---------------------------------------------------------


@pytest.fixture
def broken_broker(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every publish on the broker fails from now on (as with Redis gone); the channels
    that were tried."""
    tried: list[str] = []

    async def publish(channel: str, message: str) -> None:
        tried.append(channel)
        raise ConnectionError("Redis is away")

    monkeypatch.setattr(app.state.services.broker, "publish", publish)
    return tried


async def test_committed_writes_succeed_when_the_broker_fails(
    app: Any,
    client: httpx.AsyncClient,
    broken_broker: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    session = await register(client)
    with caplog.at_level(logging.WARNING, logger="maria.db"):
        # A profile change: answered, stored, and seen by this instance at once.
        response = await client.patch(ME, json={"display_name": "Still"}, headers=bearer(session))
        assert response.status_code == 200, response.text
        assert (await client.get(ME, headers=bearer(session))).json()["display_name"] == "Still"
        async with reading(app) as db:
            stored = await db.scalar(
                select(User.display_name).where(User.id == session["user"]["id"])
            )
        assert stored == "Still"
        # A list write, the same.
        lists = "/api/v1/users/me/lists"
        response = await client.put(f"{lists}/favorites/items/7", headers=bearer(session))
        assert response.status_code == 201, response.text
        page = await client.get(f"{lists}/favorites/items", headers=bearer(session))
        assert [i["movie_id"] for i in page.json()["items"]] == [7]
        # A logout: this instance refuses the token at once.
        assert (
            await client.post("/api/v1/auth/logout", headers=bearer(session))
        ).status_code == 204
        assert_error(await client.get(ME, headers=bearer(session)), 401, "invalid_token")
    assert {"maria:users", "maria:lists", "maria:revoked"} <= set(broken_broker)
    failures = [r.getMessage() for r in caplog.records if r.name == "maria.db"]
    assert len(failures) == 3, failures
    assert all("ConnectionError: Redis is away" in line for line in failures)
