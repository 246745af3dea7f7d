"""Register, log in (JSON and the OAuth2 form grant), disabled accounts, the password policy."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from maria.auth.passwords import MAX_LENGTH, MIN_LENGTH, common_passwords, password_problem
from maria.db import utcnow
from maria.users.models import User
from tests.support.api import PASSWORD, assert_error, bearer, register
from tests.support.app import reading, transaction

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
USER_FIELDS = {"id", "email", "display_name", "avatar_url", "role", "email_verified", "created_at"}
SESSION_FIELDS = {
    "access_token",
    "token_type",
    "expires_in",
    "expires_at",
    "refresh_token",
    "user",
    "device_token",
}
# Emoji (one code point, four UTF-8 bytes, two UTF-16 units each) in no pattern the policy
# refuses: not repeated, not in a fixed step.
EMOJI = "".join(chr(0x1F600 + (i * 37) % 80) for i in range(129))
# 128 characters of no pattern.
LONG = hashlib.sha256(b"a").hexdigest() + hashlib.sha256(b"b").hexdigest()


def assert_session(body: dict[str, Any], ttl: int = 900) -> None:
    assert set(body) == SESSION_FIELDS, body
    assert body["token_type"] == "bearer"
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2
    assert isinstance(body["refresh_token"], str) and body["refresh_token"]
    assert body["refresh_token"] != body["access_token"]
    assert isinstance(body["expires_in"], int) and isinstance(body["expires_at"], int)
    assert 0 < body["expires_in"] <= ttl
    # expires_at is the unix time at which expires_in runs out (allow clock-second rounding)
    assert abs(body["expires_at"] - (int(time.time()) + body["expires_in"])) <= 2
    assert set(body["user"]) == USER_FIELDS
    assert isinstance(body["device_token"], str) and body["device_token"].startswith("d1.")


# -- register ---------------------------------------------------------------------------


async def test_register_returns_a_signed_in_session(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER,
        json={"email": "  New.User@Example.COM ", "password": PASSWORD, "display_name": "Ann"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert_session(body)
    user = body["user"]
    assert user["email"] == "new.user@example.com"
    assert user["display_name"] == "Ann"
    assert user["role"] == "user"
    assert user["email_verified"] is False
    assert user["avatar_url"] is None
    # The pair works: the access token identifies this user, the refresh token rotates.
    me = await client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json() == user
    refreshed = await client.post(REFRESH, json={"refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["user"]["id"] == user["id"]


async def test_register_never_returns_the_password_or_its_hash(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER, json={"email": "a@example.com", "password": PASSWORD, "display_name": "A"}
    )
    assert response.status_code == 201
    assert PASSWORD not in response.text
    assert "argon2" not in response.text


@pytest.mark.parametrize("second", ["ann@example.com", "ANN@EXAMPLE.COM", " Ann@example.com"])
async def test_duplicate_email_is_409_case_insensitively(
    client: httpx.AsyncClient, app: Any, second: str
) -> None:
    first = await register(client, email="Ann@Example.com")
    response = await client.post(
        REGISTER,
        json={"email": second, "password": "another long secret 42", "display_name": "Impostor"},
    )
    assert_error(response, 409, "conflict")
    # The first account is untouched: its password still works, the second one doesn't.
    ok = await client.post(LOGIN, json={"email": "ann@example.com", "password": PASSWORD})
    assert ok.status_code == 200 and ok.json()["user"] == first["user"]
    assert_error(
        await client.post(
            LOGIN, json={"email": "ann@example.com", "password": "another long secret 42"}
        ),
        401,
        "invalid_credentials",
    )
    async with reading(app) as db:
        emails = list((await db.execute(select(User.email))).scalars())
    assert emails == ["ann@example.com"]


async def test_register_then_register_again_after_conflict_still_works(
    client: httpx.AsyncClient,
) -> None:
    """A conflict must not leave the connection or transaction broken for the next request."""
    await register(client, email="dup@example.com")
    for _ in range(2):
        assert_error(
            await client.post(
                REGISTER,
                json={"email": "dup@example.com", "password": PASSWORD, "display_name": "X"},
            ),
            409,
            "conflict",
        )
    await register(client, email="fresh@example.com")


# -- login ------------------------------------------------------------------------------


async def test_login_returns_a_new_session(client: httpx.AsyncClient) -> None:
    registered = await register(client, email="bob@example.com")
    response = await client.post(LOGIN, json={"email": "BOB@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert_session(body)
    assert body["user"] == registered["user"]
    # A new session: a different pair from registration's, both usable.
    assert body["refresh_token"] != registered["refresh_token"]
    assert body["access_token"] != registered["access_token"]
    for session in (registered, body):
        assert (await client.get(ME, headers=bearer(session))).status_code == 200
    sessions = await client.get("/api/v1/auth/sessions", headers=bearer(body))
    assert len(sessions.json()) == 2


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient) -> None:
    await register(client, email="carol@example.com")
    wrong = await client.post(
        LOGIN, json={"email": "carol@example.com", "password": "not the password 1"}
    )
    unknown = await client.post(
        LOGIN, json={"email": "nobody@example.com", "password": "not the password 1"}
    )
    body = assert_error(wrong, 401, "invalid_credentials")
    assert assert_error(unknown, 401, "invalid_credentials") == body
    assert wrong.content == unknown.content
    assert "set-cookie" not in wrong.headers and "set-cookie" not in unknown.headers
    # Nothing in the headers tells them apart either.
    ignore = {"date", "content-length", "x-request-id"}  # the last: new for every request
    assert {k: v for k, v in wrong.headers.items() if k not in ignore} == {
        k: v for k, v in unknown.headers.items() if k not in ignore
    }


async def test_login_is_case_sensitive_on_the_password(client: httpx.AsyncClient) -> None:
    await register(client, email="dave@example.com")
    assert_error(
        await client.post(LOGIN, json={"email": "dave@example.com", "password": PASSWORD.upper()}),
        401,
        "invalid_credentials",
    )


async def test_token_endpoint_is_an_oauth2_password_grant(client: httpx.AsyncClient) -> None:
    registered = await register(client, email="erin@example.com")
    response = await client.post(TOKEN, data={"username": "Erin@Example.com", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "device_token",
    }
    assert body["device_token"].startswith("d1.")
    assert body["token_type"] == "bearer"
    assert 0 < body["expires_in"] <= 900
    me = await client.get(ME, headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["id"] == registered["user"]["id"]
    refreshed = await client.post(REFRESH, json={"refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 200

    assert_error(
        await client.post(TOKEN, data={"username": "erin@example.com", "password": "wrong one 1"}),
        401,
        "invalid_credentials",
    )
    # The grant takes a form, not JSON, and both fields.
    assert_error(
        await client.post(TOKEN, json={"username": "erin@example.com", "password": PASSWORD}),
        422,
        "validation_error",
    )
    assert_error(
        await client.post(TOKEN, data={"username": "erin@example.com"}), 422, "validation_error"
    )


# -- disabled accounts ------------------------------------------------------------------


async def _set_disabled(app: Any, user_id: str, disabled: bool, *, revoke: bool) -> None:
    services = app.state.services
    async with transaction(app) as db:
        await db.execute(
            update(User).where(User.id == user_id).values(disabled=disabled, updated_at=utcnow())
        )
    await services.users.cache.changed(user_id)
    if revoke:
        await services.auth.revoke_user_sessions(user_id)


async def test_disabled_user_cannot_log_in(client: httpx.AsyncClient, app: Any) -> None:
    session = await register(client, email="frank@example.com")
    await _set_disabled(app, session["user"]["id"], True, revoke=True)

    refused = await client.post(LOGIN, json={"email": "frank@example.com", "password": PASSWORD})
    assert_error(refused, 403, "forbidden")
    assert "set-cookie" not in refused.headers
    assert_error(
        await client.post(TOKEN, data={"username": "frank@example.com", "password": PASSWORD}),
        403,
        "forbidden",
    )
    # A wrong password tells nothing about the account's state.
    assert_error(
        await client.post(LOGIN, json={"email": "frank@example.com", "password": "wrong one 1"}),
        401,
        "invalid_credentials",
    )
    # Its existing tokens are dead too.
    assert_error(await client.get(ME, headers=bearer(session)), 401, "invalid_token")
    assert_error(
        await client.post(REFRESH, json={"refresh_token": session["refresh_token"]}),
        401,
        "invalid_token",
    )

    # Enabled again: the password works again (and earlier sessions stay ended).
    await _set_disabled(app, session["user"]["id"], False, revoke=False)
    again = await client.post(LOGIN, json={"email": "frank@example.com", "password": PASSWORD})
    assert again.status_code == 200, again.text
    assert (await client.get(ME, headers=bearer(again.json()))).status_code == 200
    assert_error(await client.get(ME, headers=bearer(session)), 401, "invalid_token")


async def test_disabled_user_cannot_refresh_even_before_sessions_are_revoked(
    client: httpx.AsyncClient, app: Any
) -> None:
    session = await register(client, email="gina@example.com")
    await _set_disabled(app, session["user"]["id"], True, revoke=False)
    assert_error(
        await client.post(REFRESH, json={"refresh_token": session["refresh_token"]}),
        401,
        "invalid_token",
    )
    # /users/me reads the (invalidated) cached user and refuses a disabled account.
    assert_error(await client.get(ME, headers=bearer(session)), 401, "invalid_token")


# -- password policy --------------------------------------------------------------------


def test_the_common_password_list_is_shipped_and_complete() -> None:
    common = common_passwords()
    assert len(common) == 10_000
    for word in ("password", "12345678", "password123", "qwertyuiop"):
        assert word in common


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("kq8#zLw", False),  # 7
        ("kq8#zLw2", True),  # 8
        (LONG, True),  # 128
        (LONG + "q", False),  # 129
        (EMOJI[:7], False),  # 7 code points, 28 bytes
        (EMOJI[:8], True),  # 8 code points (16 UTF-16 units, 32 bytes)
        (EMOJI[:128], True),  # 128 code points, 512 bytes
        (EMOJI, False),  # 129
        ("password123", False),
        ("PassWord123", False),  # the list is matched case-insensitively
        ("qwertyuiop", False),
        ("12345678", False),
        ("        ", False),  # repetitive (see test_password_policy.py)
        ("kq8 zL w", True),  # no composition rules: spaces are characters like any other
        ("correct horse battery staple", True),
    ],
)
def test_password_policy(password: str, accepted: bool) -> None:
    assert (password_problem(password) is None) is accepted
    assert MIN_LENGTH == 8 and MAX_LENGTH == 128


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        ("kq8#zLw", False),
        ("kq8#zLw2", True),
        (LONG, True),
        (LONG + "z", False),
        (EMOJI[:8], True),
        (EMOJI[:7], False),
        ("password123", False),
        ("qwertyuiop", False),
    ],
)
async def test_register_applies_the_password_policy(
    client: httpx.AsyncClient, password: str, accepted: bool
) -> None:
    email = "policy@example.com"
    response = await client.post(
        REGISTER, json={"email": email, "password": password, "display_name": "P"}
    )
    if not accepted:
        body = assert_error(response, 422, "validation_error")
        assert body["error"]["details"][0]["loc"] == ["body", "password"]
        assert password not in response.text  # the refused password is never echoed
        # Nothing was created: the email is still free.
        await register(client, email=email)
        return
    assert response.status_code == 201, response.text
    login = await client.post(LOGIN, json={"email": email, "password": password})
    assert login.status_code == 200, login.text


async def test_register_with_a_10000_character_password_is_a_4xx(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        REGISTER, json={"email": "long@example.com", "password": "x" * 10_000, "display_name": "L"}
    )
    assert_error(response, 422, "validation_error")
    response = await client.post(
        LOGIN, json={"email": "long@example.com", "password": "x" * 10_000}
    )
    assert_error(response, 422, "validation_error")


# -- inputs the database cannot store ---------------------------------------------------


async def test_login_with_a_nul_byte_in_the_email_is_422(client: httpx.AsyncClient) -> None:
    """Postgres refuses NUL in text: the lookup must not reach it (it was a 500)."""
    await register(client, email="nul@example.com")
    for email in ("nul\x00@example.com", "\x00", "nul@example.com\x00"):
        assert_error(
            await client.post(LOGIN, json={"email": email, "password": PASSWORD}),
            422,
            "validation_error",
        )
        assert_error(
            await client.post(TOKEN, data={"username": email, "password": PASSWORD}),
            422,
            "validation_error",
        )
    assert (
        await client.post(LOGIN, json={"email": "nul@example.com", "password": PASSWORD})
    ).status_code == 200


async def test_register_with_a_nul_byte_in_the_email_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER, json={"email": "n\x00ul@example.com", "password": PASSWORD, "display_name": "N"}
    )
    assert_error(response, 422, "validation_error")


async def test_register_with_a_nul_byte_in_the_display_name_is_422(
    client: httpx.AsyncClient,
) -> None:
    """SQLite would store it and Postgres refuse it in the INSERT (a 500): refused up front."""
    response = await client.post(
        REGISTER, json={"email": "nul@example.com", "password": PASSWORD, "display_name": "A\x00"}
    )
    assert_error(response, 422, "validation_error")
