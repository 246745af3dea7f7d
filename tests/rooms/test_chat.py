"""Chat, presence and history between real sockets on one real server."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.api import assert_error, bearer
from tests.support.rooms import Api, Peer
from tests.support.servers import Server


async def test_two_users_chat(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    try:
        await a.send({"type": "chat", "text": "  hello, Bob  "})
        got_a, got_b = await a.expect("chat"), await b.expect("chat")
        assert got_a == got_b  # the same id and timestamp for every receiver
        assert got_a["text"] == "hello, Bob"  # trimmed
        assert got_a["user_id"] == ann["user"]["id"] and got_a["name"] == "Ann"
        assert isinstance(got_a["id"], str) and isinstance(got_a["timestamp"], int)
        assert got_a["timestamp"] > 1_600_000_000_000  # unix ms

        await b.send({"type": "chat", "text": "hi Ann"})
        reply = await a.expect("chat")
        assert (await b.expect("chat")) == reply
        assert reply["name"] == "Bob" and reply["seq"] == got_a["seq"] + 1

        # Stored before it was broadcast: the history already has both.
        history = await api.get(ann, f"/api/v1/rooms/{room['id']}/messages")
        assert history.status_code == 200
        assert [m["id"] for m in history.json()] == [got_a["id"], reply["id"]]
        assert history.json()[0] == {k: v for k, v in got_a.items() if k != "type"}
    finally:
        await a.close()
        await b.close()


async def test_welcome_and_presence(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    w = a.welcome
    assert w["room"]["id"] == room["id"] and w["room"]["movie_id"] == 301
    assert w["host_id"] == ann["user"]["id"] and w["control"] == "host"
    assert w["user_id"] == ann["user"]["id"]
    assert [m["user_id"] for m in w["members"]] == [ann["user"]["id"]]
    assert w["playback"] == room["playback"] and w["history"] == []
    assert isinstance(w["server_time"], int)

    b = await Peer.open(server.url, room["id"], bob["access_token"])
    joined = await a.expect("presence")
    assert joined == {
        "type": "presence",
        "event": "join",
        "user_id": bob["user"]["id"],
        "name": "Bob",
    }
    assert [m["user_id"] for m in b.welcome["members"]] == [ann["user"]["id"], bob["user"]["id"]]
    detail = (await api.get(ann, f"/api/v1/rooms/{room['id']}")).json()
    assert [m["name"] for m in detail["members"]] == ["Ann", "Bob"]

    # A second tab of Bob's: no join for it, and no leave until the last tab closes.
    b2 = await Peer.open(server.url, room["id"], bob["access_token"])
    await b.close()
    await a.ping()
    await b2.send({"type": "chat", "text": "still here"})
    await a.expect("chat", text="still here")
    assert not [f for f in a.skipped if f["type"] == "presence"]
    await b2.close()
    left = await a.expect("presence")  # after the reconnect grace
    assert left["event"] == "leave" and left["user_id"] == bob["user"]["id"]
    assert left["name"] == "Bob"
    detail = (await api.get(ann, f"/api/v1/rooms/{room['id']}")).json()
    assert [m["name"] for m in detail["members"]] == ["Ann"]
    await a.close()


async def test_history_on_join_is_the_last_50_in_order(server: Server, api: Api) -> None:
    users = [await api.user(f"U{i}") for i in range(3)]
    room = await api.room(users[0])
    peers = [await Peer.open(server.url, room["id"], u["access_token"]) for u in users]
    sent = []
    for n in range(55):
        peer = peers[n % 3]
        await peer.send({"type": "chat", "text": f"message {n}"})
        sent.append(f"message {n}")
    received = await peers[0].chats(55)
    # One sender's messages keep their order; all senders' interleave in one order.
    for i in range(3):
        mine = [m["text"] for m in received if m["name"] == f"U{i}"]
        assert mine == [t for n, t in enumerate(sent) if n % 3 == i]
    late = await api.user("Late")
    peer = await Peer.open(server.url, room["id"], late["access_token"])
    assert peer.welcome["history"] == [
        {k: v for k, v in m.items() if k != "type"} for m in received[-50:]
    ]
    assert [m["seq"] for m in peer.welcome["history"]] == list(range(6, 56))
    for p in [*peers, peer]:
        await p.close()


async def test_every_member_sees_one_order(server: Server, api: Api) -> None:
    users = [await api.user(f"S{i}") for i in range(4)]
    room = await api.room(users[0])
    peers = [await Peer.open(server.url, room["id"], u["access_token"]) for u in users]

    async def burst(peer: Peer, i: int) -> None:
        for n in range(15):
            await peer.send({"type": "chat", "text": f"{i}:{n}"})

    await asyncio.gather(*(burst(p, i) for i, p in enumerate(peers)))
    orders = [[m["id"] for m in await p.chats(60)] for p in peers]
    assert all(order == orders[0] for order in orders)
    history = await api.get(users[0], f"/api/v1/rooms/{room['id']}/messages?limit=100")
    assert [m["id"] for m in history.json()] == orders[0]
    for p in peers:
        await p.close()


async def test_chat_is_throttled_per_user_without_hurting_others(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    limit = 20  # MARIA_ROOM_CHAT_LIMIT of these servers, per 2 s window
    total = 2 * limit + 5  # more than two windows' worth, however the burst falls on them
    for n in range(total):
        await b.send({"type": "chat", "text": f"flood {n}"})
    errors, echoed = [], []
    while len(errors) + len(echoed) < total:  # each comes back: as Bob's chat or an error
        frame = await b.recv()
        if frame["type"] == "error":
            errors.append(frame)
        elif frame["type"] == "chat":
            echoed.append(frame)
    assert errors and all(e["code"] == "rate_limited" for e in errors)
    assert all(e["retry_after"] >= 1 for e in errors)
    accepted = total - len(errors)
    assert limit <= accepted <= 2 * limit
    flood = [int(m["text"].split()[1]) for m in await a.chats(accepted)]
    assert flood == sorted(flood)  # the accepted ones, in the order sent
    assert [m["text"] for m in echoed] == [f"flood {n}" for n in flood]
    # Ann is unaffected: her socket works and her messages go through.
    await a.send({"type": "chat", "text": "calm"})
    assert (await b.expect("chat", text="calm"))["name"] == "Ann"
    await a.close()
    await b.close()


async def test_chat_text_rules(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    for text in ["", "   ", "x" * 1001, "nul \u0000 inside"]:
        await a.send({"type": "chat", "text": text})
        assert (await a.expect("error"))["code"] == "validation_error"
    await a.send({"type": "chat", "text": "\ud800 lone surrogate"})
    assert (await a.expect("error"))["code"] == "validation_error"
    edge = " " + "я" * 1000 + "\n"
    await a.send({"type": "chat", "text": edge})
    assert (await a.expect("chat"))["text"] == "я" * 1000
    messages = await api.get(ann, f"/api/v1/rooms/{room['id']}/messages")
    assert [m["text"] for m in messages.json()] == ["я" * 1000]
    await a.close()


async def test_rooms_need_auth_over_http(server: Server, api: Api) -> None:
    ann = await api.user()
    room = await api.room(ann)
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        for path in (f"/api/v1/rooms/{room['id']}", f"/api/v1/rooms/{room['id']}/messages"):
            assert_error(await anonymous.get(path), 401, "not_authenticated")
    assert (await api.client.get(f"/api/v1/rooms/{room['id']}", headers=bearer(ann))).is_success
