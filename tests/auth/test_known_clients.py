"""Credential stuffing without locking the owner out (OWASP's device cookie scheme): a botnet
spending a guess or two per address locks the account for unknown clients, while the
owner's devices (device cookie or token) and addresses (signed in from within 30 days) keep
signing in; devices have their own limit; a forged or foreign token is an unknown client.

The in-process client connects from 203.0.113.7; other addresses get their own transport.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from maria.auth.devices import DeviceTokens, address_key, well_formed
from maria.auth.limits import Limits
from maria.auth.models import KnownAddress
from maria.auth.tokens import b64url_encode
from maria.db import utcnow
from tests.support.api import PASSWORD, TEST_SECRET, assert_error, register
from tests.support.app import (
    client_of,
    make_settings,
    reading,
    running,
    statements,
    transaction,
)
from tests.support.mail import MailSink, code_of

AUTH = "/api/v1/auth"
LOGIN = f"{AUTH}/login"
TOKEN = f"{AUTH}/token"
WRONG = "not the right password"
LIMITS = Limits()
DEVICE_COOKIE = "maria_device"


def from_ip(app: Any, ip: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    return client_of(app, (ip, 1234))


async def attempt(
    client: httpx.AsyncClient,
    email: str,
    password: str,
    *,
    device_token: str | None = None,
    cookie: str | None = None,
) -> httpx.Response:
    body: dict[str, Any] = {"email": email, "password": password}
    if device_token is not None:
        body["device_token"] = device_token
    headers = {"Cookie": f"{DEVICE_COOKIE}={cookie}"} if cookie is not None else None
    return await client.post(LOGIN, json=body, headers=headers)


def assert_limited(response: httpx.Response) -> int:
    assert_error(response, 429, "rate_limited")
    seconds = int(response.headers["retry-after"])
    assert 0 < seconds <= LIMITS.window
    return seconds


def assert_signed_in(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert well_formed(body["device_token"])
    return body


async def botnet(app: Any, email: str, guesses: int, prefix: str = "10.66") -> None:
    """``guesses`` wrong passwords, one or two from each of many addresses."""
    done = 0
    for i in range(guesses):
        async with from_ip(app, f"{prefix}.{i // 250}.{i % 250 + 1}") as bot:
            for _ in range(1 if i % 2 else 2):
                if done == guesses:
                    return
                assert_error(await attempt(bot, email, WRONG), 401, "invalid_credentials")
                done += 1


async def lock(app: Any, email: str) -> None:
    """Spend the account's budget for unknown clients, and check it is spent."""
    await botnet(app, email, LIMITS.unknown_failures)
    async with from_ip(app, "192.0.2.250") as bot:
        assert_limited(await attempt(bot, email, WRONG))
        assert_limited(await attempt(bot, email, PASSWORD))  # not even the right password


# -- the botnet ----------------------------------------------------------------------------


async def test_a_botnet_locks_strangers_out_but_never_the_owners_clients(
    app: Any, client: httpx.AsyncClient
) -> None:
    email = "target@example.com"
    registered = await register(client, email=email)  # the browser: a device cookie
    browser_cookie = client.cookies[DEVICE_COOKIE]
    assert browser_cookie == registered["device_token"]
    async with from_ip(app, "198.51.100.20") as phone:  # a bearer app, which keeps the token
        phone_token = assert_signed_in(await attempt(phone, email, PASSWORD))["device_token"]
    async with from_ip(app, "198.51.100.30") as laptop:  # signed in once, keeps nothing
        assert_signed_in(await attempt(laptop, email, PASSWORD))

    await lock(app, email)
    # Every bot, old or new, with a wrong or the right password: 429 until the window ends.
    async with from_ip(app, "10.66.0.1") as bot:
        assert_limited(await attempt(bot, email, PASSWORD))
    async with from_ip(app, "192.0.2.251") as stranger:  # also a stranger's own device token
        await register(stranger, email="bot-owner@example.com")
        assert_limited(await attempt(stranger, email, PASSWORD))

    # The owner's browser, from anywhere: its cookie makes it a known device.
    async with from_ip(app, "192.0.2.77") as travelling:
        assert_signed_in(await attempt(travelling, email, PASSWORD, cookie=browser_cookie))
    assert_signed_in(await attempt(client, email, PASSWORD))  # the jar sends it by itself
    # The phone, from a new network, with its token in the body.
    async with from_ip(app, "192.0.2.88") as roaming:
        signed = assert_signed_in(await attempt(roaming, email, PASSWORD, device_token=phone_token))
        # A wrong password from a known device is checked (401), not refused.
        response = await attempt(roaming, email, WRONG, device_token=signed["device_token"])
        assert_error(response, 401, "invalid_credentials")
    # The laptop kept nothing, but its address signed in: known by address.
    async with from_ip(app, "198.51.100.30") as laptop:
        assert_signed_in(await attempt(laptop, email, PASSWORD))
        assert_error(await attempt(laptop, email, WRONG), 401, "invalid_credentials")
    # The price of the scheme: the owner on a new device, at a new address, waits (or uses a
    # sign-in code, see below).
    async with from_ip(app, "192.0.2.99") as new_device:
        assert_limited(await attempt(new_device, email, PASSWORD))
    # Other accounts are not affected.
    async with from_ip(app, "10.66.0.1") as bot:
        other = await register(bot, email="bystander@example.com")
        bot.cookies.clear()
        assert_signed_in(await attempt(bot, other["user"]["email"], PASSWORD))


