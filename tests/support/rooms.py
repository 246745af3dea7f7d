"""Real WebSocket clients for the room tests, and the servers' room settings.

``Peer`` wraps a ``websockets`` client connection: it authenticates with the first frame,
keeps the welcome, and waits for frames of a given type with bounded waits (frames of other
types are kept in ``skipped``, so a test can also assert what it did *not* see). Every frame
it receives is checked against the published AsyncAPI document (``tests/support/frames``).
The server's clock ``ping`` frames are set aside in ``pings`` as they arrive (they come on
their own schedule, so a test reading "the next frame" would otherwise meet one); a peer
opened with ``answer_pings`` answers them with ``pong`` (after ``pong_delay`` seconds, with
its clock ``clock_skew`` ms off), so the server measures its clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from maria.auth.tokens import TokenCodec
from tests.support.api import TEST_SECRET, bearer, register
from tests.support.frames import check_server_frame
from tests.support.servers import CHEAP_HASHING, maria_env

WAIT = 10.0  # the bound of every wait for a frame: generous, never asserted on

# Short room timings, so that the tests wait seconds, not minutes.
ROOM_TIMINGS = {
    "MARIA_ROOM_HOST_GRACE": "1",
    "MARIA_ROOM_RECONNECT_GRACE": "1.5",
    "MARIA_ROOM_AUTH_TIMEOUT": "1",
    "MARIA_ROOM_CHAT_LIMIT": "20",
    "MARIA_ROOM_CHAT_WINDOW": "2",
    "MARIA_ROOM_KICK_BAN": "6",
    "MARIA_CORS_ORIGINS": "http://kinoway.test",
}


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return maria_env(
        MARIA_SECRET_KEY=TEST_SECRET,
        MARIA_DATA_DIR=str(data_dir),
        MARIA_TRUSTED_PROXIES="127.0.0.1",  # crowds sign up from addresses of their own
        **{**CHEAP_HASHING, **ROOM_TIMINGS, **extra},  # ``extra`` wins
    )


def ws_url(base: str, room_id: str) -> str:
    return base.replace("http://", "ws://") + f"/api/v1/rooms/{room_id}/ws"


def short_token(session: dict[str, Any], ttl: int) -> str:
    """An access token of ``session`` that expires in ``ttl`` seconds (signed like Maria's)."""
    codec = TokenCodec(TEST_SECRET.encode(), issuer="maria", audience="kinoway")
    token, _ = codec.issue(
        sub=session["user"]["id"],
        sid=_sid(session["access_token"]),
        role=session["user"]["role"],
        jti=secrets.token_urlsafe(16),
        iat=int(time.time()),
        ttl=ttl,
    )
    return token


def _sid(access_token: str) -> str:
    import base64

    payload = access_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["sid"])


