"""Reactions over real sockets: on messages and on the timeline, shown to everyone and to
late joiners, from the allowed set only, throttled like chat."""

from __future__ import annotations

from typing import Any

from tests.support.rooms import Api, Peer
from tests.support.servers import Server

LIMIT = 20  # MARIA_ROOM_CHAT_LIMIT of the test servers, per 2 s


def uid(session: dict[str, Any]) -> str:
    user_id: str = session["user"]["id"]
    return user_id


async def test_reactions_reach_everyone_and_late_joiners(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    assert a.welcome["reactions"] == []
    await b.send({"type": "chat", "text": "what a scene"})
    message = await a.expect("chat")

    await a.send({"type": "react", "emoji": "❤️", "message_id": message["id"]})
    on_message = await b.expect("reaction")
    assert await a.expect("reaction") == on_message  # the sender gets theirs too
    assert set(on_message) == {"type", "id", "user_id", "name", "emoji", "message_id", "timestamp"}
    assert on_message["user_id"] == uid(ann) and on_message["name"] == "Ann"
    assert on_message["emoji"] == "❤️" and on_message["message_id"] == message["id"]

    await b.send({"type": "react", "emoji": "🍿", "position": 754.5})
    on_timeline = await a.expect("reaction", emoji="🍿")
    assert on_timeline["position"] == 754.5 and "message_id" not in on_timeline
    await b.expect("reaction", emoji="🍿")

    late = await Peer.open(server.url, room["id"], bob["access_token"])
    strip = [{k: v for k, v in r.items() if k != "type"} for r in (on_message, on_timeline)]
    assert late.welcome["reactions"] == strip
    for p in (a, b, late):
        await p.close()


async def test_reactions_are_throttled_like_chat_with_a_counter_of_their_own(
    server: Server, api: Api
) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    for n in range(LIMIT + 5):
        await a.send({"type": "react", "emoji": "👏", "position": n})
    reactions = errors = 0
    while reactions + errors < LIMIT + 5:
        frame = await a.recv()
        if frame["type"] == "reaction":
            reactions += 1
        elif frame["type"] == "error":
            assert frame["code"] == "rate_limited" and frame["retry_after"] >= 1, frame
            assert "reactions" in frame["message"]
            errors += 1
    # The window starts at the first: unless handling 21 reactions took 2 s, 5 are refused.
    assert reactions >= LIMIT and 1 <= errors <= 5, (reactions, errors)
    await a.send({"type": "chat", "text": "chat has its own limit"})
    assert (await a.expect("chat"))["text"] == "chat has its own limit"
    await a.close()


async def test_a_reaction_on_another_rooms_message_is_not_found(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    here, there = await api.room(ann), await api.room(ann)
    a = await Peer.open(server.url, here["id"], ann["access_token"])
    t = await Peer.open(server.url, there["id"], ann["access_token"])
    await t.send({"type": "chat", "text": "elsewhere"})
    elsewhere = await t.expect("chat")
    await a.send({"type": "react", "emoji": "👍", "message_id": elsewhere["id"]})
    error = await a.expect("error")
    assert error["code"] == "not_found" and error["message"] == "No such message in this room"
    await a.ping()
    assert not [f for f in a.skipped if f["type"] == "reaction"]
    for p in (a, t):
        await p.close()
