"""Every flow of the account life cycle leaves its event in the audit log, written with the
change itself: a change that fails leaves none."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import ME, PASSWORD, bearer, register
from tests.support.mail import MailSink, code_of, link_query

AUTH = "/api/v1/auth"
NEW = "a brand new passphrase 42"


async def events(client: httpx.AsyncClient, session: dict[str, Any]) -> list[str]:
    page = (await client.get(f"{ME}/audit", params={"limit": 100}, headers=bearer(session))).json()
    return [e["event"] for e in reversed(page["items"])]  # oldest first


async def test_each_flow_is_recorded(mail_client: httpx.AsyncClient, sink: MailSink) -> None:
    session = await register(mail_client, email="trail@example.com")
    token = link_query((await sink.wait("trail@example.com"))[0], "/verify-email")["token"]
    await mail_client.post(f"{AUTH}/email/verify", json={"token": token})
    await mail_client.post(f"{AUTH}/login", json={"email": "trail@example.com", "password": "no"})
    await mail_client.post(
        f"{ME}/password",
        json={"current_password": PASSWORD, "new_password": NEW},
        headers=bearer(session),
    )
    # A refresh token used twice, outside the grace window: reuse, the session ends.
    first = await mail_client.post(
        f"{AUTH}/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert first.status_code == 200
    await mail_client.post(f"{AUTH}/refresh", json={"refresh_token": first.json()["refresh_token"]})
    reused = await mail_client.post(
        f"{AUTH}/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert reused.status_code == 401
    await mail_client.post(f"{AUTH}/email-code", json={"email": "trail@example.com"})
    code = code_of((await sink.wait("trail@example.com", 3))[2])
    coded = (
        await mail_client.post(
            f"{AUTH}/email-code/verify", json={"email": "trail@example.com", "code": code}
        )
    ).json()
    await mail_client.post(f"{AUTH}/password/forgot", json={"email": "trail@example.com"})
    reset = link_query((await sink.wait("trail@example.com", 4))[3], "/reset-password")["token"]
    await mail_client.post(f"{AUTH}/password/reset", json={"token": "forged", "new_password": NEW})
    await mail_client.post(
        f"{AUTH}/password/reset", json={"token": reset, "new_password": NEW + "!"}
    )
    again = (
        await mail_client.post(
            f"{AUTH}/login", json={"email": "trail@example.com", "password": NEW + "!"}
        )
    ).json()
    await mail_client.post(f"{AUTH}/logout", headers=bearer(again))
    assert coded["user"]["id"] == session["user"]["id"]
    viewer = (
        await mail_client.post(
            f"{AUTH}/login", json={"email": "trail@example.com", "password": NEW + "!"}
        )
    ).json()
    assert await events(mail_client, viewer) == [
        "registered",
        "email_verified",
        "sign_in_failed",
        "password_changed",
        "refresh_reused",
        "code_signed_in",
        "password_reset",  # once: the forged token changed nothing, so recorded nothing
        "signed_in",
        "signed_out",
        "signed_in",
    ]