async def test_below_the_budget_strangers_are_only_limited_per_pair(
    app: Any, client: httpx.AsyncClient
) -> None:
    await register(client, email="calm@example.com")
    await botnet(app, "calm@example.com", LIMITS.unknown_failures - 1)
    async with from_ip(app, "192.0.2.99") as new_device:
        assert_signed_in(await attempt(new_device, "calm@example.com", PASSWORD))


async def test_successful_strangers_do_not_spend_the_budget(
    app: Any, client: httpx.AsyncClient
) -> None:
    """Many first sign-ins (new devices, new addresses) never lock the account."""
    await register(client, email="popular@example.com")
    for i in range(LIMITS.unknown_failures + 5):
        async with from_ip(app, f"10.70.0.{i + 1}") as new_device:
            assert_signed_in(await attempt(new_device, "popular@example.com", PASSWORD))
    await botnet(app, "popular@example.com", LIMITS.unknown_failures - 1, prefix="10.71")
    async with from_ip(app, "192.0.2.99") as new_device:
        assert_signed_in(await attempt(new_device, "popular@example.com", PASSWORD))


async def test_unknown_emails_lock_the_same_way(app: Any) -> None:
    """No enumeration through the lock: an email without an account locks like one with."""
    await lock(app, "ghost@example.com")


async def test_the_owners_failures_from_a_known_address_do_not_spend_the_budget(
    app: Any, client: httpx.AsyncClient
) -> None:
    await register(client, email="typo@example.com")
    client.cookies.clear()  # known by its address only
    for _ in range(LIMITS.pair_failures):  # the pair's own limit still holds
        assert_error(await attempt(client, "typo@example.com", WRONG), 401, "invalid_credentials")
    await botnet(app, "typo@example.com", LIMITS.unknown_failures - 1)
    async with from_ip(app, "192.0.2.99") as new_device:  # 19 unknown failures: not locked
        assert_signed_in(await attempt(new_device, "typo@example.com", PASSWORD))


