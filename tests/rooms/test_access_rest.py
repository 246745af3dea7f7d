"""The REST side of running a room, in-process on SQLite and Postgres (every answer checked
against /openapi.json): settings, invites, joining, the room list, and bad input to each
(a 4xx in the contract's format, never a 500)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from maria.db import new_id
from maria.rooms import reactions
from maria.rooms.invites import InviteTokens
from maria.rooms.models import RoomReaction
from tests.support.api import TEST_SECRET, assert_error, bearer, register
from tests.support.app import reading

ROOMS = "/api/v1/rooms"


async def create(client: httpx.AsyncClient, session: dict[str, Any], **body: Any) -> dict[str, Any]:
    response = await client.post(ROOMS, json={"movie_id": 301, **body}, headers=bearer(session))
    assert response.status_code == 201, response.text
    room: dict[str, Any] = response.json()
    return room


async def test_create_with_visibility_and_capacity(client: httpx.AsyncClient) -> None:
    ann = await register(client)
    room = await create(client, ann, visibility="private", capacity=12)
    assert (room["visibility"], room["capacity"]) == ("private", 12)
    big = await create(client, ann, capacity=5000)
    assert big["capacity"] == 200  # lowered to MARIA_ROOM_CAPACITY
    for body in (
        {"visibility": "secret"},
        {"visibility": None},
        {"visibility": "PRIVATE"},
        {"capacity": 0},
        {"capacity": -1},
        {"capacity": "5"},
        {"capacity": 1.5},
        {"capacity": True},
        {"capacity": 100_001},
    ):
        response = await client.post(ROOMS, json={"movie_id": 301, **body}, headers=bearer(ann))
        assert_error(response, 422, "validation_error")


async def test_update_a_room(client: httpx.AsyncClient) -> None:
    ann, bob = await register(client), await register(client)
    room = await create(client, ann, title="Old")
    path = f"{ROOMS}/{room['id']}"
    response = await client.patch(path, json={"capacity": 7}, headers=bearer(ann))
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["capacity"] == 7 and changed["title"] == "Old"  # the rest as it was
    response = await client.patch(
        path, json={"title": None, "capacity": None, "visibility": "private"}, headers=bearer(ann)
    )
    assert response.json() == {**room, "title": None, "capacity": None, "visibility": "private"}
    assert (await client.patch(path, json={}, headers=bearer(ann))).status_code == 200
    for body in (
        {"visibility": "hidden"},
        {"visibility": None},
        {"capacity": 0},
        {"capacity": "10"},
        {"capacity": 2**40},
        {"title": ""},
        {"title": "x" * 201},
        {"movie_id": 5},
        {"host_id": bob["user"]["id"]},
        [],
        "private",
    ):
        response = await client.patch(path, json=body, headers=bearer(ann))
        assert_error(response, 422, "validation_error")
    bad_json = await client.patch(
        path, content=b"{", headers={**bearer(ann), "content-type": "application/json"}
    )
    assert bad_json.status_code in (400, 422)
    # A private room is none of Bob's business; an unknown one is nobody's.
    assert_error(await client.patch(path, json={}, headers=bearer(bob)), 404, "not_found")
    for room_id in (str(uuid.uuid4()), "nope"):
        response = await client.patch(f"{ROOMS}/{room_id}", json={}, headers=bearer(ann))
        assert_error(response, 404, "not_found")
    public = await create(client, ann)
    response = await client.patch(
        f"{ROOMS}/{public['id']}", json={"title": "Bob's"}, headers=bearer(bob)
    )
    assert_error(response, 403, "forbidden")


async def test_invites(client: httpx.AsyncClient) -> None:
    ann, bob = await register(client), await register(client)
    room = await create(client, ann, visibility="private")
    invites = f"{ROOMS}/{room['id']}/invites"
    before = time.time()
    response = await client.post(invites, json={}, headers=bearer(ann))
    assert response.status_code == 201, response.text
    invite = response.json()
    assert invite["single_use"] is False and invite["revoked_at"] is None
    assert invite["url"].endswith(f"/rooms/{room['id']}?invite={invite['token']}")
    seconds = _unix(invite["expires_at"]) - before
    assert 86_398 <= seconds <= 86_401  # a day by default
    short = (await client.post(invites, json={"expires_in": 60}, headers=bearer(ann))).json()
    assert 58 <= _unix(short["expires_at"]) - before <= 61
    for body in (
        {"expires_in": 59},
        {"expires_in": 30 * 86_400 + 1},
        {"expires_in": "3600"},
        {"expires_in": 3600.5},
        {"expires_in": None},
        {"expires_in": True},
        {"single_use": "yes"},
        {"single_use": 1},
        {"uses": 3},
        [],
    ):
        response = await client.post(invites, json=body, headers=bearer(ann))
        assert_error(response, 422, "validation_error")
    listed = (await client.get(invites, headers=bearer(ann))).json()
    assert [i["id"] for i in listed] == [short["id"], invite["id"]]  # newest first

    # The join endpoint: garbage of every shape is 404 or 422, never a 500.
    join = f"{ROOMS}/{room['id']}/join"
    for token in (
        "",
        "x" * 201,
        None,
        5,
        ["i1"],
    ):
        response = await client.post(join, json={"invite": token}, headers=bearer(bob))
        assert_error(response, 422, "validation_error")
    assert_error(await client.post(join, json={}, headers=bearer(bob)), 422, "validation_error")
    tokens = InviteTokens(TEST_SECRET.encode())
    for token in (
        "garbage",
        "i1." + "0" * 32 + ".99999999999.AAAA",
        "i1.\u0000." + "a" * 43,
        "i1." + "f" * 32 + "." + "9" * 12 + "." + "A" * 43,
        tokens.issue(invite["id"], str(uuid.uuid4()), int(time.time()) + 60),
        invite["token"] + "x",
    ):
        response = await client.post(join, json={"invite": token}, headers=bearer(bob))
        assert_error(response, 404, "not_found")
    for room_id in ("nope", str(uuid.uuid4())):  # the token names another room
        response = await client.post(
            f"{ROOMS}/{room_id}/join", json={"invite": invite["token"]}, headers=bearer(bob)
        )
        assert_error(response, 404, "not_found")
    expired = tokens.issue(invite["id"], room["id"], int(time.time()) - 1)
    response = await client.post(join, json={"invite": expired}, headers=bearer(bob))
    assert_error(response, 410, "invite_expired")
    response = await client.post(join, json={"invite": invite["token"]}, headers=bearer(bob))
    assert response.status_code == 200 and response.json()["id"] == room["id"]
    revoke = f"{invites}/{short['id']}"
    assert (await client.delete(revoke, headers=bearer(bob))).status_code == 403  # now he sees
    assert (await client.delete(revoke, headers=bearer(ann))).status_code == 204
    response = await client.post(join, json={"invite": short["token"]}, headers=bearer(bob))
    assert_error(response, 410, "invite_revoked")
    for invite_id in ("nope", str(uuid.uuid4()), "x" * 300):
        response = await client.delete(f"{invites}/{invite_id}", headers=bearer(ann))
        assert_error(response, 404, "not_found")


def _unix(moment: str) -> float:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()


async def test_the_room_list_rejects_bad_roles(client: httpx.AsyncClient) -> None:
    ann = await register(client)
    room = await create(client, ann)
    listed = await client.get(ROOMS, headers=bearer(ann))
    assert [(r["id"], r["my_role"], r["last_joined_at"]) for r in listed.json()] == [
        (room["id"], "host", None)
    ]
    for query in ("role=x", "role=hosts", "role=1"):
        assert_error(
            await client.get(f"{ROOMS}?{query}", headers=bearer(ann)), 422, "validation_error"
        )
    client.cookies.clear()
    assert_error(await client.get(ROOMS), 401, "not_authenticated")


async def test_only_the_newest_reactions_are_kept(app: Any, client: httpx.AsyncClient) -> None:
    ann = await register(client)
    room = await create(client, ann)
    database = app.state.services.database
    for n in range(reactions.KEEP + 5):
        row = {
            "id": new_id(),
            "user_id": ann["user"]["id"],
            "name": "Ann",
            "emoji": "🔥",
            "message_id": None,
            "position": float(n),
            "timestamp": 1_000 + n,
        }
        assert await reactions.store(database, room["id"], row) == (True, None)
    async with reading(app) as db:
        kept = await db.execute(
            select(func.count(), func.min(RoomReaction.position)).where(
                RoomReaction.room_id == room["id"]
            )
        )
        assert tuple(kept.one()) == (reactions.KEEP, 5.0)
    recent = await reactions.recent(database, room["id"])
    assert len(recent) == 100 and recent[0][0]["position"] == reactions.KEEP + 5 - 100
    assert recent[-1][0]["position"] == reactions.KEEP + 4
