"""The attack suite over a room's WebSocket: in the first ``auth`` frame every bad token
closes the socket with 4401 and its error code as the reason; in a later ``auth`` frame (a
renewal) it is answered with an ``error`` frame and the socket lives on; in the handshake's
``Authorization`` header it closes 4401 too. Never a crash: the server answers after all."""

from __future__ import annotations

import httpx

from maria.rooms.frames import MAX_TOKEN
from tests.security.attacks import Attack, catalogue
from tests.security.conftest import Target
from tests.support.api import bearer
from tests.support.rooms import Peer

UNAUTHENTICATED = 4401


def room_of(target: Target, session: dict[str, object]) -> str:
    response = httpx.post(
        f"{target.url}/api/v1/rooms",
        json={"movie_id": 301, "title": "Film"},
        headers=bearer(session),
        timeout=30,
    )
    assert response.status_code == 201, response.text
    room_id: str = response.json()["id"]
    return room_id


def first_frame_code(attack: Attack) -> str:
    """What the close reason starts with: the token's refusal, or ``not_authenticated`` (a
    frame over 16 KiB, or a token over the frame schema's bound, is no ``auth`` frame)."""
    return attack.code if fits(attack) else "not_authenticated"


def renewal_code(attack: Attack) -> str:
    """The ``error`` frame's code for the same token in a later ``auth`` frame."""
    if not attack.frame_fits:
        return "payload_too_large"
    return attack.code if fits(attack) else "validation_error"


def fits(attack: Attack) -> bool:
    return attack.frame_fits and len(attack.token) <= MAX_TOKEN


async def test_bad_tokens_in_the_first_auth_frame_close_4401(target: Target) -> None:
    session = target.register()
    room = room_of(target, session)
    problems: dict[str, object] = {}
    for attack in catalogue(target.alg, target.data_dir, session["access_token"], target.jwks()):
        peer = await Peer.open(target.url, room)
        await peer.send({"type": "auth", "token": attack.token})
        if not attack.code:  # the baseline: accepted
            await peer.expect("welcome")
            await peer.close()
            continue
        code, reason = await peer.closed()
        if code != UNAUTHENTICATED or not (reason or "").startswith(first_frame_code(attack)):
            problems[attack.name] = (code, reason)
    assert problems == {}


async def test_bad_tokens_in_a_renewal_are_error_frames(target: Target) -> None:
    session = target.register()
    room = room_of(target, session)
    attacks = catalogue(target.alg, target.data_dir, session["access_token"], target.jwks())
    peer = await Peer.open(target.url, room, token=session["access_token"])
    problems: dict[str, object] = {}
    for attack in attacks:
        if not attack.code:
            continue
        await peer.send({"type": "auth", "token": attack.token})
        frame = await peer.expect("error")
        if frame.get("code") != renewal_code(attack) or not frame.get("message"):
            problems[attack.name] = frame
    assert problems == {}
    assert (await peer.ping())["type"] == "pong"  # the socket lives on
    await peer.send({"type": "auth", "token": session["access_token"]})
    assert (await peer.expect("authenticated"))["user_id"] == session["user"]["id"]
    await peer.close()


async def test_bad_tokens_in_the_handshake_header_close_4401(target: Target) -> None:
    session = target.register()
    room = room_of(target, session)
    attacks = [
        a
        for a in catalogue(target.alg, target.data_dir, session["access_token"], target.jwks())
        # What a WebSocket client can put in a header: printable ASCII, a sane size.
        if a.code and a.token.isascii() and a.token.isprintable() and len(a.token) < 8000
    ]
    assert len(attacks) > 80
    problems: dict[str, object] = {}
    for attack in attacks:
        headers = {"Authorization": f"Bearer {attack.token}"}
        peer = await Peer.open(target.url, room, additional_headers=headers)
        code, reason = await peer.closed()
        if code != UNAUTHENTICATED or not (reason or "").startswith(attack.code):
            problems[attack.name] = (code, reason)
    assert problems == {}


async def test_a_session_revoked_token_closes_4401(target: Target) -> None:
    session = target.register()
    room = room_of(target, session)
    target.logout(session)
    peer = await Peer.open(target.url, room)
    await peer.send({"type": "auth", "token": session["access_token"]})
    code, reason = await peer.closed()
    assert code == UNAUTHENTICATED and (reason or "").startswith("invalid_token"), reason
