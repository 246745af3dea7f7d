"""Two real ``maria serve`` processes sharing one database (and Redis when configured).

What one instance does must be seen by the other: revocation (logout, ending a session,
disabling a user), profile changes behind the user cache, and the login rate-limit counts.
Cross-instance effects are awaited by bounded polling; the observed delay is printed
(run with ``-s`` to see it) but never asserted, since wall time is not a contract.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import ME, PASSWORD, TEST_SECRET, assert_error, bearer, register
from tests.support.servers import CHEAP_HASHING, MARIA, Server, converge, maria_env, started
from tests.support.services import truncate_postgres

# -- probes ---------------------------------------------------------------------------


def refused(client: httpx.AsyncClient, session: dict[str, Any], path: str = ME) -> Any:
    """A probe: true once ``session``'s access token is refused with 401 invalid_token."""

    async def probe() -> bool:
        response = await client.get(path, headers=bearer(session))
        if response.status_code == 200:
            return False
        assert_error(response, 401, "invalid_token")
        return True

    return probe


async def login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **kwargs: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, **kwargs
    )


async def login_ok(client: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await login(client, email)
    assert response.status_code == 200, response.text
    session: dict[str, Any] = response.json()
    return session


# -- fixtures -------------------------------------------------------------------------


@pytest.fixture
def shared_env(postgres_database: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """Environment for servers that share the test Postgres database and Redis."""
    truncate_postgres(postgres_database)
    return maria_env(
        MARIA_DATABASE_URL=postgres_database,
        MARIA_REDIS_URL=redis_url,
        MARIA_SECRET_KEY=TEST_SECRET,
        MARIA_DATA_DIR=str(tmp_path / "data"),
        MARIA_TRUSTED_PROXIES="127.0.0.1",  # the tests play clients behind a local proxy
        **CHEAP_HASHING,
    )


@pytest.fixture
def pg_pair(shared_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    with ExitStack() as stack:
        a = Server("A", shared_env, tmp_path)
        b = Server("B", shared_env, tmp_path)
        stack.callback(a.stop)
        stack.callback(b.stop)
        a.spawn()
        b.spawn()  # start both at once: the database is migrated already
        for server in (a, b):
            try:
                server.wait_healthy()
            except AssertionError:
                if "address already in use" not in server.log().lower():
                    raise
                server.stop()
                server.start()
        yield a, b


@pytest.fixture
async def clients(
    pg_pair: tuple[Server, Server],
) -> Any:
    a, b = pg_pair
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as ca,
        httpx.AsyncClient(base_url=b.url, timeout=10) as cb,
    ):
        yield ca, cb


Clients = tuple[httpx.AsyncClient, httpx.AsyncClient]


# -- Postgres + Redis -----------------------------------------------------------------


async def test_token_from_one_instance_works_on_the_other(clients: Clients) -> None:
    a, b = clients
    session = await register(a)
    me = await b.get(ME, headers=bearer(session))
    assert me.status_code == 200, me.text
    assert me.json() == session["user"]
    # Refresh on B with A's refresh token: one database, one session.
    refreshed = await b.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["refresh_token"] != session["refresh_token"]
    assert (await a.get(ME, headers=bearer(refreshed.json()))).status_code == 200


async def test_local_logout_on_a_is_refused_on_b(clients: Clients) -> None:
    a, b = clients
    session = await register(a)
    other = await login_ok(a, session["user"]["email"])  # a second session of the same user
    assert (await b.get(ME, headers=bearer(session))).status_code == 200  # B knows the token

    response = await a.post("/api/v1/auth/logout", json={"scope": "local"}, headers=bearer(session))
    assert response.status_code == 204, response.text
    assert_error(await a.get(ME, headers=bearer(session)), 401, "invalid_token")  # at once on A
    await converge("logout local on A -> refused on B (Redis)", refused(b, session), within=3)

    # Only that session ended: the user's other session still works on both instances.
    for client in (a, b):
        assert (await client.get(ME, headers=bearer(other))).status_code == 200
    # And its refresh token is dead too, on the other instance.
    assert_error(
        await b.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}),
        401,
        "invalid_token",
    )


