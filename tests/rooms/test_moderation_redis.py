"""Running a room across two ``maria serve`` processes sharing Postgres and Redis: a kick,
a mute, a lock and a clear made on one instance hold on the other, and capacity holds
under joins racing on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.api import bearer
from tests.support.rooms import Api, Peer, server_env
from tests.support.servers import Server, started
from tests.support.services import flushed_redis, fresh_postgres

Pair = tuple[Server, Server]
FORBIDDEN, FULL = 4403, 4409


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    redis_url = flushed_redis()
    tmp = tmp_path_factory.mktemp("moderation-redis")
    with ExitStack() as stack:
        database = stack.enter_context(fresh_postgres())
        env = server_env(
            tmp / "data",
            MARIA_DATABASE_URL=database,
            MARIA_REDIS_URL=redis_url,
            MARIA_ROOM_RECONNECT_GRACE="30",  # nobody leaves by accident during a test
        )
        a = started(stack, "moderation-A", env, tmp)  # migrates the database first
        b = started(stack, "moderation-B", env, tmp)
        yield a, b


@pytest.fixture
async def api(pair: Pair) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=pair[0].url, timeout=30) as client:
        yield Api(client)


def uid(session: dict[str, Any]) -> str:
    user_id: str = session["user"]["id"]
    return user_id


async def test_a_kick_on_one_instance_closes_and_bans_on_the_other(pair: Pair, api: Api) -> None:
    a, b = pair
    ann, bob, cat = await api.user("Ann"), await api.user("Bob"), await api.user("Cat")
    room = await api.room(ann)
    pa = await Peer.open(a.url, room["id"], ann["access_token"])
    pb = await Peer.open(b.url, room["id"], bob["access_token"])
    pc = await Peer.open(b.url, room["id"], cat["access_token"])
    await pa.expect("presence", event="join", user_id=uid(cat))

    await pa.send({"type": "kick", "user_id": uid(bob)})
    code, reason = await pb.closed()
    assert code == FORBIDDEN and reason and reason.startswith("kicked"), reason
    assert (await pc.expect("moderated", action="kick"))["user_id"] == uid(bob)
    # Gone from presence at once, though the reconnect grace here is 30 s.
    assert (await pa.expect("presence", event="leave"))["user_id"] == uid(bob)
    for server in (b, a):  # the ban holds on both instances
        code, reason = await Peer.refused(server.url, room["id"], bob["access_token"])
        assert code == FORBIDDEN and reason and reason.startswith("banned"), reason
    for p in (pa, pc):
        await p.close()


async def test_mute_lock_and_clear_hold_on_both_instances(pair: Pair, api: Api) -> None:
    a, b = pair
    ann, bob, cat = await api.user("Ann"), await api.user("Bob"), await api.user("Cat")
    room = await api.room(ann)
    pa = await Peer.open(a.url, room["id"], ann["access_token"])
    pb = await Peer.open(b.url, room["id"], bob["access_token"])
    pc = await Peer.open(b.url, room["id"], cat["access_token"])
    await pa.expect("presence", event="join", user_id=uid(cat))

    await pa.send({"type": "mute", "user_id": uid(bob), "muted": True})
    await pb.expect("roles", muted=[uid(bob)])
    await pb.send({"type": "chat", "text": "hello?"})
    error = await pb.expect("error")
    assert error == {"type": "error", "code": "forbidden", "message": "You are muted in this room"}
    await pa.send({"type": "mute", "user_id": uid(bob), "muted": False})
    await pb.expect("roles", muted=[])

    await pa.send({"type": "role", "user_id": uid(cat), "role": "cohost"})
    await pb.expect("roles", cohosts=[uid(cat)])
    await pa.send({"type": "lock", "locked": True})
    await pb.expect("roles", chat_locked=True)
    await pc.expect("roles", chat_locked=True)
    await pb.send({"type": "chat", "text": "me too"})
    assert (await pb.expect("error"))["code"] == "forbidden"  # a member, on B
    await pc.send({"type": "chat", "text": "co-host on B"})  # a co-host, on B
    assert (await pa.expect("chat"))["text"] == "co-host on B"
    await pc.send({"type": "playback", "action": "play", "position": 30})  # controls too
    assert (await pa.expect("playback"))["by"] == uid(cat)

    for n in range(3):
        await pa.send({"type": "chat", "text": f"old {n}"})
    await pb.chats(4)
    await pc.send({"type": "clear"})  # a co-host, on B
    assert (await pa.expect("moderated", action="clear"))["by"] == uid(cat)
    await pb.expect("moderated", action="clear")
    for server in (a, b):
        async with httpx.AsyncClient(base_url=server.url) as client:
            history = await client.get(f"/api/v1/rooms/{room['id']}/messages", headers=bearer(bob))
        assert history.json() == []
        late = await Peer.open(server.url, room["id"], bob["access_token"])
        assert late.welcome["history"] == [] and late.welcome["roles"]["chat_locked"] is True
        await late.close()
    for p in (pa, pb, pc):
        await p.close()


async def _enter(base: str, room_id: str, token: str) -> Peer | int:
    peer = await Peer.open(base, room_id)
    await peer.send({"type": "auth", "token": token})
    try:
        peer.welcome = await peer.expect("welcome")
    except ConnectionClosed:
        assert peer.ws.close_code is not None
        return peer.ws.close_code
    return peer


async def test_capacity_holds_under_joins_racing_on_both_instances(pair: Pair, api: Api) -> None:
    a, b = pair
    ann = await api.user("Ann")
    crowd = [await api.user(f"C{i}") for i in range(20)]
    room = await api.room(ann, capacity=5)
    entered = await asyncio.gather(
        *(
            _enter((a, b)[i % 2].url, room["id"], user["access_token"])
            for i, user in enumerate(crowd)
        )
    )
    inside = [e for e in entered if isinstance(e, Peer)]
    assert len(inside) == 5, entered
    assert [e for e in entered if isinstance(e, int)] == [FULL] * 15
    for server in (a, b):
        async with httpx.AsyncClient(base_url=server.url) as client:
            detail = await client.get(f"/api/v1/rooms/{room['id']}", headers=bearer(ann))
        assert len(detail.json()["members"]) == 5
    # Someone present opens another tab, on either instance: always let in.
    present = {p.welcome["user_id"] for p in inside}
    lucky = next(u for u in crowd if uid(u) in present)
    tabs = [await Peer.open(s.url, room["id"], lucky["access_token"]) for s in (a, b)]
    assert all(t.welcome["user_id"] == uid(lucky) for t in tabs)
    for p in inside + tabs:
        await p.close()
