"""Malformed frames get ``error`` replies; the socket and the room carry on."""

from __future__ import annotations

import json

import httpx

from maria.rooms.asyncapi import document
from tests.support.frames import payload_schemas
from tests.support.rooms import Api, Peer
from tests.support.servers import Server

BAD_FRAMES: list[tuple[str | bytes, str]] = [
    ("not json", "invalid_json"),
    ("{", "invalid_json"),
    ("", "invalid_json"),
    ("[1, 2]", "invalid_json"),
    ('"chat"', "invalid_json"),
    ("null", "invalid_json"),
    ("[" * 5000 + "]" * 5000, "invalid_json"),  # deep nesting
    ('{"type": "chat", "text": NaN}', "invalid_json"),
    ("{}", "unknown_type"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"type": 7}', "unknown_type"),
    ('{"type": null}', "unknown_type"),
    ('{"type": "welcome"}', "unknown_type"),  # a server frame
    ('{"type": "chat"}', "validation_error"),
    ('{"type": "chat", "text": 5}', "validation_error"),
    ('{"type": "chat", "text": ["hi"]}', "validation_error"),
    ('{"type": "chat", "text": {"x": 1}}', "validation_error"),
    ('{"type": "ping"}', "validation_error"),
    ('{"type": "ping", "t0": false}', "validation_error"),
    ('{"type": "control", "mode": "anarchy"}', "validation_error"),
    ('{"type": "control", "mode": 1}', "validation_error"),
    ('{"type": "host"}', "validation_error"),
    ('{"type": "host", "user_id": 5}', "validation_error"),
    ('{"type": "host", "user_id": ""}', "validation_error"),
    ('{"type": "auth", "token": 5}', "validation_error"),
    (b"\x00\x01binary", "unsupported_frame"),
    (b'{"type": "ping", "t0": 1}', "unsupported_frame"),  # JSON, but in a binary frame
    (json.dumps({"type": "chat", "text": "x" * 20_000}), "payload_too_large"),
    (json.dumps({"type": "chat", "text": "ж" * 9000}), "payload_too_large"),  # 18 KB of UTF-8
]


async def test_malformed_frames_get_errors_and_nothing_breaks(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    for frame, code in BAD_FRAMES:
        await b.send(frame)
        error = await b.recv()
        assert error["type"] == "error" and error["code"] == code, (frame[:60], error)
        assert isinstance(error["message"], str) and error["message"]
    # Bob's socket works, and the room too, for everyone.
    await b.ping()
    await b.send({"type": "chat", "text": "still fine"})
    assert (await a.expect("chat"))["text"] == "still fine"
    await a.send({"type": "chat", "text": "me too"})
    assert (await b.expect("chat", text="me too"))["name"] == "Ann"
    assert not [f for f in a.skipped if f["type"] == "error"]  # Ann saw none of it
    await a.close()
    await b.close()


async def test_unknown_fields_are_ignored(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    await a.send({"type": "chat", "text": "hi", "color": "red", "id": "forged", "seq": 1e9})
    message = await a.expect("chat")
    assert message["text"] == "hi" and message["id"] != "forged" and message["seq"] == 1
    await a.close()


async def test_a_frame_flood_is_refused_not_fatal(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    for n in range(400):  # far over the per-socket frame budget
        await a.send({"type": "ping", "t0": n})
    pongs = errors = 0
    while pongs + errors < 400:
        try:
            frame = await a.recv(within=3)
        except TimeoutError:
            break  # the refused ones get at most one error a second, not one each
        pongs += frame["type"] == "pong"
        errors += frame["type"] == "error"
        if frame["type"] == "error":
            assert frame["code"] == "rate_limited"
    assert pongs >= 100 and errors >= 1 and pongs + errors < 400
    await a.ping()  # the socket survived
    await a.close()


async def test_the_asyncapi_document_is_served_without_authentication(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        plain = await client.get("/asyncapi.json")
        # A refused token does not matter either: the document is no API operation.
        refused = await client.get("/asyncapi.json", headers={"Authorization": "Bearer nope"})
        openapi = (await client.get("/openapi.json")).json()
    for response in (plain, refused):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
    served = plain.json()
    assert served == document()  # what the server serves is what the tests check against
    assert served["asyncapi"] == "3.0.0"
    assert served["channels"]["room"]["address"] == "/api/v1/rooms/{room_id}/ws"
    messages = served["components"]["messages"].values()
    assert {m["name"] for m in messages if m["title"].endswith("(client)")} == {
        "auth",
        "chat",
        "playback",
        "control",
        "host",
        "ping",
        "ready",
        "position",
        "pong",
        "queue",
        "role",
        "kick",
        "mute",
        "lock",
        "clear",
        "react",
    }
    assert {m["name"] for m in messages if m["title"].endswith("(server)")} == {
        "welcome",
        "chat",
        "presence",
        "playback",
        "control",
        "pong",
        "authenticated",
        "error",
        "ready",
        "queue",
        "ping",
        "clock",
        "drift",
        "roles",
        "moderated",
        "reaction",
    }
    assert set(payload_schemas("sendServerFrame")) == {
        m["name"] for m in messages if m["title"].endswith("(server)")
    }
    # The OpenAPI schema points to it, and does not list it as an operation.
    assert "/asyncapi.json" not in openapi["paths"]
    assert "/asyncapi.json" in openapi["paths"]["/api/v1/rooms/{room_id}"]["get"]["description"]
