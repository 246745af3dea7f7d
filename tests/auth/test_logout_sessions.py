"""Logout scopes and the device-session list: what still works afterwards, and what not."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD, assert_error, bearer, register
from tests.support.app import client_of

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
REFRESH = "/api/v1/auth/refresh"
SESSIONS = "/api/v1/auth/sessions"
ME = "/api/v1/users/me"


async def login(client: httpx.AsyncClient, email: str, user_agent: str = "test") -> dict[str, Any]:
    response = await client.post(
        LOGIN, json={"email": email, "password": PASSWORD}, headers={"User-Agent": user_agent}
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def works(client: httpx.AsyncClient, session: dict[str, Any]) -> bool:
    """Whether the session's access token is accepted (a refusal must be invalid_token)."""
    response = await client.get(ME, headers=bearer(session))
    if response.status_code == 200:
        return True
    assert_error(response, 401, "invalid_token")
    return False


async def refresh_works(client: httpx.AsyncClient, session: dict[str, Any]) -> bool:
    response = await client.post(REFRESH, json={"refresh_token": session["refresh_token"]})
    if response.status_code == 200:
        return True
    assert_error(response, 401, "invalid_token")
    return False


async def three_devices(client: httpx.AsyncClient) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One user signed in on three devices, and a bystander."""
    email = f"multi-{uuid.uuid4().hex[:8]}@example.com"
    devices = [await register(client, email=email)]
    devices += [await login(client, email, f"device-{i}") for i in (1, 2)]
    bystander = await register(client)
    return devices, bystander


# -- logout -----------------------------------------------------------------------------


async def test_logout_local_ends_only_this_session(client: httpx.AsyncClient) -> None:
    (a, b, c), bystander = await three_devices(client)
    response = await client.post(LOGOUT, json={"scope": "local"}, headers=bearer(a))
    assert response.status_code == 204 and response.content == b""
    assert not await works(client, a)
    assert not await refresh_works(client, a)
    assert await works(client, b) and await works(client, c)
    assert await works(client, bystander)
    assert await refresh_works(client, b)


async def test_logout_defaults_to_local(client: httpx.AsyncClient) -> None:
    (a, b, _), _ = await three_devices(client)
    assert (await client.post(LOGOUT, headers=bearer(a))).status_code == 204
    assert not await works(client, a)
    assert await works(client, b)


async def test_logout_others_keeps_only_this_session(client: httpx.AsyncClient) -> None:
    (a, b, c), bystander = await three_devices(client)
    response = await client.post(LOGOUT, json={"scope": "others"}, headers=bearer(b))
    assert response.status_code == 204
    assert await works(client, b)
    assert not await works(client, a) and not await works(client, c)
    assert not await refresh_works(client, a) and not await refresh_works(client, c)
    assert await works(client, bystander)
    assert await refresh_works(client, b)
    listed = (await client.get(SESSIONS, headers=bearer(b))).json()
    assert [s["current"] for s in listed] == [True]


async def test_logout_global_ends_every_session(client: httpx.AsyncClient) -> None:
    (a, b, c), bystander = await three_devices(client)
    response = await client.post(LOGOUT, json={"scope": "global"}, headers=bearer(c))
    assert response.status_code == 204
    for device in (a, b, c):
        assert not await works(client, device)
        assert not await refresh_works(client, device)
    assert await works(client, bystander)
    assert await refresh_works(client, bystander)
    # The account itself is fine: signing in again works.
    again = await login(client, b["user"]["email"])
    assert await works(client, again)


async def test_logout_ends_access_tokens_of_earlier_generations_too(
    client: httpx.AsyncClient,
) -> None:
    first = await register(client)
    rotated = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    assert await works(client, first) and await works(client, rotated)
    assert (await client.post(LOGOUT, headers=bearer(rotated))).status_code == 204
    assert not await works(client, first)
    assert not await works(client, rotated)


async def test_logout_twice_and_logout_without_a_token(client: httpx.AsyncClient) -> None:
    session = await register(client)
    assert (await client.post(LOGOUT, headers=bearer(session))).status_code == 204
    assert_error(await client.post(LOGOUT, headers=bearer(session)), 401, "invalid_token")
    client.cookies.clear()
    assert_error(await client.post(LOGOUT), 401, "not_authenticated")


@pytest.mark.parametrize("body", [{"scope": "everything"}, {"scope": 1}, {"scope": None}, [1]])
async def test_logout_with_a_bad_scope_is_422_and_ends_nothing(
    client: httpx.AsyncClient, body: Any
) -> None:
    session = await register(client)
    response = await client.post(LOGOUT, json=body, headers=bearer(session))
    assert_error(response, 422, "validation_error")
    assert await works(client, session)


# -- the session list -------------------------------------------------------------------


async def test_sessions_lists_devices_with_the_current_flag(client: httpx.AsyncClient) -> None:
    email = "lister@example.com"
    first = await register(client, email=email, headers={"User-Agent": "Firefox/128"})
    second = await login(client, email, "Safari/17")
    other = await register(client)

    response = await client.get(SESSIONS, headers=bearer(second))
    assert response.status_code == 200, response.text
    listed = response.json()
    assert len(listed) == 2
    for entry in listed:
        assert set(entry) == {"id", "created_at", "last_used_at", "user_agent", "ip", "current"}
        assert entry["ip"] == "203.0.113.7"
    by_agent = {entry["user_agent"]: entry for entry in listed}
    assert set(by_agent) == {"Firefox/128", "Safari/17"}
    assert by_agent["Safari/17"]["current"] is True
    assert by_agent["Firefox/128"]["current"] is False
    assert by_agent["Safari/17"]["id"] == second["refresh_token"].split(".")[0]

    # Seen from the first device the flag moves; the other user's session never shows.
    from_first = (await client.get(SESSIONS, headers=bearer(first))).json()
    assert {e["user_agent"]: e["current"] for e in from_first} == {
        "Firefox/128": True,
        "Safari/17": False,
    }
    other_id = other["refresh_token"].split(".")[0]
    assert other_id not in {e["id"] for e in listed + from_first}


async def test_sessions_ip_comes_from_the_connection(app: Any, client: httpx.AsyncClient) -> None:
    session = await register(client, email="ip@example.com")
    async with client_of(app, ("198.51.100.9", 1234)) as far:
        await login(far, "ip@example.com", "far-away")
    listed = (await client.get(SESSIONS, headers=bearer(session))).json()
    assert {e["user_agent"]: e["ip"] for e in listed} == {
        "python-httpx/" + httpx.__version__: "203.0.113.7",
        "far-away": "198.51.100.9",
    }


async def test_ended_sessions_leave_the_list(client: httpx.AsyncClient) -> None:
    (a, b, c), _ = await three_devices(client)
    await client.post(LOGOUT, headers=bearer(a))
    ids = {e["id"] for e in (await client.get(SESSIONS, headers=bearer(b))).json()}
    assert ids == {s["refresh_token"].split(".")[0] for s in (b, c)}


async def test_sessions_needs_authentication(client: httpx.AsyncClient) -> None:
    client.cookies.clear()
    assert_error(await client.get(SESSIONS), 401, "not_authenticated")


# -- ending one session -----------------------------------------------------------------


async def test_delete_own_session_ends_it_at_once(client: httpx.AsyncClient) -> None:
    (a, b, c), _ = await three_devices(client)
    b_id = b["refresh_token"].split(".")[0]
    assert await works(client, b)  # b's token was accepted a moment ago
    response = await client.delete(f"{SESSIONS}/{b_id}", headers=bearer(a))
    assert response.status_code == 204 and response.content == b""
    assert not await works(client, b)
    assert not await refresh_works(client, b)
    assert await works(client, a) and await works(client, c)
    ids = {e["id"] for e in (await client.get(SESSIONS, headers=bearer(a))).json()}
    assert b_id not in ids and len(ids) == 2
    # Ending it again: it is no longer a live session.
    assert_error(await client.delete(f"{SESSIONS}/{b_id}", headers=bearer(a)), 404, "not_found")


async def test_delete_current_session_is_allowed(client: httpx.AsyncClient) -> None:
    session = await register(client)
    sid = session["refresh_token"].split(".")[0]
    assert (await client.delete(f"{SESSIONS}/{sid}", headers=bearer(session))).status_code == 204
    assert not await works(client, session)


async def test_delete_another_users_session_is_404_and_harmless(
    client: httpx.AsyncClient,
) -> None:
    mine = await register(client)
    theirs = await register(client)
    their_id = theirs["refresh_token"].split(".")[0]
    response = await client.delete(f"{SESSIONS}/{their_id}", headers=bearer(mine))
    assert_error(response, 404, "not_found")
    assert await works(client, theirs)
    assert await refresh_works(client, theirs)


@pytest.mark.parametrize(
    "session_id",
    [
        str(uuid.uuid4()),
        "not-a-session",
        "x" * 65,
        "x" * 300,
        "%00",
        "%C3%A9",
        "1",
    ],
)
async def test_delete_unknown_session_is_404(client: httpx.AsyncClient, session_id: str) -> None:
    session = await register(client)
    response = await client.delete(f"{SESSIONS}/{session_id}", headers=bearer(session))
    assert_error(response, 404, "not_found")
    assert await works(client, session)


async def test_delete_session_needs_authentication(client: httpx.AsyncClient) -> None:
    session = await register(client)
    client.cookies.clear()
    sid = session["refresh_token"].split(".")[0]
    assert_error(await client.delete(f"{SESSIONS}/{sid}"), 401, "not_authenticated")
    assert await works(client, session)
