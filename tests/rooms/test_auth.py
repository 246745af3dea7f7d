"""Who may open a room socket, and how a socket's authentication ends."""

from __future__ import annotations

import uuid

from tests.support.api import bearer
from tests.support.rooms import Api, Peer, short_token
from tests.support.servers import Server

UNAUTHENTICATED, NOT_FOUND = 4401, 4404


async def test_no_auth_message_in_time_is_4401(server: Server, api: Api) -> None:
    ann = await api.user()
    room = await api.room(ann)
    peer = await Peer.open(server.url, room["id"])  # says nothing (the timeout here is 1 s)
    code, reason = await peer.closed()
    assert code == UNAUTHENTICATED and reason and reason.startswith("not_authenticated")


async def test_first_frame_must_be_auth(server: Server, api: Api) -> None:
    ann = await api.user()
    room = await api.room(ann)
    for first in ({"type": "chat", "text": "hi"}, "not json", b"\x00\x01", {"type": "auth"}):
        peer = await Peer.open(server.url, room["id"])
        await peer.send(first)
        code, _ = await peer.closed()
        assert code == UNAUTHENTICATED, first


async def test_bad_tokens_are_4401(server: Server, api: Api) -> None:
    ann = await api.user()
    room = await api.room(ann)
    token = ann["access_token"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad, code_word in (
        ("garbage", "invalid_token"),
        (forged, "invalid_token"),
        (short_token(ann, ttl=-5), "token_expired"),
    ):
        peer = await Peer.open(server.url, room["id"])
        await peer.send({"type": "auth", "token": bad})
        code, reason = await peer.closed()
        assert code == UNAUTHENTICATED and reason and reason.startswith(code_word), reason


async def test_unknown_room_is_4404(server: Server, api: Api) -> None:
    ann = await api.user()
    for room_id in (str(uuid.uuid4()), "not-a-room", "x" * 300):
        peer = await Peer.open(server.url, room_id)
        await peer.send({"type": "auth", "token": ann["access_token"]})
        code, reason = await peer.closed()
        assert code == NOT_FOUND and reason and reason.startswith("not_found")


async def test_unknown_room_without_auth_is_4401(server: Server) -> None:
    peer = await Peer.open(server.url, str(uuid.uuid4()))
    await peer.send({"type": "chat", "text": "hi"})
    assert (await peer.closed())[0] == UNAUTHENTICATED


async def test_access_cookie_from_an_allowed_origin(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    cookie = {"Cookie": f"maria_access={ann['access_token']}"}
    for origin in ("http://kinoway.test", None):  # an allowed page; a non-browser client
        peer = await Peer.open(server.url, room["id"], origin=origin, additional_headers=cookie)
        welcome = await peer.expect("welcome")
        assert welcome["user_id"] == ann["user"]["id"]
        await peer.close()


async def test_access_cookie_from_another_origin_is_not_enough(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    cookie = {"Cookie": f"maria_access={ann['access_token']}"}
    peer = await Peer.open(
        server.url, room["id"], origin="http://evil.test", additional_headers=cookie
    )
    code, _ = await peer.closed()  # the cookie was ignored and no auth frame came
    assert code == UNAUTHENTICATED
    # The page of another origin can still join with a token it was given.
    peer = await Peer.open(
        server.url, room["id"], origin="http://evil.test", additional_headers=cookie
    )
    await peer.send({"type": "auth", "token": ann["access_token"]})
    assert (await peer.expect("welcome"))["user_id"] == ann["user"]["id"]
    await peer.close()


async def test_bearer_header(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    peer = await Peer.open(server.url, room["id"], additional_headers=bearer(ann))
    assert (await peer.expect("welcome"))["user_id"] == ann["user"]["id"]
    await peer.close()
    bad = {"Authorization": "Bearer nope"}
    peer = await Peer.open(server.url, room["id"], additional_headers=bad)
    assert (await peer.closed())[0] == UNAUTHENTICATED


async def test_logout_ends_the_socket(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    a = await Peer.open(server.url, room["id"], ann["access_token"])
    b = await Peer.open(server.url, room["id"], bob["access_token"])
    response = await api.client.post(
        "/api/v1/auth/logout", json={"scope": "local"}, headers=bearer(bob)
    )
    assert response.status_code == 204
    code, reason = await b.closed()
    assert code == UNAUTHENTICATED and reason and reason.startswith("invalid_token")
    left = await a.expect("presence", event="leave")
    assert left["user_id"] == bob["user"]["id"]
    await a.ping()  # the others stay
    await a.close()


async def test_expired_token_ends_the_socket(server: Server, api: Api) -> None:
    ann = await api.user("Ann")
    room = await api.room(ann)
    peer = await Peer.open(server.url, room["id"], short_token(ann, ttl=2))
    await peer.ping()
    code, reason = await peer.closed()
    assert code == UNAUTHENTICATED and reason and reason.startswith("token_expired")


async def test_in_band_refresh_keeps_the_socket(server: Server, api: Api) -> None:
    ann, bob = await api.user("Ann"), await api.user("Bob")
    room = await api.room(ann)
    peer = await Peer.open(server.url, room["id"], short_token(ann, ttl=2))
    await peer.send({"type": "auth", "token": "garbage"})
    assert (await peer.expect("error"))["code"] == "invalid_token"
    await peer.send({"type": "auth", "token": bob["access_token"]})
    assert (await peer.expect("error"))["code"] == "forbidden"  # another user's token
    await peer.send({"type": "auth", "token": ann["access_token"]})
    done = await peer.expect("authenticated")
    assert done["user_id"] == ann["user"]["id"] and done["expires_at"] > 0
    # Well past the first token's expiry (plus the server's one-second check): still open.
    probe = await Api(api.client).user("Probe")
    other = await Peer.open(server.url, room["id"], short_token(probe, ttl=2))
    assert (await other.closed())[0] == UNAUTHENTICATED  # a socket opened later expired ...
    await peer.ping()  # ... while this one, refreshed, still answers
    await peer.close()
