"""Two real ``maria serve`` processes: a list change on one is seen by the other's cached
pages, through Redis (Postgres) and by polling (shared SQLite, no Redis).

The servers come from ``tests/test_multiprocess.py``. Convergence is awaited by bounded
polling; the delay is printed (``-s``), never asserted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.api import TEST_SECRET, bearer, register
from tests.support.servers import CHEAP_HASHING, Server, converge, maria_env, started
from tests.support.services import truncate_postgres

Pair = tuple[httpx.AsyncClient, httpx.AsyncClient]


@pytest.fixture(params=["postgres+redis", "sqlite"])
def servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    values = {"MARIA_SECRET_KEY": TEST_SECRET, "MARIA_DATA_DIR": str(tmp_path / "data")}
    if request.param == "postgres+redis":
        url: str = request.getfixturevalue("postgres_database")
        truncate_postgres(url)
        values["MARIA_DATABASE_URL"] = url
        values["MARIA_REDIS_URL"] = request.getfixturevalue("redis_url")
    env = maria_env(**values, **CHEAP_HASHING)
    with ExitStack() as stack:
        a = started(stack, "lists-A", env, tmp_path)  # migrates a new SQLite file first
        b = started(stack, "lists-B", env, tmp_path)
        yield a, b


@pytest.fixture
async def pair(servers: tuple[Server, Server]) -> AsyncIterator[Pair]:
    a, b = servers
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as ca,
        httpx.AsyncClient(base_url=b.url, timeout=10) as cb,
    ):
        yield ca, cb


async def test_a_change_on_one_process_reaches_the_others_cache(
    pair: Pair, servers: tuple[Server, Server]
) -> None:
    a, b = pair
    session = await register(a)
    headers = bearer(session)
    own = "/api/v1/users/me/lists/favorites/items"
    public = f"/api/v1/users/{session['user']['id']}/lists/favorites/items"
    assert (await a.put(f"{own}/1", headers=headers)).status_code == 201
    assert (await a.patch(own[:-6], json={"is_public": True}, headers=headers)).is_success
    for _ in range(2):  # B now holds the page
        assert [i["movie_id"] for i in (await b.get(public)).json()["items"]] == [1]
    kind = "Redis" if "MARIA_REDIS_URL" in servers[0].env else "poll"

    async def b_sees(expected: list[int], path: str = public) -> bool:
        response = await b.get(path, headers=headers if path == own else None)
        if response.status_code != 200:
            return False
        return [i["movie_id"] for i in response.json()["items"]] == expected

    assert (await a.put(f"{own}/2", headers=headers)).status_code == 201
    await converge(f"PUT on A -> B's public page ({kind})", lambda: b_sees([2, 1]), within=5)
    assert (await a.delete(f"{own}/1", headers=headers)).status_code == 204
    await converge(f"DELETE on A -> B's own page ({kind})", lambda: b_sees([2], own), within=5)
    assert (await a.patch(own[:-6], json={"is_public": False}, headers=headers)).is_success

    async def b_hides_it() -> bool:
        return (await b.get(public)).status_code == 404

    await converge(f"unpublish on A -> 404 on B ({kind})", b_hides_it, within=5)
