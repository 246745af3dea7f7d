"""Email verification, password reset and sign-in codes, end to end: HTTP in, a real SMTP
server receiving the mail, the token or code read from the mail body."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from maria.auth.models import AccountToken
from maria.db import utcnow
from tests.support.api import ME, PASSWORD, assert_error, bearer, register
from tests.support.app import client_of, transaction
from tests.support.mail import MailSink, code_of, link_query, text_of

AUTH = "/api/v1/auth"
NEW_PASSWORD = "a brand new passphrase 42"


def claims_of(access_token: str) -> dict[str, Any]:
    payload = access_token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(f"{AUTH}/login", json={"email": email, "password": password})


async def expire_tokens(app: Any, purpose: str) -> None:
    async with transaction(app) as db:
        await db.execute(
            update(AccountToken)
            .where(AccountToken.purpose == purpose)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


# -- email verification -------------------------------------------------------------------


async def test_the_registration_link_verifies_the_email(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    session = await register(mail_client, email="ann@example.com")
    assert claims_of(session["access_token"])["email_verified"] is False
    token = link_query((await sink.wait("ann@example.com"))[0], "/verify-email")["token"]
    response = await mail_client.post(f"{AUTH}/email/verify", json={"token": token})
    assert response.status_code == 204, response.text
    me = (await mail_client.get(ME, headers=bearer(session))).json()
    assert me["email_verified"] is True
    # The claim follows at the next refresh.
    refreshed = await mail_client.post(
        f"{AUTH}/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert claims_of(refreshed.json()["access_token"])["email_verified"] is True
    # Single use.
    again = await mail_client.post(f"{AUTH}/email/verify", json={"token": token})
    assert_error(again, 401, "invalid_token")


@pytest.mark.parametrize(
    "token", ["forged-" + "x" * 40, "", "x" * 300, "\x00nul", "€uro", None, 12345]
)
async def test_bad_verification_tokens_are_refused(
    mail_client: httpx.AsyncClient, token: Any
) -> None:
    response = await mail_client.post(f"{AUTH}/email/verify", json={"token": token})
    assert response.status_code in (401, 422), response.text
    body = response.json()
    assert body["error"]["code"] in {"invalid_token", "validation_error"}


async def test_an_expired_verification_link_is_refused(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    await register(mail_client, email="old@example.com")
    token = link_query((await sink.wait("old@example.com"))[0], "/verify-email")["token"]
    await expire_tokens(mail_app, "verify_email")
    response = await mail_client.post(f"{AUTH}/email/verify", json={"token": token})
    assert_error(response, 401, "invalid_token")


async def test_asking_again_sends_a_new_link_and_voids_the_old(
    mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    session = await register(mail_client, email="again@example.com")
    first = link_query((await sink.wait("again@example.com"))[0], "/verify-email")["token"]
    response = await mail_client.post(f"{AUTH}/email/verify/send", headers=bearer(session))
    assert response.status_code == 202
    second = link_query((await sink.wait("again@example.com", 2))[1], "/verify-email")["token"]
    assert first != second
    old = await mail_client.post(f"{AUTH}/email/verify", json={"token": first})
    assert_error(old, 401, "invalid_token")
    new = await mail_client.post(f"{AUTH}/email/verify", json={"token": second})
    assert new.status_code == 204
    # Verified: asking again sends nothing.
    assert (
        await mail_client.post(f"{AUTH}/email/verify/send", headers=bearer(session))
    ).status_code == 202
    await asyncio.sleep(0.3)
    assert len(sink.to("again@example.com")) == 2


async def test_verification_mails_are_limited_per_address(
    mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    session = await register(mail_client, email="flood@example.com")  # mail 1
    for _ in range(4):  # mails 2-5
        ok = await mail_client.post(f"{AUTH}/email/verify/send", headers=bearer(session))
        assert ok.status_code == 202
    refused = await mail_client.post(f"{AUTH}/email/verify/send", headers=bearer(session))
    assert_error(refused, 429, "rate_limited")
    assert int(refused.headers["retry-after"]) > 0
    await sink.wait("flood@example.com", 5)
    await asyncio.sleep(0.3)
    assert len(sink.to("flood@example.com")) == 5


async def test_sending_verification_needs_a_sign_in(mail_client: httpx.AsyncClient) -> None:
    mail_client.cookies.clear()
    assert_error(await mail_client.post(f"{AUTH}/email/verify/send"), 401, "not_authenticated")


# -- password reset -----------------------------------------------------------------------


async def test_forgot_answers_alike_and_mails_only_an_account(
    mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    await register(mail_client, email="real@example.com")
    await sink.wait("real@example.com")  # the verification mail
    for email in ("real@example.com", "nobody@example.com", "REAL@example.com "):
        response = await mail_client.post(f"{AUTH}/password/forgot", json={"email": email})
        assert response.status_code == 202 and response.content == b"", email
    mails = await sink.wait("real@example.com", 3)
    assert all("Reset your" in m["Subject"] for m in mails[1:])
    await asyncio.sleep(0.3)
    assert sink.to("nobody@example.com") == []


async def test_a_reset_sets_the_password_ends_every_session_and_tells_the_owner(
    mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    session = await register(mail_client, email="reset@example.com")
    other = (await login(mail_client, "reset@example.com", PASSWORD)).json()
    await mail_client.post(f"{AUTH}/password/forgot", json={"email": "reset@example.com"})
    mail = (await sink.wait("reset@example.com", 2))[1]
    token = link_query(mail, "/reset-password")["token"]
    assert "30 minutes" in text_of(mail)
    # A weak password is refused, and the link still works after.
    weak = await mail_client.post(
        f"{AUTH}/password/reset", json={"token": token, "new_password": "password"}
    )
    assert_error(weak, 422, "validation_error")
    ok = await mail_client.post(
        f"{AUTH}/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert ok.status_code == 204, ok.text
    for s in (session, other):  # refused at once
        assert_error(await mail_client.get(ME, headers=bearer(s)), 401, "invalid_token")
    assert_error(
        await login(mail_client, "reset@example.com", PASSWORD), 401, "invalid_credentials"
    )
    assert (await login(mail_client, "reset@example.com", NEW_PASSWORD)).status_code == 200
    notice = (await sink.wait("reset@example.com", 3))[2]
    assert "password was changed" in notice["Subject"]
    reused = await mail_client.post(
        f"{AUTH}/password/reset", json={"token": token, "new_password": NEW_PASSWORD + "!"}
    )
    assert_error(reused, 401, "invalid_token")


async def test_a_new_reset_link_voids_the_older_and_links_expire(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    await register(mail_client, email="twice@example.com")
    for _ in range(2):
        await mail_client.post(f"{AUTH}/password/forgot", json={"email": "twice@example.com"})
    mails = await sink.wait("twice@example.com", 3)
    first, second = (link_query(m, "/reset-password")["token"] for m in mails[1:])
    body = {"new_password": NEW_PASSWORD}
    old = await mail_client.post(f"{AUTH}/password/reset", json={"token": first, **body})
    assert_error(old, 401, "invalid_token")
    await expire_tokens(mail_app, "reset_password")
    late = await mail_client.post(f"{AUTH}/password/reset", json={"token": second, **body})
    assert_error(late, 401, "invalid_token")
    forged = await mail_client.post(f"{AUTH}/password/reset", json={"token": "x" * 43, **body})
    assert_error(forged, 401, "invalid_token")


async def test_forgot_looks_the_account_up_only_after_answering(mail_app: Any) -> None:
    """What makes the answer take the same time for any address: nothing about the account
    is read before the response has gone out (the work runs after it)."""
    events: list[str] = []
    users = mail_app.state.services.users
    original = users.credentials

    async def looked_up(email: str) -> Any:
        events.append("account looked up")
        return await original(email)

    users.credentials = looked_up
    try:
        body = json.dumps({"email": "order@example.com"}).encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": f"{AUTH}/password/forgot",
            "raw_path": f"{AUTH}/password/forgot".encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"t"), (b"content-type", b"application/json")],
            "client": ("203.0.113.50", 1),
            "server": ("t", 80),
            "state": {},
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(60)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                events.append(f"answered {message['status']}")

        await mail_app(scope, receive, send)
    finally:
        del users.credentials
    assert events == ["answered 202", "account looked up"]


async def test_reset_and_forgot_bad_input(mail_client: httpx.AsyncClient) -> None:
    for body in ({}, {"email": "not-an-email"}, {"email": 5}, {"email": "a@b.c", "x": 1}):
        response = await mail_client.post(f"{AUTH}/password/forgot", json=body)
        assert_error(response, 422, "validation_error")
    for body in (
        {},
        {"token": "t"},
        {"new_password": NEW_PASSWORD},
        {"token": "", "new_password": NEW_PASSWORD},
        {"token": "t", "new_password": "x" * 2000},
    ):
        response = await mail_client.post(f"{AUTH}/password/reset", json=body)
        assert_error(response, 422, "validation_error")


# -- sign-in codes --------------------------------------------------------------------------


async def test_a_code_signs_up_an_unknown_address_without_a_password(
    mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    response = await mail_client.post(f"{AUTH}/email-code", json={"email": "New@Example.com"})
    assert response.status_code == 202
    mail = (await sink.wait("new@example.com"))[0]
    code = code_of(mail)
    assert link_query(mail, "/sign-in") == {"email": "new@example.com", "code": code}
    signed = await mail_client.post(
        f"{AUTH}/email-code/verify", json={"email": "new@example.com", "code": code}
    )
    assert signed.status_code == 200, signed.text
    user = signed.json()["user"]
    assert user["email"] == "new@example.com" and user["email_verified"] is True
    assert (await mail_client.get(ME, headers=bearer(signed.json()))).status_code == 200
    # No password: no password signs in (and it takes the dummy hash's time).
    assert_error(await login(mail_client, "new@example.com", ""), 422, "validation_error")
    assert_error(await login(mail_client, "new@example.com", PASSWORD), 401, "invalid_credentials")
    # Used once.
    again = await mail_client.post(
        f"{AUTH}/email-code/verify", json={"email": "new@example.com", "code": code}
    )
    assert_error(again, 401, "invalid_credentials")


async def test_a_code_signs_in_an_existing_account_and_verifies_it(
    mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    session = await register(mail_client, email="known@example.com")
    await mail_client.post(f"{AUTH}/email-code", json={"email": "known@example.com"})
    code = code_of((await sink.wait("known@example.com", 2))[1])
    signed = await mail_client.post(
        f"{AUTH}/email-code/verify", json={"email": "known@example.com", "code": code}
    )
    assert signed.status_code == 200
    assert signed.json()["user"]["id"] == session["user"]["id"]
    assert signed.json()["user"]["email_verified"] is True


async def test_five_wrong_codes_void_the_code(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    await mail_client.post(f"{AUTH}/email-code", json={"email": "guess@example.com"})
    code = code_of((await sink.wait("guess@example.com"))[0])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = await mail_client.post(
            f"{AUTH}/email-code/verify", json={"email": "guess@example.com", "code": wrong}
        )
        assert_error(response, 401, "invalid_credentials")
    # The right code, too late (from another address: this one's guesses are limited too).
    async with client_of(mail_app, ("198.51.100.23", 1)) as elsewhere:
        late = await elsewhere.post(
            f"{AUTH}/email-code/verify", json={"email": "guess@example.com", "code": code}
        )
    assert_error(late, 401, "invalid_credentials")


async def test_codes_expire_and_belong_to_their_address(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    for email in ("a1@example.com", "a2@example.com"):
        await mail_client.post(f"{AUTH}/email-code", json={"email": email})
    code1 = code_of((await sink.wait("a1@example.com"))[0])
    code2 = code_of((await sink.wait("a2@example.com"))[0])
    crossed = await mail_client.post(
        f"{AUTH}/email-code/verify", json={"email": "a2@example.com", "code": code1}
    )
    if code1 != code2:
        assert_error(crossed, 401, "invalid_credentials")
    await expire_tokens(mail_app, "email_code")
    late = await mail_client.post(
        f"{AUTH}/email-code/verify", json={"email": "a2@example.com", "code": code2}
    )
    assert_error(late, 401, "invalid_credentials")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@example.com"},
        {"email": "a@example.com", "code": "12345"},
        {"email": "a@example.com", "code": "1234567"},
        {"email": "a@example.com", "code": "abcdef"},
        {"email": "a@example.com", "code": 123456},
        {"email": "nope", "code": "123456"},
    ],
)
async def test_code_bad_input(mail_client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await mail_client.post(f"{AUTH}/email-code/verify", json=body)
    assert_error(response, 422, "validation_error")
