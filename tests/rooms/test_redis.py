"""Two ``maria serve`` processes sharing Postgres and Redis: one room across both."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.api import bearer, register
from tests.support.rooms import Api, Peer, server_env
from tests.support.servers import Server, started
from tests.support.services import flushed_redis, fresh_postgres

Pair = tuple[Server, Server]


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    redis_url = flushed_redis()
    tmp = tmp_path_factory.mktemp("rooms-redis")
    with ExitStack() as stack:
        database = stack.enter_context(fresh_postgres())
        env = server_env(tmp / "data", MARIA_DATABASE_URL=database, MARIA_REDIS_URL=redis_url)
        a = started(stack, "redis-A", env, tmp)  # migrates the database first
        b = started(stack, "redis-B", env, tmp)
        yield a, b


@pytest.fixture
async def api(pair: Pair) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=pair[0].url, timeout=30) as client:
        yield Api(client)


async def test_members_on_both_processes_see_one_order(pair: Pair, api: Api) -> None:
    a, b = pair
    users = [await api.user(f"U{i}") for i in range(4)]
    room = await api.room(users[0])
    peers = [
        await Peer.open(server.url, room["id"], user["access_token"])
        for server, user in zip((a, a, b, b), users, strict=True)
    ]

    async def burst(peer: Peer, i: int) -> None:
        for n in range(20):
            await peer.send({"type": "chat", "text": f"{i}:{n}"})

    senders = [peers[0], peers[2], peers[3]]  # one on A, two on B
    await asyncio.gather(*(burst(p, i) for i, p in enumerate(senders)))
    received = [await p.chats(60) for p in peers]
    orders = [[m["id"] for m in chats] for chats in received]
    assert all(order == orders[0] for order in orders)
    for i in range(3):  # each sender's messages in the order it sent them
        mine = [m["text"] for m in received[0] if m["text"].startswith(f"{i}:")]
        assert mine == [f"{i}:{n}" for n in range(20)]
    history = await api.get(users[0], f"/api/v1/rooms/{room['id']}/messages?limit=100")
    assert [m["id"] for m in history.json()] == orders[0]
    assert [m["seq"] for m in history.json()] == list(range(1, 61))
    for p in peers:
        await p.close()


async def test_presence_and_playback_cross_processes(pair: Pair, api: Api) -> None:
    a, b = pair
    ann, bob, cat = await api.user("Ann"), await api.user("Bob"), await api.user("Cat")
    room = await api.room(ann)
    pa = await Peer.open(a.url, room["id"], ann["access_token"])
    pb = await Peer.open(b.url, room["id"], bob["access_token"])
    joined = await pa.expect("presence", event="join")
    assert joined["user_id"] == bob["user"]["id"]
    assert {m["name"] for m in pb.welcome["members"]} == {"Ann", "Bob"}
    async with httpx.AsyncClient(base_url=b.url) as on_b:
        detail = (await on_b.get(f"/api/v1/rooms/{room['id']}", headers=bearer(cat))).json()
    assert [m["name"] for m in detail["members"]] == ["Ann", "Bob"]

    await pb.send({"type": "playback", "action": "play", "position": 7})
    assert (await pb.expect("error"))["code"] == "forbidden"  # B knows Ann is the host
    await pa.send({"type": "playback", "action": "play", "position": 7})
    state = await pb.expect("playback")
    assert state["position"] == 7 and state["by"] == ann["user"]["id"]
    await pa.send({"type": "control", "mode": "everyone"})
    await pb.expect("control", mode="everyone")
    await pb.send({"type": "playback", "action": "seek", "position": 42})
    assert (await pa.expect("playback", position=42))["by"] == bob["user"]["id"]

    pc = await Peer.open(b.url, room["id"], cat["access_token"])  # late, on B
    assert pc.welcome["playback"]["position"] == 42
    await pa.expect("presence", event="join", user_id=cat["user"]["id"])
    await pc.close()
    left = await pa.expect("presence", event="leave")
    assert left["user_id"] == cat["user"]["id"]
    for p in (pa, pb):
        await p.close()


async def test_the_chat_throttle_counts_a_user_on_both_processes(pair: Pair, api: Api) -> None:
    """Two tabs of one user, behind the balancer on different processes, share one limit."""
    a, b = pair
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    tabs = {
        "A": await Peer.open(a.url, room["id"], bob["access_token"]),
        "B": await Peer.open(b.url, room["id"], bob["access_token"]),
    }
    limit = 20  # MARIA_ROOM_CHAT_LIMIT per 2 s window; each tab sends a whole limit's worth
    for tab, peer in tabs.items():
        for n in range(limit):
            await peer.send({"type": "chat", "text": f"{tab} {n}"})
    refused = 0
    for tab, peer in tabs.items():
        answered = 0
        while answered < limit:  # each of this tab's messages comes back: as chat or error
            frame = await peer.recv()
            if frame["type"] == "error":
                assert frame["code"] == "rate_limited"
                answered, refused = answered + 1, refused + 1
            elif frame["type"] == "chat" and frame["text"].startswith(tab):
                answered += 1
    # Counted per process, both tabs would have got every message through.
    assert 0 < refused <= limit
    for peer in tabs.values():
        await peer.close()


async def test_reconnecting_to_the_other_process_causes_no_churn(pair: Pair, api: Api) -> None:
    a, b = pair
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    pa = await Peer.open(a.url, room["id"], ann["access_token"])
    pb = await Peer.open(a.url, room["id"], bob["access_token"])
    await pa.expect("presence", event="join")
    await pb.close()
    pb = await Peer.open(b.url, room["id"], bob["access_token"])  # the balancer sent it to B
    await asyncio.sleep(2.5)  # past A's reconnect grace (1.5 s)
    await pb.send({"type": "chat", "text": "moved"})
    await pa.expect("chat", text="moved")
    assert not [f for f in pa.skipped if f["type"] == "presence"]
    for p in (pa, pb):
        await p.close()


async def test_logout_and_delete_reach_the_other_process(pair: Pair, api: Api) -> None:
    a, b = pair
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    pb = await Peer.open(b.url, room["id"], bob["access_token"])
    pa = await Peer.open(b.url, room["id"], ann["access_token"])
    response = await api.client.post(  # on A
        "/api/v1/auth/logout", json={"scope": "local"}, headers=bearer(bob)
    )
    assert response.status_code == 204
    assert (await pb.closed())[0] == 4401
    response = await api.client.delete(f"/api/v1/rooms/{room['id']}", headers=bearer(ann))
    assert response.status_code == 204
    code, reason = await pa.closed()
    assert code == 4410 and reason and reason.startswith("room_deleted")


async def test_members_of_a_dead_process_leave(pair: Pair, api: Api, tmp_path: Path) -> None:
    a, _ = pair
    with ExitStack() as stack:
        doomed = started(stack, "redis-C", a.env, tmp_path)
        ann, bob = await api.user("Ann"), await api.user("Bob")
        room = await api.room(ann)
        pa = await Peer.open(a.url, room["id"], ann["access_token"])
        pc = await Peer.open(doomed.url, room["id"], bob["access_token"])
        await pa.expect("presence", event="join")
        assert doomed.proc is not None
        os.killpg(doomed.proc.pid, signal.SIGKILL)  # no goodbye at all
        # Its liveness key expires (15 s), then a sweep (every 5 s) announces the leave.
        left = await pa.expect("presence", event="leave", within=40)
        assert left["user_id"] == bob["user"]["id"]
        await pa.close()
        await pc.close()


async def test_a_mass_exit_is_announced_while_chat_goes_on(pair: Pair, api: Api) -> None:
    """150 sockets closing at once: 150 presence removals after the grace, more than the
    Redis pool's 100 connections, while the remaining members keep chatting."""
    a, b = pair
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    pa = await Peer.open(a.url, room["id"], ann["access_token"])
    pb = await Peer.open(b.url, room["id"], bob["access_token"])
    crowd_sessions = [
        await register(api.client, headers={"X-Forwarded-For": f"198.18.7.{i + 1}"})
        for i in range(150)
    ]
    crowd = [
        await Peer.open(a.url, room["id"], s["access_token"], compression=None)
        for s in crowd_sessions
    ]
    await asyncio.gather(*(p.close() for p in crowd))
    for n in range(15):  # chat through the storm of leaves (1.5 s grace here)
        await pb.send({"type": "chat", "text": f"during {n}"})
        await asyncio.sleep(0.2)
    texts = [m["text"] for m in await pa.chats(15)]
    assert texts == [f"during {n}" for n in range(15)]
    crowd_ids = {s["user"]["id"] for s in crowd_sessions}
    left = {f["user_id"] for f in pa.skipped if f.get("event") == "leave"}
    while left != crowd_ids:
        frame = await pa.expect("presence", event="leave")
        left.add(frame["user_id"])
    detail = (await api.get(ann, f"/api/v1/rooms/{room['id']}")).json()
    assert sorted(m["name"] for m in detail["members"]) == ["Ann", "Bob"]
    assert not [f for f in pb.skipped if f["type"] == "error"]
    for p in (pa, pb):
        await p.close()
