"""The hub in-process: chat published out of order, or never, still arrives in one order."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from typing import Any

import httpx

from maria.backends import channels
from maria.rooms import events, store
from maria.rooms.events import ChatEvent, ControlEvent
from maria.rooms.store import Draft
from tests.support.api import bearer, register
from tests.support.app import make_admin
from tests.support.frames import check_server_frame


async def _room_with_member(
    app: Any, client: httpx.AsyncClient
) -> tuple[str, list[dict[str, Any]]]:
    session = await register(client, display_name="Ann")
    response = await client.post("/api/v1/rooms", json={"movie_id": 1}, headers=bearer(session))
    room_id: str = response.json()["id"]
    frames: list[dict[str, Any]] = []

    async def send(texts: list[str]) -> None:
        for text in texts:
            frames.append(json.loads(text))
            check_server_frame(frames[-1])

    async def close(code: int, reason: str) -> None:
        frames.append({"type": "closed", "code": code})

    conn = await app.state.services.rooms.hub.join(
        room_id,
        user_id=session["user"]["id"],
        name="Ann",
        sid="sid",
        exp=int(time.time()) + 600,
        send=send,
        close=close,
    )
    assert conn is not None
    return room_id, frames


async def _chats(frames: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    for _ in range(500):  # a bounded wait, never a timing assertion
        chats = [f for f in frames if f["type"] == "chat"]
        if len(chats) >= count:
            return chats
        await asyncio.sleep(0.01)
    raise AssertionError(f"expected {count} chats, got {frames}")


async def test_out_of_order_and_missing_publishes(app: Any, client: httpx.AsyncClient) -> None:
    services = app.state.services
    room_id, frames = await _room_with_member(app, client)
    author = (await register(client, display_name="Other"))["user"]["id"]
    drafts = [
        Draft(str(uuid.uuid4()), author, "Other", f"m{n}", int(time.time() * 1000))
        for n in range(4)
    ]
    # Stored as another instance would store them, then published out of order: 4, 1, 3
    # (and 2 never, as if its publisher died right after committing).
    stored = await store.append_messages(services.database, room_id, drafts)
    assert stored is not None and [m["seq"] for m in stored] == [1, 2, 3, 4]

    async def publish(message: dict[str, Any]) -> None:
        await services.broker.publish(channels.ROOMS, events.encode(room_id, ChatEvent([message])))

    for index in (3, 0, 2):
        await publish(stored[index])
    chats = await _chats(frames, 4)
    assert [c["seq"] for c in chats] == [1, 2, 3, 4]  # 2 came from the database
    assert [c["text"] for c in chats] == ["m0", "m1", "m2", "m3"]
    await publish(stored[1])  # the late original of 2: a duplicate, dropped
    await publish(stored[3])
    await asyncio.sleep(0.05)
    assert len([f for f in frames if f["type"] == "chat"]) == 4
    assert frames[0]["type"] == "welcome"


async def test_concurrent_appends_number_the_chat_without_gaps(
    app: Any, client: httpx.AsyncClient
) -> None:
    """Writers racing on one room (as instances do) get contiguous, disjoint numbers, and
    the history holds exactly what they were told; a gone room stores nothing."""
    sessions = app.state.services.database
    room_id, _ = await _room_with_member(app, client)
    author = (await register(client, display_name="Other"))["user"]["id"]
    batches = [
        [Draft(str(uuid.uuid4()), author, "Other", f"{b}.{n}", 1000 + n) for n in range(b % 4 + 1)]
        for b in range(12)
    ]
    stored = await asyncio.gather(
        *(store.append_messages(sessions, room_id, batch) for batch in batches)
    )
    numbers = []
    for batch, messages in zip(batches, stored, strict=True):
        assert messages is not None
        assert [m["text"] for m in messages] == [d.text for d in batch]
        seqs = [m["seq"] for m in messages]
        assert seqs == list(range(seqs[0], seqs[0] + len(batch)))
        numbers += seqs
    total = sum(len(b) for b in batches)
    assert sorted(numbers) == list(range(1, total + 1))
    found = await store.messages_between(sessions, room_id, 1, total + 1)
    assert [(m["seq"], m["text"], m["timestamp"]) for m in found] == sorted(
        (m["seq"], m["text"], m["timestamp"]) for messages in stored for m in messages or []
    )
    assert await store.append_messages(sessions, room_id, []) == []
    gone = str(uuid.uuid4())
    assert await store.append_messages(sessions, gone, batches[0]) is None


async def test_events_of_other_rooms_and_garbage_are_ignored(
    app: Any, client: httpx.AsyncClient
) -> None:
    services = app.state.services
    room_id, frames = await _room_with_member(app, client)
    for message in (
        f"{uuid.uuid4()} {{}}",
        f"{room_id} not json",
        f'{room_id} {{"k": "chat", "m": [{{"seq": "x"}}]}}',
        f'{room_id} {{"k": "playback", "p": {{"nope": 1}}}}',
        f"{room_id} []",
        "no-space-at-all",
    ):
        await services.broker.publish(channels.ROOMS, message)
    await services.broker.publish(
        channels.ROOMS,
        events.encode(room_id, ControlEvent("everyone", None, 99)),
    )
    for _ in range(500):  # bounded wait for the socket's writer
        if any(f["type"] == "control" for f in frames):
            break
        await asyncio.sleep(0.01)
    # (The server's clock pings come on their own schedule.)
    assert [f["type"] for f in frames if f["type"] != "ping"] == ["welcome", "control"]
    assert [f for f in frames if f["type"] == "control"] == [
        {"type": "control", "mode": "everyone", "host_id": None}
    ]


async def test_resync_catches_up_with_what_the_broker_lost(
    app: Any, client: httpx.AsyncClient
) -> None:
    """After a Redis reconnect the hub reads back chat and playback it never heard of."""
    services = app.state.services
    room_id, frames = await _room_with_member(app, client)
    for _ in range(500):  # bounded wait for the welcome
        if frames:
            break
        await asyncio.sleep(0.01)
    welcome = frames[0]
    host = welcome["host_id"]
    drafts = [Draft(str(uuid.uuid4()), host, "Ann", f"lost {n}", 1) for n in range(3)]
    assert await store.append_messages(services.database, room_id, drafts) is not None
    state = await store.change_playback(
        services.database, room_id, user_id=host, action="play", position=9.0
    )
    assert not [f for f in frames if f["type"] in {"chat", "playback"}]  # nothing published
    for hook in services.broker.on_reconnect:  # what RedisBroker does after a reconnect
        hook()
    chats = await _chats(frames, 3)
    assert [c["text"] for c in chats] == ["lost 0", "lost 1", "lost 2"]
    played = [f for f in frames if f["type"] == "playback"]
    assert played and played[-1]["seq"] == state.seq and played[-1]["position"] == 9.0


async def test_disabling_a_user_closes_their_room_sockets(
    app: Any, client: httpx.AsyncClient
) -> None:
    """A disable ends the user's sessions, and with them their sockets (the hub's clock
    closes sockets of revoked sessions; here within a tick or two)."""
    admin = await make_admin(app, client)
    session = await register(client, display_name="Ann")
    room = (
        await client.post("/api/v1/rooms", json={"movie_id": 1}, headers=bearer(session))
    ).json()
    frames: list[dict[str, Any]] = []

    async def send(texts: list[str]) -> None:
        for text in texts:
            frames.append(json.loads(text))
            check_server_frame(frames[-1])

    async def close(code: int, reason: str) -> None:
        frames.append({"type": "closed", "code": code})

    sid = json.loads(base64.urlsafe_b64decode(session["access_token"].split(".")[1] + "=="))["sid"]
    conn = await app.state.services.rooms.hub.join(
        room["id"],
        user_id=session["user"]["id"],
        name="Ann",
        sid=sid,
        exp=int(time.time()) + 600,
        send=send,
        close=close,
    )
    assert conn is not None
    response = await client.patch(
        f"/api/v1/admin/users/{session['user']['id']}",
        json={"disabled": True},
        headers=bearer(admin),
    )
    assert response.status_code == 200
    for _ in range(500):  # bounded wait for the hub's clock
        if any(f["type"] == "closed" for f in frames):
            break
        await asyncio.sleep(0.01)
    assert {"type": "closed", "code": 4401} in frames
