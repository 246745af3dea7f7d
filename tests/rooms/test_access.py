"""Who may enter a room, over real sockets on one instance: private rooms and their invites,
capacity, and the rooms a user hosts or was in.

Capacity under joins racing on two instances: ``test_moderation_redis.py``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed

from maria.rooms.invites import InviteTokens
from tests.support.api import TEST_SECRET, assert_error, bearer
from tests.support.rooms import Api, Peer
from tests.support.servers import Server, converge

FORBIDDEN, FULL = 4403, 4409
ROOMS = "/api/v1/rooms"


def uid(session: dict[str, Any]) -> str:
    user_id: str = session["user"]["id"]
    return user_id


async def test_a_private_room_is_entered_with_an_invite(server: Server, api: Api) -> None:
    ann, bob, cat = await api.user("Ann"), await api.user("Bob"), await api.user("Cat")
    room = await api.room(ann, visibility="private")
    assert room["visibility"] == "private"
    path = f"{ROOMS}/{room['id']}"

    # To anyone without access it does not exist: REST 404, the socket 4403.
    for method, suffix, body in (
        ("GET", "", None),
        ("GET", "/messages", None),
        ("PATCH", "", {"title": "Mine"}),
        ("DELETE", "", None),
        ("GET", "/invites", None),
        ("POST", "/invites", {}),
    ):
        response = await api.client.request(method, path + suffix, json=body, headers=bearer(bob))
        assert_error(response, 404, "not_found")
    code, reason = await Peer.refused(server.url, room["id"], bob["access_token"])
    assert code == FORBIDDEN and reason == "forbidden: an invite is needed", reason

    a = await Peer.open(server.url, room["id"], ann["access_token"])  # the host may
    assert a.welcome["room"]["visibility"] == "private"
    invite = await api.invite(ann, room["id"])
    assert set(invite) == {
        "id",
        "token",
        "url",
        "expires_at",
        "single_use",
        "created_by",
        "used_at",
        "revoked_at",
    }
    assert invite["url"] == f"http://127.0.0.1:8000/rooms/{room['id']}?invite={invite['token']}"
    assert invite["created_by"] == uid(ann) and invite["single_use"] is False
    joined = await api.join(bob, room["id"], invite["token"])
    assert joined.status_code == 200, joined.text
    assert joined.json()["id"] == room["id"]
    assert (await api.get(bob, path)).status_code == 200

    b = await Peer.open(server.url, room["id"], bob["access_token"])
    await a.expect("presence", event="join", user_id=uid(bob))
    await b.close()
    for _ in range(2):  # access survives reconnects
        b = await Peer.open(server.url, room["id"], bob["access_token"])
        await b.close()
    code, _ = await Peer.refused(server.url, room["id"], cat["access_token"])
    assert code == FORBIDDEN  # an invite is for whoever redeems it, not everyone
    await a.close()


async def test_a_room_turning_private_keeps_who_is_in_it(server: Server, api: Api) -> None:
    ann, bob, cat = await api.user("Ann"), await api.user("Bob"), await api.user("Cat")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    await a.expect("presence", event="join")
    response = await api.client.patch(
        f"{ROOMS}/{room['id']}", json={"visibility": "private"}, headers=bearer(ann)
    )
    assert response.status_code == 200 and response.json()["visibility"] == "private"
    await b.close()
    b = await Peer.open(server.url, room["id"], bob["access_token"])  # Bob was in it
    code, _ = await Peer.refused(server.url, room["id"], cat["access_token"])
    assert code == FORBIDDEN
    response = await api.client.patch(
        f"{ROOMS}/{room['id']}", json={"visibility": "public"}, headers=bearer(ann)
    )
    assert response.json()["visibility"] == "public"
    c = await Peer.open(server.url, room["id"], cat["access_token"])
    for p in (a, b, c):
        await p.close()


async def test_invites_are_refused_with_their_codes(server: Server, api: Api) -> None:
    ann, bob, cat = await api.user("Ann"), await api.user("Bob"), await api.user("Cat")
    room = await api.room(ann, visibility="private")
    other = await api.room(ann, visibility="private")

    single = await api.invite(ann, room["id"], single_use=True, expires_in=600)
    assert (await api.join(bob, room["id"], single["token"])).status_code == 200
    assert (await api.join(bob, room["id"], single["token"])).status_code == 200  # again
    assert_error(await api.join(cat, room["id"], single["token"]), 410, "invite_used")

    revoked = await api.invite(ann, room["id"])
    delete = f"{ROOMS}/{room['id']}/invites/{revoked['id']}"
    assert (await api.client.delete(delete, headers=bearer(ann))).status_code == 204
    assert (await api.client.delete(delete, headers=bearer(ann))).status_code == 204
    assert_error(await api.join(cat, room["id"], revoked["token"]), 410, "invite_revoked")
    unknown = f"{ROOMS}/{room['id']}/invites/{uuid.uuid4()}"
    assert_error(await api.client.delete(unknown, headers=bearer(ann)), 404, "not_found")

    # Signed like Maria's, for a past moment: refused from the token alone.
    tokens = InviteTokens(TEST_SECRET.encode())
    expired = tokens.issue(single["id"], room["id"], int(time.time()) - 5)
    assert_error(await api.join(cat, room["id"], expired), 410, "invite_expired")

    fine = await api.invite(ann, room["id"])
    forged = fine["token"][:-3] + ("AAA" if not fine["token"].endswith("AAA") else "BBB")
    made_up = tokens.issue(str(uuid.uuid4()), room["id"], int(time.time()) + 60)
    for token in (
        "garbage",
        forged,
        made_up,  # genuine signature, no such invite
        fine["token"].replace("i1.", "i2.", 1),
        (await api.invite(ann, other["id"]))["token"],  # another room's
    ):
        assert_error(await api.join(cat, room["id"], token), 404, "not_found")
    assert_error(await api.join(cat, other["id"], fine["token"]), 404, "not_found")
    code, _ = await Peer.refused(server.url, room["id"], cat["access_token"])
    assert code == FORBIDDEN  # none of it let Cat in

    listed = await api.get(ann, f"{ROOMS}/{room['id']}/invites")
    by_id = {i["id"]: i for i in listed.json()}
    assert set(by_id) == {single["id"], revoked["id"], fine["id"]}
    assert by_id[single["id"]]["used_at"] is not None
    assert by_id[revoked["id"]]["revoked_at"] is not None
    assert by_id[fine["id"]]["token"] == fine["token"]  # the same link, listed again
    assert_error(await api.get(bob, f"{ROOMS}/{room['id']}/invites"), 403, "forbidden")


async def test_one_of_racing_redeemers_gets_a_single_use_invite(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    crowd = [await api.user(f"U{i}") for i in range(6)]
    room = await api.room(ann, visibility="private")
    invite = await api.invite(ann, room["id"], single_use=True)
    answers = await asyncio.gather(*(api.join(u, room["id"], invite["token"]) for u in crowd))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200] + [410] * 5, [r.text for r in answers]
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 410} == {"invite_used"}


async def _enter(base: str, room_id: str, token: str) -> Peer | int:
    """A socket that was let in, or the code it was closed with."""
    peer = await Peer.open(base, room_id)
    await peer.send({"type": "auth", "token": token})
    try:
        peer.welcome = await peer.expect("welcome")
    except ConnectionClosed:
        assert peer.ws.close_code is not None
        return peer.ws.close_code
    return peer


async def test_capacity_counts_users_present(server: Server, api: Api) -> None:
    ann, bob, cat = await api.user("Ann"), await api.user("Bob"), await api.user("Cat")
    room = await api.room(ann, capacity=2)
    assert room["capacity"] == 2
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    code, reason = await Peer.refused(server.url, room["id"], cat["access_token"])
    assert code == FULL and reason and reason.startswith("room_full"), reason
    a2 = await Peer.open(server.url, room["id"], ann["access_token"])  # a tab: present
    await b.close()  # Bob leaves (after the reconnect grace): a place is free again

    async def cat_gets_in() -> bool:
        entered = await _enter(server.url, room["id"], cat["access_token"])
        if isinstance(entered, Peer):
            await entered.close()
            return True
        assert entered == FULL
        await asyncio.sleep(0.2)
        return False

    await converge("a place freed", cat_gets_in, within=20)
    response = await api.client.patch(
        f"{ROOMS}/{room['id']}", json={"capacity": None}, headers=bearer(ann)
    )
    assert response.json()["capacity"] is None  # the server's again
    for p in (a, a2):
        await p.close()


async def test_concurrent_joins_never_go_over_capacity(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    crowd = [await api.user(f"C{i}") for i in range(10)]
    room = await api.room(ann, capacity=3)
    entered = await asyncio.gather(
        *(_enter(server.url, room["id"], u["access_token"]) for u in crowd)
    )
    inside = [e for e in entered if isinstance(e, Peer)]
    assert len(inside) == 3, entered
    assert [e for e in entered if isinstance(e, int)] == [FULL] * 7
    detail = (await api.get(ann, f"{ROOMS}/{room['id']}")).json()
    assert len(detail["members"]) == 3
    for p in inside:
        await p.close()


async def test_the_rooms_i_host_or_was_in(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    shared = await api.room(ann)
    annes = await api.room(ann)
    bobs = await api.room(bob)
    b = await Peer.open(server.url, shared["id"], bob["access_token"])
    await b.close()

    async def listed(session: dict[str, Any], query: str = "") -> list[dict[str, Any]]:
        response = await api.get(session, f"{ROOMS}{query}")
        assert response.status_code == 200, response.text
        rooms: list[dict[str, Any]] = response.json()
        return rooms

    async def bob_was_in_it() -> bool:
        return [r["id"] for r in await listed(bob, "?role=member")] == [shared["id"]]

    await converge("the entry recorded", bob_was_in_it, within=10)
    [entry] = await listed(bob, "?role=member")
    assert entry["my_role"] == "member" and entry["last_joined_at"] is not None
    assert {k: entry[k] for k in shared} == shared
    assert [(r["id"], r["my_role"]) for r in await listed(bob)] == [
        (shared["id"], "member"),  # entered after Bob's own room was created
        (bobs["id"], "host"),
    ]
    assert [r["id"] for r in await listed(bob, "?role=host")] == [bobs["id"]]
    assert [r["id"] for r in await listed(ann, "?role=host")] == [annes["id"], shared["id"]]
    assert await listed(ann, "?role=member") == []
    for query in ("?role=admin", "?role=", "?role=HOST"):
        assert_error(await api.get(ann, f"{ROOMS}{query}"), 422, "validation_error")


async def test_room_settings_reach_the_live_room(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    response = await api.client.patch(
        f"{ROOMS}/{room['id']}",
        json={"title": "Late show", "capacity": 1},
        headers=bearer(ann),
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Late show" and response.json()["capacity"] == 1
    code, _ = await Peer.refused(server.url, room["id"], bob["access_token"])
    assert code == FULL  # the live room knows its new capacity
    again = await Peer.open(server.url, room["id"], ann["access_token"])
    assert again.welcome["room"]["title"] == "Late show"
    assert again.welcome["room"]["capacity"] == 1
    for p in (a, again):
        await p.close()
