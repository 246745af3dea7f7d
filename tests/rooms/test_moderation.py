"""Running a room over real sockets, on one instance: roles, kick, mute, lock, clear, each
announced and audited, and bad moderation refused with the socket alive.

The same on two instances sharing Redis: ``test_moderation_redis.py``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.support.api import bearer
from tests.support.rooms import Api, Peer
from tests.support.servers import Server

FORBIDDEN = 4403
NOBODY = "00000000-0000-4000-8000-000000000000"


async def _people(api: Api, *names: str) -> list[dict[str, Any]]:
    return [await api.user(name) for name in names]


def uid(session: dict[str, Any]) -> str:
    user_id: str = session["user"]["id"]
    return user_id


async def test_kick_closes_the_socket_and_bans_a_rejoin(server: Server, api: Api) -> None:
    ann, bob, cat = await _people(api, "Ann", "Bob", "Cat")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    b2 = await Peer.open(server.url, room["id"], bob["access_token"])  # a second tab
    c = await Peer.open(server.url, room["id"], cat["access_token"])

    await a.send({"type": "kick", "user_id": uid(bob)})
    told = await c.expect("moderated", action="kick")
    assert told == {"type": "moderated", "action": "kick", "user_id": uid(bob), "by": uid(ann)}
    for tab in (b, b2):
        code, reason = await tab.closed()
        assert code == FORBIDDEN and reason and reason.startswith("kicked"), reason
    # Gone at once, not after the reconnect grace: nobody waits for a kicked member.
    assert (await c.expect("presence", event="leave"))["user_id"] == uid(bob)

    code, reason = await Peer.refused(server.url, room["id"], bob["access_token"])
    assert code == FORBIDDEN and reason and reason.startswith("banned"), reason
    members = (await api.get(ann, f"/api/v1/rooms/{room['id']}")).json()["members"]
    assert uid(bob) not in [m["user_id"] for m in members]

    # The ban (6 s here) ends: Bob may come back.
    seconds = int(re.search(r"back in (\d+) s", reason).group(1))  # type: ignore[union-attr]
    await asyncio.sleep(seconds + 0.5)
    back = await Peer.open(server.url, room["id"], bob["access_token"])
    assert back.welcome["user_id"] == uid(bob)

    [event] = [e for e in await api.audit(bob) if e["event"] == "room_member_kicked"]
    assert event["actor_id"] == uid(ann) and event["detail"]["room_id"] == room["id"]
    assert event["detail"]["by"] == uid(ann)
    for p in (a, c, back):
        await p.close()


async def test_mute_and_lock_are_enforced_and_announced(server: Server, api: Api) -> None:
    ann, bob, cat = await _people(api, "Ann", "Bob", "Cat")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    c = await Peer.open(server.url, room["id"], cat["access_token"])
    assert b.welcome["roles"] == {"cohosts": [], "muted": [], "chat_locked": False, "seq": 0}

    await a.send({"type": "role", "user_id": uid(cat), "role": "cohost"})
    assert (await b.expect("moderated", action="cohost"))["user_id"] == uid(cat)
    roles = await b.expect("roles")
    assert roles["cohosts"] == [uid(cat)] and roles["seq"] == 1

    await a.send({"type": "mute", "user_id": uid(bob), "muted": True})
    assert (await c.expect("moderated", action="mute"))["by"] == uid(ann)
    assert (await b.expect("roles", muted=[uid(bob)]))["seq"] == 2
    await b.send({"type": "chat", "text": "can you hear me?"})
    refused = await b.expect("error")
    assert refused["code"] == "forbidden" and "muted" in refused["message"]
    await b.send({"type": "react", "emoji": "🔥", "position": 3})
    assert (await b.expect("error"))["code"] == "forbidden"
    await a.send({"type": "mute", "user_id": uid(bob), "muted": False})
    await b.expect("roles", muted=[])
    await b.send({"type": "chat", "text": "back"})
    assert (await a.expect("chat"))["text"] == "back"

    await c.send({"type": "lock", "locked": True})  # a co-host may lock
    assert (await a.expect("moderated", action="lock"))["by"] == uid(cat)
    assert (await b.expect("roles", chat_locked=True))["cohosts"] == [uid(cat)]
    await b.send({"type": "chat", "text": "let me speak"})
    locked = await b.expect("error")
    assert locked["code"] == "forbidden" and "locked" in locked["message"]
    await c.send({"type": "chat", "text": "co-hosts may"})
    await a.send({"type": "chat", "text": "hosts may"})
    assert [m["text"] for m in await b.chats(2)] == ["co-hosts may", "hosts may"]
    late = await Peer.open(server.url, room["id"], bob["access_token"])  # the lock holds
    assert late.welcome["roles"]["chat_locked"] is True
    await a.send({"type": "lock", "locked": False})
    await b.expect("roles", chat_locked=False)
    await b.send({"type": "chat", "text": "free again"})
    await c.expect("chat", text="free again")
    assert not [f for f in b.skipped if f["type"] == "error"]

    bobs = {e["event"] for e in await api.audit(bob)}
    assert {"room_member_muted", "room_member_unmuted"} <= bobs
    cats = [e for e in await api.audit(cat) if e["event"].startswith("room_")]
    assert {e["event"] for e in cats} == {"room_role_changed", "room_chat_locked"}
    assert [e["detail"]["role"] for e in cats if e["event"] == "room_role_changed"] == ["cohost"]
    assert {e["event"] for e in await api.audit(ann)} >= {"room_chat_unlocked"}
    for p in (a, b, c, late):
        await p.close()


async def test_cohosts_control_playback_and_moderate_members_only(server: Server, api: Api) -> None:
    ann, cat, bob, dan = await _people(api, "Ann", "Cat", "Bob", "Dan")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    c = await Peer.open(server.url, room["id"], cat["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    d = await Peer.open(server.url, room["id"], dan["access_token"])

    await c.send({"type": "playback", "action": "play", "position": 5})
    assert (await c.expect("error"))["code"] == "forbidden"  # not yet a co-host
    await a.send({"type": "role", "user_id": uid(cat), "role": "cohost"})
    await c.expect("roles", cohosts=[uid(cat)])
    await c.send({"type": "playback", "action": "play", "position": 5})
    state = await b.expect("playback")
    assert state["by"] == uid(cat) and state["position"] == 5
    # ... and the queue, which a member may not touch.
    await b.send({"type": "queue", "op": "add", "movie_id": 326})
    assert (await b.expect("error"))["code"] == "forbidden"
    await c.send({"type": "queue", "op": "add", "movie_id": 326})
    queue = await b.expect("queue")
    assert [e["movie_id"] for e in queue["items"]] == [326] and queue["items"][0][
        "added_by"
    ] == uid(cat)

    async def refused(peer: Peer, frame: dict[str, Any], code: str = "forbidden") -> str:
        await peer.send(frame)
        error = await peer.expect("error")
        assert error["code"] == code, (frame, error)
        await peer.ping()  # the socket lives on
        message: str = error["message"]
        return message

    # A co-host moderates members, not the host, and changes no roles.
    await c.send({"type": "mute", "user_id": uid(bob), "muted": True})
    await b.expect("roles", muted=[uid(bob)])
    assert "host" in await refused(c, {"type": "mute", "user_id": uid(ann), "muted": True})
    await refused(c, {"type": "kick", "user_id": uid(ann)})
    await refused(c, {"type": "role", "user_id": uid(dan), "role": "cohost"})
    await a.send({"type": "role", "user_id": uid(dan), "role": "cohost"})
    await c.expect("roles", cohosts=sorted([uid(cat), uid(dan)]))
    await refused(c, {"type": "kick", "user_id": uid(dan)})  # nor other co-hosts
    await refused(c, {"type": "mute", "user_id": uid(dan), "muted": True})
    # Members moderate nobody; nobody changes the host's role or kicks the host.
    await refused(b, {"type": "kick", "user_id": uid(dan)})
    await refused(b, {"type": "lock", "locked": True})
    await refused(b, {"type": "clear"})
    await refused(b, {"type": "role", "user_id": uid(bob), "role": "cohost"})
    await refused(a, {"type": "kick", "user_id": uid(ann)})
    await refused(a, {"type": "role", "user_id": uid(ann), "role": "member"})
    await refused(a, {"type": "mute", "user_id": uid(ann), "muted": True})
    # The host takes a co-host's role away: control goes with it.
    await a.send({"type": "role", "user_id": uid(cat), "role": "member"})
    await c.expect("roles", cohosts=[uid(dan)])
    await refused(c, {"type": "playback", "action": "pause"})
    await refused(c, {"type": "queue", "op": "clear"})

    # REST: a co-host changes the room; a member may not.
    patch = await api.client.patch(
        f"/api/v1/rooms/{room['id']}", json={"title": "Dan's night"}, headers=bearer(dan)
    )
    assert patch.status_code == 200 and patch.json()["title"] == "Dan's night"
    member = await api.client.patch(
        f"/api/v1/rooms/{room['id']}", json={"title": "Mine"}, headers=bearer(bob)
    )
    assert member.status_code == 403 and member.json()["error"]["code"] == "forbidden"
    for p in (a, b, c, d):
        await p.close()


async def test_clear_empties_the_history_everywhere(server: Server, api: Api) -> None:
    ann, bob = await _people(api, "Ann", "Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    for n in range(3):
        await b.send({"type": "chat", "text": f"spoiler {n}"})
    said = await a.chats(3)
    await a.send({"type": "react", "emoji": "😮", "message_id": said[0]["id"]})
    await a.send({"type": "react", "emoji": "🍿", "position": 60})
    await b.expect("reaction", emoji="😮")
    await b.expect("reaction", emoji="🍿")

    await a.send({"type": "clear"})
    assert await b.expect("moderated", action="clear") == {
        "type": "moderated",
        "action": "clear",
        "by": uid(ann),
    }
    history = await api.get(bob, f"/api/v1/rooms/{room['id']}/messages")
    assert history.status_code == 200 and history.json() == []
    late = await Peer.open(server.url, room["id"], bob["access_token"])
    assert late.welcome["history"] == []
    # The reactions on the messages went with them; the timeline's stayed.
    assert [r["emoji"] for r in late.welcome["reactions"]] == ["🍿"]
    await a.send({"type": "react", "emoji": "😂", "message_id": said[1]["id"]})
    assert (await a.expect("error"))["code"] == "not_found"

    await b.send({"type": "chat", "text": "after"})
    after = await a.expect("chat", text="after")
    assert after["seq"] == said[-1]["seq"] + 1  # the order goes on
    history = await api.get(bob, f"/api/v1/rooms/{room['id']}/messages")
    assert [m["text"] for m in history.json()] == ["after"]
    [event] = [e for e in await api.audit(ann) if e["event"] == "room_chat_cleared"]
    assert event["detail"] == {"room_id": room["id"], "by": uid(ann), "messages_up_to": 3}
    for p in (a, b, late):
        await p.close()


async def test_bad_moderation_frames_get_an_error_and_the_socket_lives(
    server: Server, api: Api
) -> None:
    ann, bob, stranger = await _people(api, "Ann", "Bob", "Stranger")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    cases: list[tuple[dict[str, Any] | str, str]] = [
        ({"type": "ban", "user_id": uid(bob)}, "unknown_type"),
        ({"type": "kick"}, "validation_error"),
        ({"type": "kick", "user_id": ""}, "validation_error"),
        ({"type": "kick", "user_id": "x" * 65}, "validation_error"),
        ({"type": "kick", "user_id": 7}, "validation_error"),
        ({"type": "kick", "user_id": "not-a-user"}, "not_found"),
        ({"type": "kick", "user_id": "a\u0000b"}, "not_found"),
        ({"type": "kick", "user_id": uid(stranger)}, "not_found"),  # never in the room
        ({"type": "mute", "user_id": uid(bob), "muted": "yes"}, "validation_error"),
        ({"type": "mute", "user_id": NOBODY, "muted": True}, "not_found"),
        ({"type": "role", "user_id": uid(bob), "role": "host"}, "validation_error"),
        ({"type": "role", "user_id": uid(bob)}, "validation_error"),
        ({"type": "lock"}, "validation_error"),
        ({"type": "lock", "locked": 1}, "validation_error"),
        ({"type": "kick", "user_id": uid(ann)}, "forbidden"),
        ({"type": "react", "emoji": "🤡", "position": 1}, "validation_error"),
        ({"type": "react", "emoji": "🔥"}, "validation_error"),
        ({"type": "react", "emoji": "🔥", "position": 1, "message_id": "m"}, "validation_error"),
        ({"type": "react", "emoji": "🔥", "position": -1}, "validation_error"),
        ({"type": "react", "emoji": "🔥", "message_id": "no-such-message"}, "not_found"),
        ({"type": "react", "emoji": "🔥", "message_id": NOBODY}, "not_found"),
        ('{"type": "react", "emoji": "\\ud83d", "position": 1}', "validation_error"),
    ]
    for frame, code in cases:
        await a.send(frame)
        error = await a.expect("error")
        assert error["code"] == code, (frame, error)
        await a.ping()
    await b.send({"type": "mute", "user_id": uid(ann), "muted": True})
    assert (await b.expect("error"))["code"] == "forbidden"
    await b.ping()
    # Nothing of it reached anyone: no announcement, no state.
    assert not [f for f in b.skipped if f["type"] in ("moderated", "roles", "reaction")]
    for p in (a, b):
        await p.close()
