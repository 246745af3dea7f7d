"""Redis away under running ``maria serve`` processes: down at start, stopped later,
restarted. Maria serves on with in-process limits, revocations from the database poll and
local room fan-out; it says so once in its log and in ``/readyz``, and resumes when Redis is
back. The Redis is the test's own ``redis-server``: never the shared one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
import redis

from tests.support.api import ME, PASSWORD, assert_error, bearer
from tests.support.faults import RedisServer
from tests.support.rooms import Api, Peer, server_env
from tests.support.servers import Server, started
from tests.support.services import fresh_postgres

DOWN_LINE = "redis unavailable"
BACK_LINE = "redis is back"


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database() -> Iterator[str]:
    with fresh_postgres("maria_redis_faults") as url:
        yield url


def two_servers(
    stack: ExitStack, tmp_path: Path, database: str, redis_url: str
) -> tuple[Server, Server]:
    env = server_env(tmp_path / "data", MARIA_DATABASE_URL=database, MARIA_REDIS_URL=redis_url)
    return started(stack, "A", env, tmp_path), started(stack, "B", env, tmp_path)


async def readiness(client: httpx.AsyncClient, base: str) -> dict[str, str]:
    response = await client.get(f"{base}/readyz")
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def until_redis(client: httpx.AsyncClient, base: str, state: str) -> None:
    for _ in range(100):  # the probe pings every second
        if (await readiness(client, base)).get("redis") == state:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{base}: redis never {state}")


async def serves_everything(api: Api, base: str) -> dict[str, object]:
    """Sign-up, sign-in, refresh, profile, a room: all answered, none with a 500."""
    client = api.client
    session = await api.user("Ann")
    login = {"email": session["user"]["email"], "password": PASSWORD}
    response = await client.post(f"{base}/api/v1/auth/login", json=login)
    assert response.status_code == 200, response.text
    signed_in = response.json()
    refresh = {"refresh_token": signed_in["refresh_token"]}
    response = await client.post(f"{base}/api/v1/auth/refresh", json=refresh)
    assert response.status_code == 200, response.text
    assert (await client.get(f"{base}{ME}", headers=bearer(session))).status_code == 200
    await api.room(session)
    return session


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=15) as client:
        yield client


async def test_redis_down_at_start_serves_on_and_catches_up(
    tmp_path: Path, database: str, redis_server: RedisServer, http: httpx.AsyncClient
) -> None:
    with ExitStack() as stack:  # Redis is not running yet: its port is closed
        a, b = two_servers(stack, tmp_path, database, redis_server.url)
        api = Api(http)
        http.base_url = httpx.URL(a.url)
        for _ in range(3):
            await serves_everything(api, a.url)
        assert (await readiness(http, a.url)) == {"status": "ready", "redis": "degraded"}
        # In-process limits while Redis is away: the pair limit still holds on one instance.
        session = await api.user("Bob")
        wrong = {"email": session["user"]["email"], "password": "wrong password here"}
        statuses = [
            (await http.post(f"{a.url}/api/v1/auth/login", json=wrong)).status_code
            for _ in range(7)
        ]
        assert statuses[-1] == 429, statuses
        # A logout on A reaches B through the database poll.
        assert (await http.get(f"{b.url}{ME}", headers=bearer(session))).status_code == 200
        await http.post(f"{a.url}/api/v1/auth/logout", headers=bearer(session))
        for _ in range(50):
            response = await http.get(f"{b.url}{ME}", headers=bearer(session))
            if response.status_code == 401:
                break
            await asyncio.sleep(0.1)
        assert_error(response, 401, "invalid_token")

        redis_server.start()
        await until_redis(http, a.url, "ok")
        await until_redis(http, b.url, "ok")
        session = await serves_everything(api, a.url)
        shared = redis.Redis.from_url(redis_server.url)
        try:  # the limits count in Redis again
            assert shared.keys("maria:rl:*"), "no shared counter after Redis came back"
        finally:
            shared.close()
        for server in (a, b):  # one line when it went, one when it came back
            log = server.log()
            assert log.count(DOWN_LINE) == 1, log
            assert log.count(BACK_LINE) == 1, log
            assert "Traceback" not in log, log


async def test_redis_stopped_later_then_restarted(
    tmp_path: Path, database: str, redis_server: RedisServer, http: httpx.AsyncClient
) -> None:
    redis_server.start()
    with ExitStack() as stack:
        a, b = two_servers(stack, tmp_path, database, redis_server.url)
        api = Api(http)
        http.base_url = httpx.URL(a.url)
        ann, bob = await api.user("Ann"), await api.user("Bob")
        room = await api.room(ann)
        pa = await Peer.open(a.url, room["id"], ann["access_token"])
        pb = await Peer.open(a.url, room["id"], bob["access_token"])
        await pa.expect("presence", user_id=bob["user"]["id"])
        assert (await readiness(http, a.url))["redis"] == "ok"

        redis_server.stop()
        for _ in range(5):
            await serves_everything(api, a.url)
        await until_redis(http, a.url, "degraded")
        # Room fan-out on this instance goes on without Redis.
        await pa.send({"type": "chat", "text": "still here?"})
        await pb.expect("chat", text="still here?")
        await pa.expect("chat", text="still here?")

        redis_server.start()
        await until_redis(http, a.url, "ok")
        await until_redis(http, b.url, "ok")
        await pb.send({"type": "chat", "text": "and back"})
        await pa.expect("chat", text="and back")
        # The other instance catches up: it sees both of them in the room again.
        want = {ann["user"]["id"], bob["user"]["id"]}
        for _ in range(100):
            response = await http.get(f"{b.url}/api/v1/rooms/{room['id']}", headers=bearer(ann))
            online = {m["user_id"] for m in response.json()["members"]}
            if want <= online:
                break
            await asyncio.sleep(0.1)
        assert want <= online, response.text
        cat = await api.user("Cat")
        pc = await Peer.open(b.url, room["id"], cat["access_token"])
        assert want <= {m["user_id"] for m in pc.welcome["members"]}, pc.welcome
        for peer in (pa, pb, pc):
            await peer.close()
        for server in (a, b):
            log = server.log()
            assert log.count(DOWN_LINE) == 1, log
            assert "Traceback" not in log, log


async def test_a_restarted_redis_costs_no_request_an_error(
    tmp_path: Path, database: str, redis_server: RedisServer, http: httpx.AsyncClient
) -> None:
    redis_server.start()
    with ExitStack() as stack:
        env = server_env(
            tmp_path / "data", MARIA_DATABASE_URL=database, MARIA_REDIS_URL=redis_server.url
        )
        a = started(stack, "A", env, tmp_path)
        api = Api(http)
        http.base_url = httpx.URL(a.url)
        for _ in range(3):  # the pool holds connections to the Redis about to go
            await serves_everything(api, a.url)
        redis_server.stop()
        redis_server.start()  # same port, empty: every pooled connection is dead
        for _ in range(3):  # a dead pooled connection is retried once on a new one
            await serves_everything(api, a.url)
        await until_redis(http, a.url, "ok")
        await serves_everything(api, a.url)
        assert "Traceback" not in a.log()
        shared = redis.Redis.from_url(redis_server.url)
        try:
            assert shared.keys("maria:rl:*"), "the sign-in did not count in the new Redis"
        finally:
            shared.close()
