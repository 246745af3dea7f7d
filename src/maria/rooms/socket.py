"""One room WebSocket from accept to close: authenticate, join, then read frames.

The only module of the package that sees the WebSocket (the hub gets ``send``/``close``
callables). Frames are handled one at a time, so a member's own messages keep their
order; nothing a client sends can end the loop except closing the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.types import Message, Send
from starlette.websockets import WebSocket

from maria.auth.gate import presented_bearer
from maria.auth.tokens import AccessClaims
from maria.auth.transport import ACCESS_COOKIE
from maria.errors import ApiError
from maria.rooms import protocol, wire
from maria.rooms.conn import Conn
from maria.rooms.hub import RoomHub
from maria.rooms.playback import now_ms
from maria.rooms.protocol import (
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHENTICATED,
    Auth,
    Chat,
    Command,
    Control,
    FrameError,
    Host,
    Ping,
    PlaybackCommand,
)
from maria.rooms.views import is_room_id
from maria.services import Services

log = logging.getLogger("maria.rooms")

MAX_REASON_BYTES = 123  # RFC 6455: a close frame's payload is at most 125 bytes


def reason(code: str, message: str) -> str:
    text = f"{code}: {message}".encode()[:MAX_REASON_BYTES]
    return text.decode("utf-8", "ignore")


async def shut(ws: WebSocket, code: int, why: str) -> None:
    """Close, unless the client is gone already (then there is nobody to tell)."""
    with contextlib.suppress(Exception):
        await ws.close(code, why)


async def serve(ws: WebSocket, send: Send, room_id: str, services: Services) -> None:
    """``send`` is the server's own ASGI send (for ``wire``'s frames extension)."""
    await ws.accept()
    claims = await authenticate(ws, services)
    if claims is None:
        return
    try:
        user = await services.users.get(claims.sub)
    except Exception:
        log.exception("reading the user failed")
        await shut(ws, 1011, reason("unavailable", "Try again later"))
        return
    if user is None or user.disabled:
        await shut(ws, CLOSE_UNAUTHENTICATED, reason("invalid_token", "No such account"))
        return
    if not is_room_id(room_id):
        await shut(ws, CLOSE_NOT_FOUND, reason("not_found", "No such room"))
        return
    hub = services.rooms

    try:
        conn = await hub.join(
            room_id,
            user_id=claims.sub,
            name=user.display_name,
            sid=claims.sid,
            exp=claims.exp,
            send=wire.sender(ws, send),
            close=ws.close,
            write_now=wire.direct_writer(ws),
        )
    except Exception:
        log.exception("joining room %s failed", room_id)
        await shut(ws, 1011, reason("unavailable", "Try again later"))
        return
    if conn is None:
        await shut(ws, CLOSE_NOT_FOUND, reason("not_found", "No such room"))
        return
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            if conn.closing is None:
                await handle(conn, payload(message), services)
    finally:
        await hub.leave(conn)


def payload(message: Message) -> str | bytes | None:
    text = message.get("text")
    return text if text is not None else message.get("bytes")


def origin_allowed(ws: WebSocket, allowed: list[str]) -> bool:
    """Cookie auth is for pages of our own origins (no cross-site WebSocket hijacking);
    a client without ``Origin`` is not a browser, so a cookie it sends is its own."""
    origin = ws.headers.get("origin")
    if origin is None or origin in allowed:
        return True
    host = ws.headers.get("host")
    scheme = "https" if ws.url.scheme == "wss" else "http"
    return host is not None and origin == f"{scheme}://{host}"


async def authenticate(ws: WebSocket, services: Services) -> AccessClaims | None:
    """Bearer header, else the access cookie (checked Origin), else the first frame
    ``{"type": "auth", "token"}`` within the timeout; otherwise close 4401."""
    auth, settings = services.auth, services.settings
    bearer = presented_bearer(ws.scope)
    if bearer is not None:
        try:
            return auth.authenticate(bearer)
        except ApiError as exc:
            await shut(ws, CLOSE_UNAUTHENTICATED, reason(exc.code, exc.message))
            return None
    cookie = ws.cookies.get(ACCESS_COOKIE)
    if cookie and origin_allowed(ws, settings.cors_origins):
        try:
            return auth.authenticate(cookie)
        except ApiError:
            pass  # a stale cookie: the client may still authenticate in-band
    try:
        message = await asyncio.wait_for(ws.receive(), settings.room_auth_timeout)
    except TimeoutError:
        await shut(
            ws, CLOSE_UNAUTHENTICATED, reason("not_authenticated", "No auth message in time")
        )
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        command: Command | None = protocol.parse(payload(message))
    except FrameError:
        command = None
    if not isinstance(command, Auth):
        await shut(
            ws,
            CLOSE_UNAUTHENTICATED,
            reason("not_authenticated", 'The first frame must be {"type":"auth","token":...}'),
        )
        return None
    try:
        return auth.authenticate(command.token)
    except ApiError as exc:
        await shut(ws, CLOSE_UNAUTHENTICATED, reason(exc.code, exc.message))
        return None


async def handle(conn: Conn, data: str | bytes | None, services: Services) -> None:
    """One received frame: a command, or an ``error`` frame back to its sender."""
    if not conn.allow():
        if conn.should_warn():
            conn.push(protocol.error("rate_limited", "Too many frames; slow down"))
        return
    try:
        command = protocol.parse(data)
    except FrameError as exc:
        conn.push(protocol.error(exc.code, exc.message))
        return
    hub = services.rooms
    try:
        await dispatch(conn, command, hub, services)
    except ApiError as exc:
        conn.push(protocol.error(exc.code, exc.message))
    except Exception:
        log.exception("room command failed")
        conn.push(protocol.error("unavailable", "The server could not do that; try again"))


async def dispatch(conn: Conn, command: Command, hub: RoomHub, services: Services) -> None:
    if isinstance(command, Chat):
        await hub.chat(conn, command.text)
    elif isinstance(command, Ping):
        conn.push(protocol.pong(command.t0, now_ms()))
    elif isinstance(command, PlaybackCommand):
        await hub.playback(conn, command.action, command.position)
    elif isinstance(command, Control):
        await hub.control(conn, command.mode)
    elif isinstance(command, Host):
        await hub.hand_over(conn, command.user_id)
    elif isinstance(command, Auth):
        reauthenticate(conn, command.token, services)


def reauthenticate(conn: Conn, token: str, services: Services) -> None:
    """A fresh access token for the same user extends the socket's life."""
    try:
        claims = services.auth.authenticate(token)
    except ApiError as exc:
        conn.push(protocol.error(exc.code, exc.message))
        return
    if claims.sub != conn.user_id:
        conn.push(protocol.error("forbidden", "The token belongs to another user"))
        return
    conn.sid, conn.exp = claims.sid, claims.exp
    conn.push(
        protocol.encode({"type": "authenticated", "user_id": claims.sub, "expires_at": claims.exp})
    )
