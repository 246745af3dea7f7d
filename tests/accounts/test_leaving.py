"""Leaving: an account deleted leaves no row that mentions it (every table is read), its
tokens stop working at once, its hosted rooms close; and the export holds everything."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import select, text

from maria.db import Base
from maria.models import load_all
from maria.rooms import store
from maria.rooms.store import Draft
from tests.support.api import ME, PASSWORD, assert_error, bearer, register
from tests.support.app import reading
from tests.support.mail import MailSink, code_of

LISTS = f"{ME}/lists"


async def rows_mentioning(app: Any, *needles: str) -> dict[str, list[Any]]:
    """Every row of every table with a column holding one of ``needles`` (exactly, or as
    part of its text)."""
    load_all()
    found: dict[str, list[Any]] = {}
    async with reading(app) as db:
        for table in Base.metadata.sorted_tables:
            for row in (await db.execute(select(table))).all():
                values = [str(v) for v in row if v is not None]
                if any(needle in value for needle in needles for value in values):
                    found.setdefault(table.name, []).append(tuple(row))
    return found


async def populate(client: httpx.AsyncClient, session: dict[str, Any]) -> str:
    """Lists, items, an avatar, a hosted room with chat history, a second session; the
    room's id."""
    headers = bearer(session)
    await client.post(LISTS, json={"title": "Noir", "is_public": True}, headers=headers)
    await client.put(f"{LISTS}/noir/items/42", json={"note": "see again"}, headers=headers)
    await client.put(f"{LISTS}/favorites/items/7", headers=headers)
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, format="PNG")
    avatar = await client.put(
        f"{ME}/avatar", files={"file": ("a.png", out.getvalue())}, headers=headers
    )
    assert avatar.status_code == 200
    room = (await client.post("/api/v1/rooms", json={"movie_id": 5}, headers=headers)).json()
    await client.post(
        "/api/v1/auth/login", json={"email": session["user"]["email"], "password": PASSWORD}
    )
    await client.post("/api/v1/auth/password/forgot", json={"email": session["user"]["email"]})
    room_id: str = room["id"]
    return room_id