class Peer:
    """One member's socket."""

    def __init__(
        self,
        ws: ClientConnection,
        answer_pings: bool = False,
        pong_delay: float = 0.0,
        clock_skew: float = 0.0,
    ) -> None:
        self.ws = ws
        self.welcome: dict[str, Any] = {}
        self.skipped: list[dict[str, Any]] = []
        self.pings: list[dict[str, Any]] = []
        self.answer_pings = answer_pings
        self.pong_delay = pong_delay
        self.clock_skew = clock_skew

    @classmethod
    async def open(
        cls,
        base: str,
        room_id: str,
        token: str | None = None,
        *,
        answer_pings: bool = False,
        pong_delay: float = 0.0,
        clock_skew: float = 0.0,
        **kwargs: Any,
    ) -> Peer:
        """Connect; with ``token``, authenticate in-band and wait for the welcome."""
        kwargs.setdefault("proxy", None)
        kwargs.setdefault("open_timeout", WAIT)
        kwargs.setdefault("max_queue", None)  # keep reading: a close is never stuck behind data
        ws = await connect(ws_url(base, room_id), **kwargs)
        peer = cls(ws, answer_pings, pong_delay, clock_skew)
        if token is not None:
            await peer.send({"type": "auth", "token": token})
            peer.welcome = await peer.expect("welcome")
        return peer

    @classmethod
    async def refused(cls, base: str, room_id: str, token: str) -> tuple[int | None, str | None]:
        """Connect and authenticate a socket the server must not let in: its close code
        and reason (an AssertionError if a welcome came instead)."""
        peer = await cls.open(base, room_id)
        await peer.send({"type": "auth", "token": token})
        code, reason = await peer.closed()
        assert not [f for f in peer.skipped if f["type"] == "welcome"], peer.skipped
        return code, reason

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(json.dumps(frame) if isinstance(frame, dict) else frame)

    async def recv(self, within: float = WAIT) -> dict[str, Any]:
        """The next frame other than a server ``ping`` (answered, if the peer does)."""
        deadline = time.monotonic() + within
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), max(0.0, deadline - time.monotonic()))
            received = time.time() * 1000
            frame: dict[str, Any] = json.loads(raw)
            check_server_frame(frame)
            if frame.get("type") != "ping":
                return frame
            self.pings.append(frame)
            if self.answer_pings:
                if self.pong_delay:
                    await asyncio.sleep(self.pong_delay)
                await self.send(
                    {"type": "pong", "t0": frame["t0"], "t1": received + self.clock_skew}
                )

    async def expect(self, kind: str, within: float = WAIT, **fields: Any) -> dict[str, Any]:
        """The next frame of type ``kind`` (whose ``fields`` match); others are set aside."""
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"no {kind} {fields} within {within}s; last seen: {self.skipped[-5:]}"
                )
            try:
                frame = await self.recv(left)
            except TimeoutError:
                continue
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in fields.items()):
                return frame
            self.skipped.append(frame)

    async def chats(self, count: int, within: float = WAIT) -> list[dict[str, Any]]:
        return [await self.expect("chat", within) for _ in range(count)]

    async def closed(self, within: float = WAIT) -> tuple[int | None, str | None]:
        """Wait for the server to close the socket; its close code and reason."""
        with contextlib.suppress(ConnectionClosed):
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                try:
                    raw = await asyncio.wait_for(self.ws.recv(), deadline - time.monotonic())
                except TimeoutError:
                    break
                frame = json.loads(raw)
                check_server_frame(frame)
                self.skipped.append(frame)
            raise AssertionError(f"socket still open after {within}s")
        return self.ws.close_code, self.ws.close_reason

    async def ping(self) -> dict[str, Any]:
        """A round trip through the socket: proof that it still works."""
        t0 = time.time() * 1000
        await self.send({"type": "ping", "t0": t0})
        return await self.expect("pong", t0=t0)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()


class Api:
    """HTTP calls against one server."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def user(self, name: str = "Tester") -> dict[str, Any]:
        """A new account, signed up from an address of its own (the servers trust the
        loopback proxy), so a module's crowd stays within the per-address limit."""
        address = f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
        return await register(self.client, display_name=name, headers={"X-Forwarded-For": address})

    async def room(
        self, session: dict[str, Any], movie_id: int = 301, **body: Any
    ) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/rooms",
            json={"movie_id": movie_id, "title": "Film", **body},
            headers=bearer(session),
        )
        assert response.status_code == 201, response.text
        room: dict[str, Any] = response.json()
        return room

    async def invite(self, session: dict[str, Any], room_id: str, **body: Any) -> dict[str, Any]:
        response = await self.client.post(
            f"/api/v1/rooms/{room_id}/invites", json=body, headers=bearer(session)
        )
        assert response.status_code == 201, response.text
        invite: dict[str, Any] = response.json()
        return invite

    async def join(self, session: dict[str, Any], room_id: str, token: str) -> httpx.Response:
        return await self.client.post(
            f"/api/v1/rooms/{room_id}/join", json={"invite": token}, headers=bearer(session)
        )

    async def audit(self, session: dict[str, Any]) -> list[dict[str, Any]]:
        """The account's own audit events, newest first."""
        response = await self.get(session, "/api/v1/users/me/audit?limit=100")
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def get(self, session: dict[str, Any], path: str) -> httpx.Response:
        return await self.client.get(path, headers=bearer(session))
