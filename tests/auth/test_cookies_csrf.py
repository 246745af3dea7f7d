"""Browser transport: HttpOnly session cookies and double-submit CSRF for unsafe methods."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import Response

from maria.http.transport import (
    ACCESS_COOKIE,
    AUTH_PATH,
    CSRF_COOKIE,
    REFRESH_COOKIE,
    CookiePolicy,
)
from tests.support.api import PASSWORD, assert_error, bearer, register
from tests.support.app import app_and_client, client_of, make_settings
from tests.support.servers import CHEAP_HASHING, maria_env, started
from tests.test_cli import maria

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
COOKIES = ("maria_access", "maria_refresh", "maria_csrf")
SIGN_IN_COOKIES = (*COOKIES, "maria_device")  # a sign-in also names the device


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str | bool]]:
    """Each Set-Cookie header as {"value": ..., "<attribute lower-cased>": value or True}
    (of two for one name, the later)."""
    return set_cookies_of(response.headers.get_list("set-cookie"))


def set_cookies_of(headers: list[str]) -> dict[str, dict[str, str | bool]]:
    out: dict[str, dict[str, str | bool]] = {}
    for header in headers:
        first, *attrs = (part.strip() for part in header.split(";"))
        name, _, value = first.partition("=")
        cookie: dict[str, str | bool] = {"value": value}
        for attr in attrs:
            key, eq, val = attr.partition("=")
            cookie[key.lower()] = val if eq else True
        out[name] = cookie
    return out


@asynccontextmanager
async def running(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Any]:
    async with app_and_client(make_settings(database_url, tmp_path, **overrides)) as (_, c):
        yield c


async def signed_in(client: httpx.AsyncClient) -> tuple[dict[str, Any], httpx.Response]:
    session = await register(client, email="cookie@example.com")
    client.cookies.clear()
    response = await client.post(LOGIN, json={"email": "cookie@example.com", "password": PASSWORD})
    assert response.status_code == 200, response.text
    return session, response


# -- what login sets --------------------------------------------------------------------


async def test_login_sets_the_session_cookies(client: httpx.AsyncClient) -> None:
    _, response = await signed_in(client)
    body = response.json()
    cookies = set_cookies(response)
    assert set(cookies) == set(SIGN_IN_COOKIES)
    access, refresh, csrf, device = (cookies[name] for name in SIGN_IN_COOKIES)
    assert device["value"] == body["device_token"]
    assert device.get("httponly") is True and device["path"] == "/api/v1/auth"
    assert str(device["samesite"]).lower() == "strict"  # only ever sent to sign in
    assert int(str(device["max-age"])) == 365 * 86_400

    assert access["value"] == body["access_token"]
    assert refresh["value"] == body["refresh_token"]
    assert access.get("httponly") is True
    assert refresh.get("httponly") is True
    assert "httponly" not in csrf  # JavaScript must read it to echo it
    assert refresh["path"] == "/api/v1/auth"  # never sent outside the auth endpoints
    assert access["path"] == "/" and csrf["path"] == "/"
    for cookie in (access, refresh, csrf):
        assert str(cookie["samesite"]).lower() == "lax"
    for cookie in cookies.values():
        assert "secure" not in cookie  # "auto", and this request came over plain HTTP
    assert int(str(access["max-age"])) == 900
    assert int(str(refresh["max-age"])) == 30 * 86_400
    # The CSRF token is random per sign-in and unguessable.
    assert len(str(csrf["value"])) >= 32
    again = await client.post(LOGIN, json={"email": "cookie@example.com", "password": PASSWORD})
    assert set_cookies(again)["maria_csrf"]["value"] != csrf["value"]


async def test_register_and_refresh_set_the_cookies_too(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "reg@example.com", "password": PASSWORD, "display_name": "R"},
    )
    assert set(set_cookies(response)) == set(SIGN_IN_COOKIES)
    refreshed = await client.post(REFRESH, json={"refresh_token": response.json()["refresh_token"]})
    cookies = set_cookies(refreshed)
    assert set(cookies) == set(COOKIES)  # a refresh is no new sign-in: the device cookie stays
    assert cookies["maria_refresh"]["value"] == refreshed.json()["refresh_token"]
    assert cookies["maria_refresh"]["path"] == "/api/v1/auth"


async def test_cookies_are_secure_when_configured(database_url: str, tmp_path: Path) -> None:
    async with running(database_url, tmp_path, cookie_secure=True) as client:
        response = await client.post(
            "/api/v1/auth/register",
            json={"email": "sec@example.com", "password": PASSWORD, "display_name": "S"},
        )
        assert response.status_code == 201
        cookies = set_cookies(response)
        assert set(cookies) == set(SIGN_IN_COOKIES)
        for name, cookie in cookies.items():
            assert cookie.get("secure") is True
            samesite = "strict" if name == "maria_device" else "lax"
            assert str(cookie["samesite"]).lower() == samesite
        logout = await client.post(LOGOUT, headers=bearer(response.json()))
        assert set(set_cookies(logout)) == set(COOKIES)  # the device stays known
        for cookie in set_cookies(logout).values():
            assert cookie.get("secure") is True  # else browsers refuse to overwrite them


async def test_secure_follows_the_scheme_the_request_came_by(
    database_url: str, tmp_path: Path
) -> None:
    """``auto``: Secure over HTTPS (here the connection's own scheme), not over plain HTTP;
    a client's X-Forwarded-Proto counts for nothing without a trusted proxy."""
    settings = make_settings(database_url, tmp_path)
    async with app_and_client(settings) as (app, _):
        for base, headers, secure in (
            ("https://testserver", {}, True),
            ("http://testserver", {}, False),
            ("http://testserver", {"X-Forwarded-Proto": "https"}, False),
        ):
            async with client_of(app) as client:
                client.base_url = httpx.URL(base)
                response = await client.post(
                    "/api/v1/auth/register",
                    json={
                        "email": f"s-{secure}-{len(headers)}@example.com",
                        "password": PASSWORD,
                        "display_name": "S",
                    },
                    headers=headers,
                )
                assert response.status_code == 201, response.text
                flags = {name: c.get("secure") is True for name, c in set_cookies(response).items()}
                assert set(flags.values()) == {secure}, (base, headers, flags)
                if secure:  # clearing them must match, or browsers keep the old ones
                    logout = await client.post(LOGOUT, headers=bearer(response.json()))
                    assert all(c.get("secure") is True for c in set_cookies(logout).values())


# -- CSRF -------------------------------------------------------------------------------


async def test_cookie_get_needs_no_csrf(client: httpx.AsyncClient) -> None:
    session, _ = await signed_in(client)
    response = await client.get(ME)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == session["user"]["id"]


@pytest.mark.parametrize("header", [None, "", "wrong", "WRONG-but-long-" + "x" * 40])
async def test_cookie_patch_without_the_right_csrf_is_403(
    client: httpx.AsyncClient, header: str | None
) -> None:
    await signed_in(client)
    headers = {} if header is None else {"X-CSRF-Token": header}
    response = await client.patch(ME, json={"display_name": "Mallory"}, headers=headers)
    assert_error(response, 403, "csrf_failed")
    assert (await client.get(ME)).json()["display_name"] == "Tester"  # nothing changed


async def test_cookie_patch_with_the_csrf_cookie_value_succeeds(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    csrf = client.cookies["maria_csrf"]
    response = await client.patch(
        ME, json={"display_name": "Alice"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "Alice"


async def test_csrf_token_of_another_sign_in_is_refused(client: httpx.AsyncClient) -> None:
    """The header must equal this browser's cookie, not any token the server ever issued."""
    await signed_in(client)
    stale = client.cookies["maria_csrf"]
    again = await client.post(LOGIN, json={"email": "cookie@example.com", "password": PASSWORD})
    assert again.status_code == 200
    assert client.cookies["maria_csrf"] != stale
    response = await client.patch(ME, json={"display_name": "X"}, headers={"X-CSRF-Token": stale})
    assert_error(response, 403, "csrf_failed")


async def test_csrf_header_without_the_cookie_is_refused(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    csrf = client.cookies["maria_csrf"]
    access = client.cookies["maria_access"]
    client.cookies.clear()
    client.cookies.set("maria_access", access, "testserver.local", "/")
    response = await client.patch(ME, json={"display_name": "X"}, headers={"X-CSRF-Token": csrf})
    assert_error(response, 403, "csrf_failed")


async def test_non_ascii_csrf_header_is_403_not_500(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    response = await client.patch(
        ME, json={"display_name": "X"}, headers={b"X-CSRF-Token": "\u00e9t\u00e9".encode("latin-1")}
    )
    assert_error(response, 403, "csrf_failed")


async def test_cookie_logout_needs_csrf(client: httpx.AsyncClient) -> None:
    await signed_in(client)
    assert_error(await client.post(LOGOUT), 403, "csrf_failed")
    assert_error(await client.post(LOGOUT, headers={"X-CSRF-Token": "nope"}), 403, "csrf_failed")
    assert (await client.get(ME)).status_code == 200  # still signed in
    response = await client.post(LOGOUT, headers={"X-CSRF-Token": client.cookies["maria_csrf"]})
    assert response.status_code == 204


async def test_bearer_requests_need_no_csrf(client: httpx.AsyncClient) -> None:
    session, _ = await signed_in(client)
    # Even with the cookies present, a bearer request is not ambient authority.
    response = await client.patch(ME, json={"display_name": "Bearer"}, headers=bearer(session))
    assert response.status_code == 200, response.text
    client.cookies.clear()
    response = await client.patch(ME, json={"display_name": "Bearer2"}, headers=bearer(session))
    assert response.status_code == 200, response.text
    response = await client.post(LOGOUT, headers=bearer(session))
    assert response.status_code == 204


# -- logout clears them -----------------------------------------------------------------


async def test_logout_clears_the_cookies_and_ends_the_session(client: httpx.AsyncClient) -> None:
    _, login = await signed_in(client)
    access_cookie = client.cookies["maria_access"]
    response = await client.post(LOGOUT, headers={"X-CSRF-Token": client.cookies["maria_csrf"]})
    assert response.status_code == 204
    cookies = set_cookies(response)
    assert set(cookies) == set(COOKIES)
    for name, cookie in cookies.items():
        assert cookie["max-age"] == "0", (name, cookie)
        assert cookie["value"] in ("", '""')
    # Deleting only works with the path the cookie was set with.
    assert cookies["maria_refresh"]["path"] == "/api/v1/auth"
    assert cookies["maria_access"]["path"] == "/"
    assert not client.cookies.get("maria_access") and not client.cookies.get("maria_refresh")
    assert_error(await client.get(ME), 401, "not_authenticated")
    # The old cookie value is dead even if a browser kept it.
    client.cookies.set("maria_access", access_cookie, "testserver.local", "/")
    assert_error(await client.get(ME), 401, "invalid_token")
    assert_error(
        await client.post(REFRESH, json={"refresh_token": login.json()["refresh_token"]}),
        401,
        "invalid_token",
    )


async def test_logout_of_the_others_keeps_this_browsers_cookies(
    client: httpx.AsyncClient,
) -> None:
    other, _ = await signed_in(client)  # the registration's session is the other device
    response = await client.post(
        LOGOUT, json={"scope": "others"}, headers={"X-CSRF-Token": client.cookies["maria_csrf"]}
    )
    assert response.status_code == 204
    assert set_cookies(response) == {}
    assert (await client.get(ME)).status_code == 200
    assert_error(await client.get(ME, headers=bearer(other)), 401, "invalid_token")
    refreshed = await client.post(REFRESH, headers={"X-CSRF-Token": client.cookies["maria_csrf"]})
    assert refreshed.status_code == 200, refreshed.text


async def test_garbage_access_cookie_is_401(client: httpx.AsyncClient) -> None:
    client.cookies.set("maria_access", "not.a.jwt", "testserver.local", "/")
    assert_error(await client.get(ME), 401, "invalid_token")


def _set_cookie_headers(response: Response) -> list[str]:
    """The ``Set-Cookie`` values, the date of a removal's (past) ``expires`` left out."""
    return [
        re.sub(r"expires=[^;]*; ", "expires=<past>; ", value.decode())
        for key, value in response.raw_headers
        if key == b"set-cookie"
    ]


@pytest.mark.parametrize("secure", [False, True])
@pytest.mark.parametrize(("path", "stale"), [(AUTH_PATH, "/"), ("/", AUTH_PATH)])
def test_session_cookies_are_written_as_starlette_writes_them(
    secure: bool, path: str, stale: str
) -> None:
    """``CookiePolicy`` builds the headers itself (``SimpleCookie`` was a tenth of a
    login's event-loop time); the bytes must stay what ``Response.set_cookie`` and
    ``delete_cookie`` make."""
    policy = CookiePolicy(
        secure=secure, access_max_age=900, refresh_max_age=2_592_000, refresh_path=path
    )
    ours = Response()
    policy.set_session(ours, "eyJh.eyJz-_.c2ln", "6f1c2a64-0f4e-4c1b-9a57-3f2d8e1b9c40.0.ab-_")
    theirs = Response()
    common: dict[str, Any] = {"secure": secure, "samesite": "lax", "httponly": True}
    theirs.delete_cookie(REFRESH_COOKIE, path=stale, **common)  # a copy from another setting
    theirs.set_cookie(ACCESS_COOKIE, "eyJh.eyJz-_.c2ln", max_age=900, path="/", **common)
    theirs.set_cookie(
        REFRESH_COOKIE,
        "6f1c2a64-0f4e-4c1b-9a57-3f2d8e1b9c40.0.ab-_",
        max_age=2_592_000,
        path=path,
        **common,
    )
    csrf = [v for k, v in ours.raw_headers if k == b"set-cookie"][3].decode()
    theirs.set_cookie(
        CSRF_COOKIE,
        csrf.split(";")[0].split("=", 1)[1],
        max_age=2_592_000,
        path="/",
        secure=secure,
        samesite="lax",
    )
    assert _set_cookie_headers(ours) == _set_cookie_headers(theirs)

    ours, theirs = Response(), Response()
    policy.clear_session(ours)
    theirs.delete_cookie(ACCESS_COOKIE, path="/", **common)
    theirs.delete_cookie(REFRESH_COOKIE, path=stale, **common)
    theirs.delete_cookie(REFRESH_COOKIE, path=path, **common)
    theirs.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="lax")
    assert _set_cookie_headers(ours) == _set_cookie_headers(theirs)


# -- where the refresh cookie goes (MARIA_REFRESH_COOKIE_PATH) ---------------------------


def refresh_cookie_writes(response: httpx.Response) -> dict[str, str]:
    """What the answer does to ``maria_refresh``, per path: its new value, or "" where it
    removes the cookie."""
    writes: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{REFRESH_COOKIE}="):
            cookie = set_cookies_of([header])[REFRESH_COOKIE]
            removed = cookie.get("max-age") == "0"
            writes[str(cookie["path"])] = "" if removed else str(cookie["value"])
    return writes


def refresh_cookies_held(client: httpx.AsyncClient) -> dict[str, str]:
    """The ``maria_refresh`` cookies the client's jar holds, per path."""
    return {c.path: str(c.value) for c in client.cookies.jar if c.name == REFRESH_COOKIE}


@pytest.mark.parametrize(("path", "stale"), [(AUTH_PATH, "/"), ("/", AUTH_PATH)])
async def test_the_refresh_cookie_path_follows_the_setting(
    database_url: str, tmp_path: Path, path: str, stale: str
) -> None:
    """Login, refresh, logout and a refused refresh all write the refresh cookie at the
    configured path (a removal at another path would leave the browser's cookie in place),
    and remove any copy at the other usual path."""
    async with running(database_url, tmp_path, refresh_cookie_path=path) as client:
        _, login = await signed_in(client)
        assert refresh_cookie_writes(login) == {path: login.json()["refresh_token"], stale: ""}
        assert refresh_cookies_held(client) == {path: login.json()["refresh_token"]}

        csrf = client.cookies["maria_csrf"]
        refreshed = await client.post(REFRESH, headers={"X-CSRF-Token": csrf})
        assert refreshed.status_code == 200, refreshed.text
        token = refreshed.json()["refresh_token"]
        assert refresh_cookie_writes(refreshed) == {path: token, stale: ""}

        csrf = client.cookies["maria_csrf"]
        logout = await client.post(LOGOUT, headers={"X-CSRF-Token": csrf})
        assert logout.status_code == 204
        assert refresh_cookie_writes(logout) == {path: "", stale: ""}
        assert refresh_cookies_held(client) == {}

        # A browser that missed the logout answer still sends the dead cookie.
        client.cookies.set(REFRESH_COOKIE, token, "testserver.local", path)
        client.cookies.set(CSRF_COOKIE, csrf, "testserver.local", "/")
        refused = await client.post(REFRESH, headers={"X-CSRF-Token": csrf})
        assert_error(refused, 401, "invalid_token")
        assert refresh_cookie_writes(refused) == {path: "", stale: ""}
        assert refresh_cookies_held(client) == {}


@pytest.mark.parametrize(("path", "other"), [(AUTH_PATH, "/"), ("/", AUTH_PATH)])
async def test_a_copy_from_before_a_change_of_the_path_is_removed(
    database_url: str, tmp_path: Path, path: str, other: str
) -> None:
    """A browser signed in while the setting was the other path keeps that cookie. Once
    renewed at the new path, it would send both, and Maria reads the later one, the
    shorter path's: were the copy at ``/`` left behind, the second refresh would present a
    rotated token and end the session as stolen. (No reuse grace: the second refresh
    stands for the next one, an access token's lifetime later.)"""
    settings = {"refresh_cookie_path": path, "refresh_reuse_grace": 0}
    async with running(database_url, tmp_path, **settings) as client:
        session = await register(client)
        client.cookies.delete(REFRESH_COOKIE)
        client.cookies.set(REFRESH_COOKIE, session["refresh_token"], "testserver.local", other)
        for _ in range(2):
            response = await client.post(
                REFRESH, headers={"X-CSRF-Token": client.cookies["maria_csrf"]}
            )
            assert response.status_code == 200, response.text
        assert refresh_cookies_held(client) == {path: response.json()["refresh_token"]}


def test_serve_sets_the_refresh_cookie_at_the_configured_path(tmp_path: Path) -> None:
    env = maria_env(
        MARIA_DATA_DIR=str(tmp_path / "data"), MARIA_REFRESH_COOKIE_PATH="/", **CHEAP_HASHING
    )
    with ExitStack() as stack:
        server = started(stack, "cookies", env, tmp_path)
        response = httpx.post(
            f"{server.url}/api/v1/auth/register",
            json={"email": "path@example.com", "password": PASSWORD, "display_name": "P"},
        )
    assert response.status_code == 201, response.text
    assert refresh_cookie_writes(response) == {"/": response.json()["refresh_token"], AUTH_PATH: ""}
    assert set_cookies(response)["maria_device"]["path"] == AUTH_PATH  # only ever for sign-in


def test_serve_refuses_a_refresh_cookie_path_that_cannot_work_in_one_line(
    tmp_path: Path,
) -> None:
    env = maria_env(MARIA_DATA_DIR=str(tmp_path / "data"), MARIA_REFRESH_COOKIE_PATH="/app")
    result = maria("serve", "--port", "1", env=env, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "MARIA_REFRESH_COOKIE_PATH" in lines[0] and "does not cover" in lines[0]
