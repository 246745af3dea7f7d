"""The rooms REST endpoints, in-process, on SQLite and Postgres."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from sqlalchemy import update

from maria.rooms import store
from maria.rooms.store import Draft
from maria.users.models import User
from tests.support.api import assert_error, bearer, register
from tests.support.app import transaction

ROOMS = "/api/v1/rooms"


async def create(client: httpx.AsyncClient, session: dict[str, Any], **body: Any) -> httpx.Response:
    return await client.post(ROOMS, json={"movie_id": 301, **body}, headers=bearer(session))


async def test_create_and_get(client: httpx.AsyncClient) -> None:
    ann = await register(client, display_name="Ann")
    response = await create(client, ann, title="  Matrix night ")
    assert response.status_code == 201, response.text
    room = response.json()
    assert set(room) == {
        "id",
        "movie_id",
        "title",
        "host_id",
        "control",
        "created_at",
        "playback",
        "visibility",
        "capacity",
    }
    assert room["visibility"] == "public" and room["capacity"] is None
    assert room["movie_id"] == 301 and room["title"] == "Matrix night"
    assert room["host_id"] == ann["user"]["id"] and room["control"] == "host"
    assert room["playback"]["state"] == "paused" and room["playback"]["position"] == 0
    assert room["playback"]["seq"] == 0
    assert (await create(client, ann)).json()["title"] is None
    assert (await client.post(ROOMS + "/", json={"movie_id": 1}, headers=bearer(ann))).is_success

    bob = await register(client)  # anyone signed in, with the link, may look
    detail = await client.get(f"{ROOMS}/{room['id']}", headers=bearer(bob))
    assert detail.status_code == 200
    queue = {"items": [], "index": None, "movie_id": room["movie_id"], "media_seq": 0, "seq": 0}
    assert detail.json() == {**room, "members": [], "queue": queue}


async def test_create_validation(client: httpx.AsyncClient) -> None:
    ann = await register(client)
    for body in (
        {"movie_id": 0},
        {"movie_id": -5},
        {"movie_id": 2**31},
        {"movie_id": "301"},
        {"movie_id": True},
        {"movie_id": 1, "title": ""},
        {"movie_id": 1, "title": "x" * 201},
        {"movie_id": 1, "extra": 1},
        {},
    ):
        response = await client.post(ROOMS, json=body, headers=bearer(ann))
        assert_error(response, 422, "validation_error")
    # The client holds Ann's cookies: without the CSRF header they are not enough.
    assert_error(await client.post(ROOMS, json={"movie_id": 1}), 403, "csrf_failed")
    client.cookies.clear()
    assert_error(await client.post(ROOMS, json={"movie_id": 1}), 401, "not_authenticated")


async def test_unknown_rooms_are_404(client: httpx.AsyncClient) -> None:
    ann = await register(client)
    for room_id in (str(uuid.uuid4()), "nope", "x" * 500, "%00"):
        for method, suffix in (("GET", ""), ("GET", "/messages"), ("DELETE", "")):
            response = await client.request(
                method, f"{ROOMS}/{room_id}{suffix}", headers=bearer(ann)
            )
            assert_error(response, 404, "not_found")


async def _messages(app: Any, room_id: str, author: str, count: int) -> list[dict[str, Any]]:
    drafts = [
        Draft(str(uuid.uuid4()), author, "Ann", f"m{n}", int(time.time() * 1000))
        for n in range(count)
    ]
    stored = await store.append_messages(app.state.services.database, room_id, drafts)
    assert stored is not None
    return stored


async def test_message_history_pages_backwards(app: Any, client: httpx.AsyncClient) -> None:
    ann = await register(client)
    room = (await create(client, ann)).json()
    path = f"{ROOMS}/{room['id']}/messages"
    assert (await client.get(path, headers=bearer(ann))).json() == []
    stored = await _messages(app, room["id"], ann["user"]["id"], 130)

    newest = (await client.get(path, headers=bearer(ann))).json()
    assert newest == stored[-50:]  # newest last, default 50
    page = (await client.get(path, params={"limit": 100}, headers=bearer(ann))).json()
    assert page == stored[-100:]
    walked: list[dict[str, Any]] = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": 40}
        if before:
            params["before"] = before
        page = (await client.get(path, params=params, headers=bearer(ann))).json()
        if not page:
            break
        walked = page + walked
        before = page[0]["id"]
    assert walked == stored  # every message once, in the room's order
    for params in ({"limit": 0}, {"limit": 101}, {"limit": "x"}, {"before": "x" * 65}):
        assert_error(
            await client.get(path, params=params, headers=bearer(ann)), 422, "validation_error"
        )
    other = (await create(client, ann)).json()
    foreign = await _messages(app, other["id"], ann["user"]["id"], 1)
    response = await client.get(path, params={"before": foreign[0]["id"]}, headers=bearer(ann))
    assert_error(response, 422, "validation_error")  # a cursor of another room
    response = await client.get(path, params={"before": str(uuid.uuid4())}, headers=bearer(ann))
    assert_error(response, 422, "validation_error")


async def test_delete_by_host_or_admin(app: Any, client: httpx.AsyncClient) -> None:
    ann, bob, boss = await register(client), await register(client), await register(client)
    async with transaction(app) as db:
        await db.execute(update(User).where(User.id == boss["user"]["id"]).values(role="admin"))
    boss = (
        await client.post(
            "/api/v1/auth/login",
            json={"email": boss["user"]["email"], "password": "correct horse battery staple"},
        )
    ).json()
    assert boss["user"]["role"] == "admin"
    first, second = (await create(client, ann)).json(), (await create(client, ann)).json()
    await _messages(app, first["id"], bob["user"]["id"], 3)
    assert_error(
        await client.delete(f"{ROOMS}/{first['id']}", headers=bearer(bob)), 403, "forbidden"
    )
    assert (await client.delete(f"{ROOMS}/{first['id']}", headers=bearer(ann))).status_code == 204
    assert (await client.delete(f"{ROOMS}/{second['id']}", headers=bearer(boss))).status_code == 204
    for room in (first, second):
        assert_error(
            await client.get(f"{ROOMS}/{room['id']}", headers=bearer(ann)), 404, "not_found"
        )


async def test_deleting_an_account_keeps_its_rooms_but_not_its_messages(
    app: Any, client: httpx.AsyncClient
) -> None:
    ann, bob = await register(client), await register(client)
    room = (await create(client, ann)).json()
    await _messages(app, room["id"], ann["user"]["id"], 2)
    await _messages(app, room["id"], bob["user"]["id"], 1)
    async with transaction(app) as db:
        await db.delete(await db.get(User, ann["user"]["id"]))
    detail = await client.get(f"{ROOMS}/{room['id']}", headers=bearer(bob))
    assert detail.status_code == 200 and detail.json()["host_id"] is None
    messages = (await client.get(f"{ROOMS}/{room['id']}/messages", headers=bearer(bob))).json()
    assert [m["user_id"] for m in messages] == [bob["user"]["id"]]


async def test_room_creation_is_rate_limited(client: httpx.AsyncClient) -> None:
    ann = await register(client)
    statuses = [(await create(client, ann)).status_code for _ in range(31)]
    assert statuses[:30] == [201] * 30
    response = await create(client, ann)
    assert_error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0