async def test_deleting_an_account_leaves_only_the_record_of_it(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    keeper = await register(mail_client, email="keeper@example.com")
    session = await register(mail_client, email="leaver@example.com", display_name="Leaver")
    user_id, email = session["user"]["id"], session["user"]["email"]
    room_id = await populate(mail_client, session)
    # The leaver also talked in someone else's room, which stays (without their words).
    kept = (
        await mail_client.post("/api/v1/rooms", json={"movie_id": 9}, headers=bearer(keeper))
    ).json()
    said = [Draft(str(uuid.uuid4()), user_id, "Leaver", "bye all", 1)]
    assert await store.append_messages(mail_app.state.services.database, kept["id"], said)
    await sink.wait("leaver@example.com", 2)
    assert set(await rows_mentioning(mail_app, user_id)) >= {"users", "sessions", "avatars"}

    wrong = await mail_client.request(
        "DELETE", ME, json={"password": "not it"}, headers=bearer(session)
    )
    assert_error(wrong, 401, "invalid_credentials")
    response = await mail_client.request(
        "DELETE", ME, json={"password": PASSWORD}, headers=bearer(session)
    )
    assert response.status_code == 204, response.text
    assert_error(await mail_client.get(ME, headers=bearer(session)), 401, "invalid_token")
    left = await rows_mentioning(mail_app, user_id, email, "Leaver")
    assert set(left) == {"audit_events"}, left
    (record,) = left["audit_events"]
    assert "deleted" in record and email not in str(record)
    assert_error(
        await mail_client.get(f"/api/v1/rooms/{room_id}", headers=bearer(keeper)), 404, "not_found"
    )
    history = await mail_client.get(f"/api/v1/rooms/{kept['id']}/messages", headers=bearer(keeper))
    assert history.status_code == 200 and history.json() == []
    login = await mail_client.post(
        "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
    )
    assert_error(login, 401, "invalid_credentials")
    # The address is free again.
    assert (await register(mail_client, email=email))["user"]["id"] != user_id


async def test_an_account_without_a_password_leaves_with_a_code(
    mail_app: Any, mail_client: httpx.AsyncClient, sink: MailSink
) -> None:
    await mail_client.post("/api/v1/auth/email-code", json={"email": "coded@example.com"})
    code = code_of((await sink.wait("coded@example.com"))[0])
    session = (
        await mail_client.post(
            "/api/v1/auth/email-code/verify", json={"email": "coded@example.com", "code": code}
        )
    ).json()
    headers = bearer(session)
    no_proof = await mail_client.request("DELETE", ME, json={}, headers=headers)
    assert_error(no_proof, 422, "validation_error")
    stale = await mail_client.request("DELETE", ME, json={"code": code}, headers=headers)
    assert_error(stale, 401, "invalid_credentials")  # that code was used to sign in
    await mail_client.post("/api/v1/auth/email-code", json={"email": "coded@example.com"})
    fresh = code_of((await sink.wait("coded@example.com", 2))[1])
    response = await mail_client.request("DELETE", ME, json={"code": fresh}, headers=headers)
    assert response.status_code == 204, response.text
    assert set(await rows_mentioning(mail_app, session["user"]["id"])) == {"audit_events"}


async def test_deleting_needs_a_sign_in_and_a_proper_body(client: httpx.AsyncClient) -> None:
    session = await register(client)
    for body in ([], {"password": 5}, {"code": "12"}, {"password": "x", "extra": 1}):
        response = await client.request("DELETE", ME, json=body, headers=bearer(session))
        assert_error(response, 422, "validation_error")
    client.cookies.clear()
    assert_error(
        await client.request("DELETE", ME, json={"password": PASSWORD}), 401, "not_authenticated"
    )
    assert (await client.get(ME, headers=bearer(session))).status_code == 200


async def test_the_export_holds_everything(mail_app: Any, mail_client: httpx.AsyncClient) -> None:
    session = await register(mail_client, email="export@example.com")
    room_id = await populate(mail_client, session)
    response = await mail_client.get(f"{ME}/export", headers=bearer(session))
    assert response.status_code == 200
    data = response.json()
    assert data["account"]["email"] == "export@example.com"
    assert data["account"]["has_password"] is True
    assert len(data["sessions"]) == 2
    assert [a["address"] for a in data["known_addresses"]] == ["203.0.113.7"]
    lists = {entry["slug"]: entry for entry in data["lists"]}
    assert set(lists) == {"favorites", "watch-later", "noir"}
    assert lists["noir"]["items"] == [
        {"movie_id": 42, "added_at": lists["noir"]["items"][0]["added_at"], "note": "see again"}
    ]
    assert [i["movie_id"] for i in lists["favorites"]["items"]] == [7]
    assert {e["event"] for e in data["audit"]} >= {"registered", "signed_in"}
    assert data["messages"] == [] and data["reactions"] == []  # nothing said in the room
    assert room_id
    [place] = data["rooms"]  # the room hosted: a private room would still let the host in
    assert (place["room_id"], place["access"], place["last_joined_at"]) == (room_id, True, None)
    assert "password_hash" not in response.text and "refresh_hash" not in response.text
    mail_client.cookies.clear()
    assert_error(await mail_client.get(f"{ME}/export"), 401, "not_authenticated")


async def test_sqlite_and_postgres_agree_on_cascades(mail_app: Any) -> None:
    """Every table that names a user by foreign key deletes with it (the test above relies
    on the schema, not on the service remembering each table)."""
    async with reading(mail_app) as db:
        if db.get_bind().dialect.name == "sqlite":
            rows = (await db.execute(text("PRAGMA foreign_keys"))).all()
            assert rows == [(1,)]
