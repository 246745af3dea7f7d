"""Refresh tokens: rotation, reuse detection, the grace window, forgeries, cookie transport."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from maria.auth.models import AuthSession
from maria.db import utcnow
from tests.support.api import assert_error, bearer, register
from tests.support.app import app_and_client, make_settings, reading, transaction

REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"


@asynccontextmanager
async def running(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Any]:
    """An app with settings overrides, and an in-process client for it."""
    async with app_and_client(make_settings(database_url, tmp_path, **overrides)) as (app, c):
        c.app = app  # type: ignore[attr-defined]
        yield c


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": token})


async def session_row(app: Any, sid: str) -> AuthSession:
    async with reading(app) as db:
        row = (await db.execute(select(AuthSession).where(AuthSession.id == sid))).scalar_one()
    return row


def sid_of(refresh_token: str) -> str:
    return refresh_token.split(".")[0]


# -- rotation ---------------------------------------------------------------------------


async def test_refresh_rotates_the_pair(database_url: str, tmp_path: Path) -> None:
    async with running(database_url, tmp_path, refresh_reuse_grace=0) as client:
        first = await register(client)
        response = await refresh(client, first["refresh_token"])
        assert response.status_code == 200, response.text
        second = response.json()
        assert set(second) == set(first)
        assert second["token_type"] == "bearer"
        assert second["user"] == first["user"]
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        # Same session (one device), next link of its chain.
        assert sid_of(second["refresh_token"]) == sid_of(first["refresh_token"])
        assert (await client.get(ME, headers=bearer(second))).status_code == 200

        # The new refresh token rotates again; the stored hash is never the token itself.
        third = (await refresh(client, second["refresh_token"])).json()
        assert third["refresh_token"] not in {first["refresh_token"], second["refresh_token"]}
        row = await session_row(client.app, sid_of(third["refresh_token"]))  # type: ignore[attr-defined]
        assert row.refresh_hash != third["refresh_token"]
        assert third["refresh_token"].split(".")[2] not in (row.refresh_hash or "")

        # A rotated token is refused (no grace here).
        assert_error(await refresh(client, second["refresh_token"]), 401, "invalid_token")


async def test_refresh_updates_last_used_and_keeps_the_session_listing(
    client: httpx.AsyncClient,
) -> None:
    first = await register(client)
    before = (await client.get("/api/v1/auth/sessions", headers=bearer(first))).json()
    second = (await refresh(client, first["refresh_token"])).json()
    after = (await client.get("/api/v1/auth/sessions", headers=bearer(second))).json()
    assert len(before) == len(after) == 1
    assert before[0]["id"] == after[0]["id"]
    assert after[0]["current"] is True
    assert after[0]["last_used_at"] >= before[0]["last_used_at"]


# -- reuse detection --------------------------------------------------------------------


async def test_reuse_after_grace_revokes_the_whole_session(
    database_url: str, tmp_path: Path
) -> None:
    async with running(database_url, tmp_path, refresh_reuse_grace=0) as client:
        victim = await register(client, email="victim@example.com")
        other_device = (
            await client.post(
                LOGIN,
                json={"email": "victim@example.com", "password": "correct horse battery staple"},
            )
        ).json()
        rotated = (await refresh(client, victim["refresh_token"])).json()
        assert (await client.get(ME, headers=bearer(rotated))).status_code == 200

        # The stolen (already rotated) token is presented again.
        assert_error(await refresh(client, victim["refresh_token"]), 401, "invalid_token")

        # The whole session is over: its current refresh token and its access tokens.
        assert_error(await refresh(client, rotated["refresh_token"]), 401, "invalid_token")
        assert_error(await client.get(ME, headers=bearer(rotated)), 401, "invalid_token")
        assert_error(await client.get(ME, headers=bearer(victim)), 401, "invalid_token")
        row = await session_row(client.app, sid_of(rotated["refresh_token"]))  # type: ignore[attr-defined]
        assert row.revoked_at is not None

        # Another session of the same user is not touched.
        assert (await client.get(ME, headers=bearer(other_device))).status_code == 200
        assert (await refresh(client, other_device["refresh_token"])).status_code == 200


async def test_reuse_of_an_older_generation_is_detected_even_inside_the_grace_window(
    client: httpx.AsyncClient,
) -> None:
    """Grace covers only the token rotated last; one two generations back is a theft."""
    first = await register(client)
    second = (await refresh(client, first["refresh_token"])).json()
    third = (await refresh(client, second["refresh_token"])).json()
    assert_error(await refresh(client, first["refresh_token"]), 401, "invalid_token")
    assert_error(await refresh(client, third["refresh_token"]), 401, "invalid_token")
    assert_error(await client.get(ME, headers=bearer(third)), 401, "invalid_token")


async def test_an_expired_session_cannot_be_refreshed(client: httpx.AsyncClient, app: Any) -> None:
    session = await register(client)
    sid = sid_of(session["refresh_token"])
    async with transaction(app) as db:
        await db.execute(
            update(AuthSession)
            .where(AuthSession.id == sid)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert_error(await refresh(client, session["refresh_token"]), 401, "invalid_token")
    listed = await client.get("/api/v1/auth/sessions", headers=bearer(session))
    assert sid not in {s["id"] for s in listed.json()}


async def test_refresh_slides_the_session_expiry(client: httpx.AsyncClient, app: Any) -> None:
    session = await register(client)
    sid = sid_of(session["refresh_token"])
    soon = utcnow() + timedelta(seconds=120)
    async with transaction(app) as db:
        await db.execute(update(AuthSession).where(AuthSession.id == sid).values(expires_at=soon))
    assert (await refresh(client, session["refresh_token"])).status_code == 200
    row = await session_row(app, sid)
    assert row.expires_at > soon + timedelta(days=29)


# -- grace window -----------------------------------------------------------------------


async def test_concurrent_refreshes_get_the_same_pair(client: httpx.AsyncClient) -> None:
    session = await register(client)
    a, b = await asyncio.gather(
        refresh(client, session["refresh_token"]), refresh(client, session["refresh_token"])
    )
    assert a.status_code == 200, a.text
    assert b.status_code == 200, b.text
    pair_a, pair_b = a.json(), b.json()
    assert pair_a["access_token"] == pair_b["access_token"]
    assert pair_a["refresh_token"] == pair_b["refresh_token"]
    assert pair_a["expires_at"] == pair_b["expires_at"]
    assert pair_a["refresh_token"] != session["refresh_token"]
    # The session survived and the shared new token is the live one.
    assert (await client.get(ME, headers=bearer(pair_a))).status_code == 200
    nxt = await refresh(client, pair_a["refresh_token"])
    assert nxt.status_code == 200, nxt.text


async def test_many_concurrent_refreshes_all_get_the_same_pair(client: httpx.AsyncClient) -> None:
    session = await register(client)
    responses = await asyncio.gather(*(refresh(client, session["refresh_token"]) for _ in range(6)))
    assert [r.status_code for r in responses] == [200] * 6, [r.text for r in responses]
    assert len({(r.json()["access_token"], r.json()["refresh_token"]) for r in responses}) == 1
    assert (await client.get(ME, headers=bearer(responses[0].json()))).status_code == 200


async def test_a_late_duplicate_inside_the_grace_window_gets_the_winners_pair(
    client: httpx.AsyncClient,
) -> None:
    session = await register(client)
    winner = (await refresh(client, session["refresh_token"])).json()
    late = await refresh(client, session["refresh_token"])
    assert late.status_code == 200, late.text
    assert late.json()["refresh_token"] == winner["refresh_token"]
    assert late.json()["access_token"] == winner["access_token"]
    assert (await client.get(ME, headers=bearer(winner))).status_code == 200


# -- forged and garbled tokens ----------------------------------------------------------


async def test_forged_and_garbled_refresh_tokens_are_refused_without_harm(
    client: httpx.AsyncClient,
) -> None:
    session = await register(client)
    real = session["refresh_token"]
    sid, generation, mac = real.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    forgeries = [
        "garbage",
        "a.b.c",
        "...",
        f"{sid}.{generation}.{flipped}",  # one character of the MAC changed
        f"{sid}.{generation}.{secrets.token_urlsafe(32)}",
        f"{sid}.1.{mac}",  # the real MAC claimed for the next generation
        f"{sid}.{generation}.{mac}x",
        f"{sid}.{generation}",
        f"{sid}.{generation}.{mac}.x",
        f"{sid}.-1.{mac}",
        f"{sid}.0x0.{mac}",
        f"{sid}.\u0663.{mac}",  # a non-ASCII digit
        f"{sid}.99999999999.{mac}",
        f"{uuid.uuid4()}.0.{mac}",  # another session id
        f"{sid}.{generation}.{'é' * 43}",  # non-ASCII MAC against a real session
        f"{sid}.{generation}.{mac[:-1]}\u00ff",
        "\x00.0.x",
        f"{sid}\x00.0.{mac}",
        "x" * 300,
        session["access_token"],  # an access token is not a refresh token
    ]
    for forged in forgeries:
        assert_error(await refresh(client, forged), 401, "invalid_token")
    # None of that ended the real session.
    assert (await client.get(ME, headers=bearer(session))).status_code == 200
    rotated = await refresh(client, real)
    assert rotated.status_code == 200, rotated.text


@pytest.mark.parametrize(
    "body",
    [{"refresh_token": ""}, {"refresh_token": 5}, {"refresh_token": "x" * 600}, [1], "token"],
)
async def test_malformed_refresh_bodies_are_422(client: httpx.AsyncClient, body: Any) -> None:
    assert_error(await client.post(REFRESH, json=body), 422, "validation_error")


async def test_refresh_token_of_another_secret_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    """Tokens are HMACs under the server secret: another deployment's tokens don't work."""
    async with running(database_url, tmp_path) as client:
        session = await register(client)
    async with running(database_url, tmp_path, secret_key="another-secret-" + "z" * 40) as client:
        assert_error(await refresh(client, session["refresh_token"]), 401, "invalid_token")


# -- cookie transport -------------------------------------------------------------------


async def test_refresh_via_cookie_needs_the_csrf_header(client: httpx.AsyncClient) -> None:
    session = await register(client)  # sets maria_access / maria_refresh / maria_csrf
    csrf = client.cookies["maria_csrf"]
    old_refresh_cookie = client.cookies["maria_refresh"]
    assert old_refresh_cookie == session["refresh_token"]

    assert_error(await client.post(REFRESH), 403, "csrf_failed")
    assert_error(await client.post(REFRESH, headers={"X-CSRF-Token": "nope"}), 403, "csrf_failed")
    assert_error(
        await client.post(REFRESH, headers={"X-CSRF-Token": csrf + "x"}), 403, "csrf_failed"
    )
    # The refused attempts did not rotate anything: the right header works now.
    ok = await client.post(REFRESH, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200, ok.text
    assert ok.json()["refresh_token"] != session["refresh_token"]
    assert client.cookies["maria_refresh"] == ok.json()["refresh_token"]
    assert client.cookies["maria_access"] == ok.json()["access_token"]

    # A body token needs no CSRF header (it is not ambient authority).
    client.cookies.clear()
    by_body = await refresh(client, ok.json()["refresh_token"])
    assert by_body.status_code == 200, by_body.text


async def test_refresh_without_any_token_is_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.post(REFRESH), 401, "not_authenticated")
    assert_error(await client.post(REFRESH, json={}), 401, "not_authenticated")


async def test_a_refused_refresh_cookie_is_cleared(client: httpx.AsyncClient) -> None:
    session = await register(client)
    csrf = client.cookies["maria_csrf"]
    # The session ends elsewhere (e.g. logout on another device): the cookie is now dead.
    logout = await client.post(
        "/api/v1/auth/logout", json={"scope": "global"}, headers=bearer(session)
    )
    assert logout.status_code == 204
    client.cookies.clear()
    # Put the dead cookies back, as a browser that missed the logout answer still has them.
    host = "testserver.local"  # how the cookie jar records cookies of http://testserver
    client.cookies.set("maria_refresh", session["refresh_token"], host, "/api/v1/auth")
    client.cookies.set("maria_csrf", csrf, host, "/")
    response = await client.post(REFRESH, headers={"X-CSRF-Token": csrf})
    assert_error(response, 401, "invalid_token")
    cleared = {}
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        attrs = [a.strip().lower() for a in header.split(";")[1:]]
        cleared[name] = attrs
    assert set(cleared) == {"maria_access", "maria_refresh", "maria_csrf"}, cleared
    for name, attrs in cleared.items():
        assert "max-age=0" in attrs, (name, attrs)
    assert "path=/api/v1/auth" in cleared["maria_refresh"]
    assert not client.cookies.get("maria_refresh")


async def test_a_refused_refresh_body_token_does_not_touch_cookies(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    response = await refresh(client, "garbage")
    assert_error(response, 401, "invalid_token")
    assert "set-cookie" not in response.headers
