"""Playback kept in step, who controls it, and the host's succession, over real sockets."""

from __future__ import annotations

import time

from tests.support.rooms import Api, Peer
from tests.support.servers import Server


async def test_only_the_host_controls_playback(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])

    await b.send({"type": "playback", "action": "play", "position": 5})
    refused = await b.expect("error")
    assert refused["code"] == "forbidden"

    await a.send({"type": "playback", "action": "play", "position": 12.5})
    state = await b.expect("playback")
    assert state == await a.expect("playback")
    assert state["state"] == "playing" and state["position"] == 12.5
    assert state["by"] == ann["user"]["id"] and state["seq"] == 1
    assert isinstance(state["at"], int)

    await a.send({"type": "playback", "action": "seek", "position": 100})
    seek = await b.expect("playback")
    assert await a.expect("playback") == seek
    assert seek["state"] == "playing" and seek["position"] == 100 and seek["seq"] == 2
    await a.send({"type": "playback", "action": "pause"})  # no position: where it is now
    pause = await b.expect("playback")
    assert await a.expect("playback") == pause
    assert pause["state"] == "paused" and pause["seq"] == 3
    assert pause["position"] == 100 + (pause["at"] - seek["at"]) / 1000

    # The host lets everyone control; Bob can now seek, and everyone hears of it.
    await a.send({"type": "control", "mode": "everyone"})
    control = await b.expect("control")
    assert await a.expect("control") == control
    assert control == {"type": "control", "mode": "everyone", "host_id": ann["user"]["id"]}
    await b.send({"type": "control", "mode": "host"})
    assert (await b.expect("error"))["code"] == "forbidden"  # only the host changes modes
    await b.send({"type": "playback", "action": "seek", "position": 30})
    assert (await a.expect("playback"))["by"] == bob["user"]["id"]
    await a.send({"type": "control", "mode": "host"})
    await b.expect("control", mode="host")
    await b.send({"type": "playback", "action": "pause", "position": 1})
    assert (await b.expect("error"))["code"] == "forbidden"
    await a.close()
    await b.close()


async def test_late_joiner_computes_the_live_position(server: Server, api: Api) -> None:
    ann, late = await api.user("Ann"), await api.user("Late")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    await a.send({"type": "playback", "action": "play", "position": 60})
    played = await a.expect("playback")

    before = time.time() * 1000
    b = await Peer.open(server.url, room["id"], late["access_token"])
    after = time.time() * 1000
    state = b.welcome["playback"]
    assert state == {k: v for k, v in played.items() if k != "type"}
    # The welcome carries the server's clock too; the live position follows from both (a
    # start is scheduled a little ahead: until `at` the film stands at `position`).
    server_now = b.welcome["server_time"]
    live = state["position"] + max(0, server_now - state["at"]) / 1000
    assert live >= 60
    assert state["position"] + max(0, before - state["at"]) / 1000 - 1 <= live
    assert live <= state["position"] + max(0, after - state["at"]) / 1000 + 1
    detail = (await api.get(ann, f"/api/v1/rooms/{room['id']}")).json()
    assert detail["playback"] == state
    await a.close()
    await b.close()


async def test_playback_position_rules(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    for bad in (
        {"type": "playback", "action": "seek"},
        {"type": "playback", "action": "seek", "position": -1},
        {"type": "playback", "action": "seek", "position": "10"},
        {"type": "playback", "action": "seek", "position": True},
        {"type": "playback", "action": "seek", "position": [1]},
        {"type": "playback", "action": "rewind", "position": 1},
        {"type": "playback", "position": 1},
    ):
        await a.send(bad)
        assert (await a.expect("error"))["code"] == "validation_error", bad
    for literal in ("1e999", "-1e999", "NaN", "Infinity", "1" + "0" * 400):
        await a.send('{"type": "playback", "action": "seek", "position": ' + literal + "}")
        assert (await a.expect("error"))["code"] in {"validation_error", "invalid_json"}, literal
    await a.send({"type": "playback", "action": "seek", "position": 0})
    assert (await a.expect("playback"))["position"] == 0
    assert not [f for f in a.skipped if f["type"] == "playback"]  # nothing bad got through
    await a.close()


async def test_ping_pong(server: Server, api: Api) -> None:
    ann = await api.user()
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    for t0 in (0, 1.5, 1_700_000_000_123):
        await a.send({"type": "ping", "t0": t0})
        pong = await a.expect("pong")
        assert pong["t0"] == t0 and isinstance(pong["server_time"], int)
    await a.send({"type": "ping", "t0": "now"})
    assert (await a.expect("error"))["code"] == "validation_error"
    await a.close()


async def test_host_hands_over(server: Server, api: Api) -> None:
    ann, bob, eve = await api.user("Ann"), await api.user("Bob"), await api.user("Eve")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    await b.send({"type": "host", "user_id": ann["user"]["id"]})
    assert (await b.expect("error"))["code"] == "forbidden"
    await a.send({"type": "host", "user_id": eve["user"]["id"]})  # not in the room
    assert (await a.expect("error"))["code"] == "not_found"
    await a.send({"type": "host", "user_id": bob["user"]["id"]})
    for peer in (a, b):
        control = await peer.expect("control")
        assert control["host_id"] == bob["user"]["id"] and control["mode"] == "host"
    await a.send({"type": "playback", "action": "play", "position": 1})
    assert (await a.expect("error"))["code"] == "forbidden"  # Ann is no longer the host
    await b.send({"type": "playback", "action": "play", "position": 1})
    assert (await a.expect("playback"))["by"] == bob["user"]["id"]
    detail = (await api.get(ann, f"/api/v1/rooms/{room['id']}")).json()
    assert detail["host_id"] == bob["user"]["id"]
    await a.close()
    await b.close()


async def test_absent_host_is_replaced_by_the_longest_present(server: Server, api: Api) -> None:
    ann, bob, cat = await api.user("Ann"), await api.user("Bob"), await api.user("Cat")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])  # here before Cat
    c = await Peer.open(server.url, room["id"], cat["access_token"])
    await a.close()
    # Leave after the reconnect grace (1.5 s here), new host after the host grace (1 s here).
    await c.expect("presence", event="leave", user_id=ann["user"]["id"])
    for peer in (b, c):
        control = await peer.expect("control")
        assert control["host_id"] == bob["user"]["id"]
    await b.send({"type": "playback", "action": "pause", "position": 3})
    assert (await c.expect("playback"))["by"] == bob["user"]["id"]
    # The old host coming back is a member like any other.
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    assert a.welcome["host_id"] == bob["user"]["id"]
    for peer in (a, b, c):
        await peer.close()