async def test_a_sign_in_code_gets_the_owner_in_on_a_new_device(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    email = "locked@example.com"
    await register(mail_client, email=email)
    await lock(mail_app, email)
    async with from_ip(mail_app, "192.0.2.99") as new_device:
        assert_limited(await attempt(new_device, email, PASSWORD))
        await new_device.post(f"{AUTH}/email-code", json={"email": email})
        code = code_of((await sink.wait(email, 2))[1])
        signed = await new_device.post(
            f"{AUTH}/email-code/verify", json={"email": email, "code": code}
        )
        body = assert_signed_in(signed)
        assert new_device.cookies[DEVICE_COOKIE] == body["device_token"]
        # From now on this device is known: its password sign-in works during the lock.
        assert_signed_in(await attempt(new_device, email, PASSWORD))


# -- devices -------------------------------------------------------------------------------


async def test_a_device_has_its_own_tight_limit(app: Any, client: httpx.AsyncClient) -> None:
    email = "device@example.com"
    token = (await register(client, email=email))["device_token"]
    client.cookies.clear()
    async with from_ip(app, "192.0.2.10") as device:
        for _ in range(LIMITS.device_failures - 1):
            response = await attempt(device, email, WRONG, device_token=token)
            assert_error(response, 401, "invalid_credentials")
        # A success clears its count...
        assert_signed_in(await attempt(device, email, PASSWORD, device_token=token))
        for _ in range(LIMITS.device_failures):
            response = await attempt(device, email, WRONG, device_token=token)
            assert_error(response, 401, "invalid_credentials")
        # ...and five failures in a row block it, even with the right password, anywhere.
        assert_limited(await attempt(device, email, PASSWORD, device_token=token))
    async with from_ip(app, "192.0.2.11") as elsewhere:
        assert_limited(await attempt(elsewhere, email, PASSWORD, device_token=token))
        # The same client without the token is an unknown client, with its own limits.
        assert_signed_in(await attempt(elsewhere, email, PASSWORD))
    # Its failures did not spend the account's budget for strangers, nor block the pair.
    assert_signed_in(await attempt(client, email, PASSWORD))


async def test_a_device_is_not_held_to_the_address_limit(app: Any) -> None:
    """One address stuffing many accounts is blocked; an owner's device there is not."""
    async with from_ip(app, "198.51.100.66") as office:
        token = (await register(office, email="worker@example.com"))["device_token"]
        office.cookies.clear()
        for i in range(LIMITS.ip_failures):
            assert_error(
                await attempt(office, f"leaked-{i}@example.com", WRONG), 401, "invalid_credentials"
            )
        assert_limited(await attempt(office, "worker@example.com", PASSWORD))
        assert_signed_in(await attempt(office, "worker@example.com", PASSWORD, device_token=token))


async def test_forged_and_foreign_device_tokens_are_unknown_clients(
    app: Any, client: httpx.AsyncClient
) -> None:
    email = "forged@example.com"
    token = (await register(client, email=email))["device_token"]
    other = (await register(client, email="other@example.com"))["device_token"]
    client.cookies.clear()
    head, mac = token.rsplit(".", 1)
    forged = [
        f"{head}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}",  # one character of the MAC
        f"d1.{secrets.token_urlsafe(16)}.{mac}",  # another nonce with the MAC
        other,  # a real token of another account
        DeviceTokens(b"another server's secret key....").issue("x"),
        token.replace("d1.", "d2.", 1),
    ]
    # Not an error: with the account open, each signs in (as an unknown client)...
    async with from_ip(app, "192.0.2.5") as c:
        for fake in forged:
            assert_signed_in(await attempt(c, email, PASSWORD, device_token=fake))
            assert_signed_in(await attempt(c, email, PASSWORD, cookie=fake))
    # ...and with the account locked, each is refused like any stranger.
    await lock(app, email)
    async with from_ip(app, "192.0.2.6") as c:
        for fake in forged:
            assert_limited(await attempt(c, email, PASSWORD, device_token=fake))
            assert_limited(await attempt(c, email, PASSWORD, cookie=fake))
        # A bad token in the body does not hide a good cookie, nor the other way round.
        assert_signed_in(await attempt(c, email, PASSWORD, device_token=forged[0], cookie=token))
        assert_signed_in(await attempt(c, email, PASSWORD, device_token=token, cookie=forged[0]))


def test_device_tokens_are_bound_to_the_account_and_signed_with_their_own_key() -> None:
    """A token names no account: it verifies only against the account it was issued for."""
    tokens = DeviceTokens(TEST_SECRET.encode())
    token = tokens.issue("user-1")
    assert tokens.device_of("user-1", token) is not None
    assert tokens.device_of("user-2", token) is None
    assert tokens.device_of("user-1", None, "", "junk", token) == tokens.device_of("user-1", token)
    assert "user-1" not in token and len(token) == 69
    assert tokens.issue("user-1") != token  # a new nonce each time
    # The key is not the JWT key: a token made with the raw secret is not valid.
    nonce = token.split(".")[1]
    raw = b64url_encode(
        hmac.new(TEST_SECRET.encode(), f"user-1|{nonce}".encode(), hashlib.sha256).digest()
    )
    assert tokens.device_of("user-1", f"d1.{nonce}.{raw}") is None


async def test_the_device_cookie(app: Any, client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{AUTH}/register",
        json={"email": "cookie@example.com", "password": PASSWORD, "display_name": "C"},
    )
    assert response.status_code == 201
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith(DEVICE_COOKIE)]
    token = response.json()["device_token"]
    assert cookie.startswith(f"{DEVICE_COOKIE}={token};")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "max-age", "path", "samesite"} <= attributes
    assert "Path=/api/v1/auth" in cookie and "SameSite=strict" in cookie
    assert "Secure" not in cookie  # MARIA_COOKIE_SECURE is off in tests
    # Logging out keeps it (the device stays known); a refresh does not renew it.
    logout = await client.post(
        f"{AUTH}/logout", headers={"Authorization": f"Bearer {response.json()['access_token']}"}
    )
    assert logout.status_code == 204
    assert not any(c.startswith(DEVICE_COOKIE) for c in logout.headers.get_list("set-cookie"))
    refreshed = await client.post(
        f"{AUTH}/refresh",
        json={
            "refresh_token": (await attempt(client, "cookie@example.com", PASSWORD)).json()[
                "refresh_token"
            ]
        },
    )
    assert refreshed.status_code == 200 and refreshed.json()["device_token"] is None
    assert not any(c.startswith(DEVICE_COOKIE) for c in refreshed.headers.get_list("set-cookie"))