async def test_global_logout_on_b_ends_sessions_created_on_a(clients: Clients) -> None:
    a, b = clients
    first = await register(a)
    email = first["user"]["email"]
    second = await login_ok(a, email)
    on_b = await login_ok(b, email)
    stranger = await register(a)  # another user: must not be affected
    for session in (first, second):
        assert (await b.get(ME, headers=bearer(session))).status_code == 200
        assert (await a.get(ME, headers=bearer(session))).status_code == 200

    response = await b.post("/api/v1/auth/logout", json={"scope": "global"}, headers=bearer(on_b))
    assert response.status_code == 204, response.text

    assert_error(await b.get(ME, headers=bearer(on_b)), 401, "invalid_token")
    await converge("logout global on B -> 1st A session refused on A", refused(a, first), 3)
    await converge("logout global on B -> 2nd A session refused on A", refused(a, second), 3)
    assert_error(await a.get(ME, headers=bearer(on_b)), 401, "invalid_token")
    for session in (first, second):
        assert_error(
            await a.post("/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}),
            401,
            "invalid_token",
        )
    for client in (a, b):
        assert (await client.get(ME, headers=bearer(stranger))).status_code == 200


async def test_deleting_a_session_on_b_ends_it_on_a(clients: Clients) -> None:
    a, b = clients
    keeper = await register(a)
    email = keeper["user"]["email"]
    doomed = await login_ok(a, email)
    assert (await a.get(ME, headers=bearer(doomed))).status_code == 200

    listed = await b.get("/api/v1/auth/sessions", headers=bearer(keeper))
    assert listed.status_code == 200, listed.text
    others = [s for s in listed.json() if not s["current"]]
    assert len(others) == 1 and len(listed.json()) == 2, listed.json()

    response = await b.delete(f"/api/v1/auth/sessions/{others[0]['id']}", headers=bearer(keeper))
    assert response.status_code == 204, response.text
    await converge("DELETE session on B -> refused on A", refused(a, doomed), within=3)
    for client in (a, b):
        assert (await client.get(ME, headers=bearer(keeper))).status_code == 200
    remaining = await a.get("/api/v1/auth/sessions", headers=bearer(keeper))
    assert [s["current"] for s in remaining.json()] == [True]


async def test_profile_change_on_a_is_seen_on_b(clients: Clients) -> None:
    a, b = clients
    session = await register(a, display_name="Before")
    for client in (a, b):  # both instances cache the user now
        assert (await client.get(ME, headers=bearer(session))).json()["display_name"] == "Before"

    response = await a.patch(ME, json={"display_name": "After"}, headers=bearer(session))
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "After"

    async def b_sees_it() -> bool:
        me = await b.get(ME, headers=bearer(session))
        assert me.status_code == 200, me.text
        return bool(me.json()["display_name"] == "After")

    await converge("PATCH /users/me on A -> GET on B (Redis)", b_sees_it, within=3)


async def test_login_failure_counts_are_shared(clients: Clients) -> None:
    a, b = clients
    email = (await register(a))["user"]["email"]
    a.cookies.clear()  # no device cookie: an unknown client, held to the pair's limit
    for _ in range(5):
        assert_error(await login(a, email, "wrong password!"), 401, "invalid_credentials")

    # B has seen none of those failures itself, yet blocks the pair, even the right password.
    blocked = await login(b, email)
    assert_error(blocked, 429, "rate_limited")
    assert int(blocked.headers["Retry-After"]) > 0
    assert_error(await login(a, email), 429, "rate_limited")

    # Not a lockout: the owner from another address (a clean pair) signs in on either.
    for client in (a, b):
        response = await login(client, email, headers={"X-Forwarded-For": "198.51.100.23"})
        assert response.status_code == 200, response.text


@pytest.fixture
def admin_email(shared_env: dict[str, str], tmp_path: Path) -> str:
    """An admin made by ``maria create-admin`` in the servers' database."""
    email = f"admin-{secrets.token_hex(3)}@example.com"
    created = subprocess.run(
        [str(MARIA), "create-admin", "--email", email, "--password-stdin"],
        input=f"{PASSWORD}\n",
        env=shared_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stderr
    return email


async def test_disabling_a_user_on_a_ends_their_tokens_on_b(
    clients: Clients, admin_email: str
) -> None:
    a, b = clients
    admin = await login_ok(a, admin_email)
    assert admin["user"]["role"] == "admin"

    victim = await register(b)
    victim_id = victim["user"]["id"]
    for client in (a, b):
        assert (await client.get(ME, headers=bearer(victim))).status_code == 200

    response = await a.patch(
        f"/api/v1/admin/users/{victim_id}", json={"disabled": True}, headers=bearer(admin)
    )
    assert response.status_code == 200, response.text
    assert response.json()["disabled"] is True

    # /auth/sessions checks only the token (no user read): the session itself is revoked.
    await converge(
        "disable on A -> token refused on B (Redis)",
        refused(b, victim, "/api/v1/auth/sessions"),
        within=3,
    )
    assert_error(await b.get(ME, headers=bearer(victim)), 401, "invalid_token")
    assert_error(
        await b.post("/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]}),
        401,
        "invalid_token",
    )
    assert (await login(b, victim["user"]["email"])).status_code == 403
    assert (await b.get(ME, headers=bearer(admin))).status_code == 200


# -- SQLite, no Redis: two processes on one file converge by polling the database -------


@pytest.fixture
def sqlite_pair(tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    data = tmp_path / "data"
    env = maria_env(MARIA_SECRET_KEY=TEST_SECRET, MARIA_DATA_DIR=str(data), **CHEAP_HASHING)
    with ExitStack() as stack:
        a = started(stack, "sqlite-A", env, tmp_path)  # migrates the new file first
        b = started(stack, "sqlite-B", env, tmp_path)
        assert (data / "maria.db").is_file()
        yield a, b


@pytest.fixture
async def sqlite_clients(sqlite_pair: tuple[Server, Server]) -> Any:
    a, b = sqlite_pair
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as ca,
        httpx.AsyncClient(base_url=b.url, timeout=10) as cb,
    ):
        yield ca, cb


async def test_sqlite_without_redis_revocation_converges_by_polling(
    sqlite_clients: Clients,
) -> None:
    a, b = sqlite_clients
    session = await register(a)
    other = await login_ok(b, session["user"]["email"])
    assert (await b.get(ME, headers=bearer(session))).status_code == 200

    response = await a.post("/api/v1/auth/logout", json={"scope": "local"}, headers=bearer(session))
    assert response.status_code == 204
    assert_error(await a.get(ME, headers=bearer(session)), 401, "invalid_token")
    await converge("logout on A -> refused on B (SQLite poll)", refused(b, session), within=5)
    assert (await b.get(ME, headers=bearer(other))).status_code == 200

    # The other direction, through DELETE of a session.
    listed = (await a.get("/api/v1/auth/sessions", headers=bearer(other))).json()
    assert [s["current"] for s in listed] == [True]
    third = await login_ok(a, session["user"]["email"])
    assert (await a.get(ME, headers=bearer(third))).status_code == 200
    sid = next(
        s["id"]
        for s in (await b.get("/api/v1/auth/sessions", headers=bearer(other))).json()
        if not s["current"]
    )
    assert (
        await b.delete(f"/api/v1/auth/sessions/{sid}", headers=bearer(other))
    ).status_code == 204
    await converge("DELETE session on B -> refused on A (SQLite poll)", refused(a, third), 5)


async def test_sqlite_without_redis_profile_change_converges(sqlite_clients: Clients) -> None:
    a, b = sqlite_clients
    session = await register(a, display_name="Before")
    assert (await b.get(ME, headers=bearer(session))).json()["display_name"] == "Before"
    assert (await a.patch(ME, json={"display_name": "After"}, headers=bearer(session))).is_success

    async def b_sees_it() -> bool:
        return bool((await b.get(ME, headers=bearer(session))).json()["display_name"] == "After")

    await converge("PATCH on A -> GET on B (SQLite poll)", b_sees_it, within=5)


async def test_deleting_an_account_on_a_ends_its_tokens_on_b(clients: Clients) -> None:
    a, b = clients
    session = await register(a)
    assert (await b.get("/api/v1/users/me/lists", headers=bearer(session))).status_code == 200
    response = await a.request("DELETE", ME, json={"password": PASSWORD}, headers=bearer(session))
    assert response.status_code == 204, response.text
    probe = refused(b, session, "/api/v1/users/me/lists")  # a route that reads no user row
    await converge("account deleted on A -> token refused on B", probe, within=3)


async def test_sqlite_without_redis_a_deleted_accounts_tokens_converge(
    sqlite_clients: Clients,
) -> None:
    """The session rows go with the account; the revocations stay where B's poll reads."""
    a, b = sqlite_clients
    session = await register(a)
    assert (await b.get("/api/v1/users/me/lists", headers=bearer(session))).status_code == 200
    response = await a.request("DELETE", ME, json={"password": PASSWORD}, headers=bearer(session))
    assert response.status_code == 204, response.text
    probe = refused(b, session, "/api/v1/users/me/lists")
    await converge("account deleted on A -> token refused on B (SQLite poll)", probe, within=5)