async def test_the_device_cookie_is_secure_when_cookies_are(
    database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(database_url, tmp_path, cookie_secure=True)
    async with running(settings) as app, client_of(app) as c:
        response = await c.post(
            f"{AUTH}/register",
            json={"email": "secure@example.com", "password": PASSWORD, "display_name": "S"},
        )
    [cookie] = [h for h in response.headers.get_list("set-cookie") if h.startswith(DEVICE_COOKIE)]
    assert cookie.endswith("; Secure")


async def test_the_token_grant_takes_and_gives_a_device_token(
    app: Any, client: httpx.AsyncClient
) -> None:
    token = (await register(client, email="grant@example.com"))["device_token"]
    client.cookies.clear()
    await lock(app, "grant@example.com")
    async with from_ip(app, "192.0.2.40") as script:
        refused = await script.post(
            TOKEN, data={"username": "grant@example.com", "password": PASSWORD}
        )
        assert_limited(refused)
        ok = await script.post(
            TOKEN,
            data={"username": "grant@example.com", "password": PASSWORD, "device_token": token},
        )
        assert ok.status_code == 200, ok.text
        assert well_formed(ok.json()["device_token"])


# -- known addresses -----------------------------------------------------------------------


async def test_an_address_is_known_for_30_days(app: Any, client: httpx.AsyncClient) -> None:
    session = await register(client, email="home@example.com")
    client.cookies.clear()
    async with reading(app) as db:
        rows = (
            (
                await db.execute(
                    select(KnownAddress.address).where(
                        KnownAddress.user_id == session["user"]["id"]
                    )
                )
            )
            .scalars()
            .all()
        )
    assert rows == ["203.0.113.7"]
    await lock(app, "home@example.com")
    assert_signed_in(await attempt(client, "home@example.com", PASSWORD))
    client.cookies.clear()  # the sign-in set a device cookie again
    # 31 days later, the address is a stranger's again.
    async with transaction(app) as db:
        await db.execute(update(KnownAddress).values(last_seen_at=utcnow() - timedelta(days=31)))
    assert_limited(await attempt(client, "home@example.com", PASSWORD))
    # Old rows are pruned.
    assert await app.state.services.known.prune() == 1


async def test_a_sign_in_writes_its_address_at_most_hourly(
    app: Any, client: httpx.AsyncClient
) -> None:
    """The hot path: an address this instance remembered within the hour costs no statement."""
    await register(client, email="often@example.com")
    database = app.state.services.database
    with statements(database) as seen:
        assert_signed_in(await attempt(client, "often@example.com", PASSWORD))
    assert not [sql for sql in seen if "known_addresses" in sql]
    async with from_ip(app, "198.51.100.44") as elsewhere:
        with statements(database) as seen:
            assert_signed_in(await attempt(elsewhere, "often@example.com", PASSWORD))
        assert len([sql for sql in seen if "known_addresses" in sql]) == 1
    async with reading(app) as db:
        rows = await db.execute(select(KnownAddress.address).order_by(KnownAddress.address))
        assert list(rows.scalars()) == ["198.51.100.44", "203.0.113.7"]


async def test_ipv6_addresses_are_known_by_their_64_network(app: Any) -> None:
    assert address_key("2001:db8:1:2::10") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1"
    assert address_key("testclient") == "testclient"
    assert len(address_key("x" * 500)) == 64
    async with from_ip(app, "2001:db8:1:2::10") as home:
        await register(home, email="six@example.com")
    await lock(app, "six@example.com")
    async with from_ip(app, "2001:db8:1:2:ffff::99") as same_network:
        assert_signed_in(await attempt(same_network, "six@example.com", PASSWORD))
    async with from_ip(app, "2001:db8:1:3::10") as other_network:
        assert_limited(await attempt(other_network, "six@example.com", PASSWORD))


async def test_an_account_deleted_takes_its_addresses(app: Any, client: httpx.AsyncClient) -> None:
    session = await register(client, email="leaving@example.com")
    response = await client.request(
        "DELETE",
        "/api/v1/users/me",
        json={"password": PASSWORD},
        headers={"Authorization": f"Bearer {session['access_token']}"},
    )
    assert response.status_code == 204, response.text
    async with reading(app) as db:
        assert (await db.execute(select(KnownAddress))).all() == []


# -- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "device_token",
    ["", "d1." + "A" * 200, "x" * 10_000, 12345, ["d1.a.b"], {"t": 1}, True],
)
async def test_a_device_token_that_does_not_fit_the_schema_is_a_422(
    client: httpx.AsyncClient, device_token: Any
) -> None:
    await register(client, email="schema@example.com")
    body = {"email": "schema@example.com", "password": PASSWORD, "device_token": device_token}
    response = await client.post(LOGIN, json=body)
    assert_error(response, 422, "validation_error")
    form = {"username": "schema@example.com", "password": PASSWORD, "device_token": "x" * 200}
    assert_error(await client.post(TOKEN, data=form), 422, "validation_error")


@pytest.mark.parametrize(
    "device_token",
    ["junk", "d1..", "d1." + "!" * 22 + "." + "A" * 43, "d1.\u00e9\u00e9.x", "d1 . a . b", "null"],
)
async def test_a_malformed_device_token_is_an_unknown_client(
    app: Any, client: httpx.AsyncClient, device_token: str
) -> None:
    await register(client, email="malformed@example.com")
    client.cookies.clear()
    assert_signed_in(
        await attempt(client, "malformed@example.com", PASSWORD, device_token=device_token)
    )


@pytest.mark.parametrize(
    "cookie", ["junk", "d1." + "A" * 4000, '"d1.quoted"', "d1.%00%00", "=;=", "\u00ff" * 10]
)
async def test_a_bad_device_cookie_is_an_unknown_client(
    app: Any, client: httpx.AsyncClient, cookie: str
) -> None:
    await register(client, email="badcookie@example.com")
    client.cookies.clear()
    response = await client.post(
        LOGIN,
        json={"email": "badcookie@example.com", "password": PASSWORD},
        headers={"Cookie": f"{DEVICE_COOKIE}={cookie}".encode("latin-1")},
    )
    assert_signed_in(response)


# -- shared through Redis ------------------------------------------------------------------


@pytest.fixture
async def two_instances(
    database_url: str, redis_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Any, Any]]:
    config = {"redis_url": redis_url}
    async with AsyncExitStack() as stack:
        one = await stack.enter_async_context(
            running(make_settings(database_url, tmp_path, **config))
        )
        two = await stack.enter_async_context(
            running(make_settings(database_url, tmp_path, **config))
        )
        assert one.state.services is not two.state.services
        yield one, two


async def test_two_instances_share_the_lock_and_the_device_limits(
    two_instances: tuple[Any, Any],
) -> None:
    one, two = two_instances
    email = "shared@example.com"
    async with from_ip(one, "203.0.113.7") as home:
        token = (await register(home, email=email))["device_token"]
    # A botnet spread over both instances: its guesses add up to one budget.
    half = LIMITS.unknown_failures // 2
    await botnet(one, email, half, prefix="10.80")
    await botnet(two, email, LIMITS.unknown_failures - half, prefix="10.81")
    for app in (one, two):
        async with from_ip(app, "192.0.2.250") as bot:
            assert_limited(await attempt(bot, email, PASSWORD))
    # The owner's device works on either instance (the same secret), and the known address
    # (the same database).
    for app in (one, two):
        async with from_ip(app, "192.0.2.77") as device:
            assert_signed_in(await attempt(device, email, PASSWORD, device_token=token))
        async with from_ip(app, "203.0.113.7") as home:
            assert_signed_in(await attempt(home, email, PASSWORD))
    # A device's failures on both instances add up to its limit.
    for i in range(LIMITS.device_failures):
        app = (one, two)[i % 2]
        async with from_ip(app, "192.0.2.77") as device:
            response = await attempt(device, email, WRONG, device_token=token)
            assert_error(response, 401, "invalid_credentials")
    for app in (one, two):
        async with from_ip(app, "192.0.2.77") as device:
            assert_limited(await attempt(device, email, PASSWORD, device_token=token))
