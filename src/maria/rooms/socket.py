"""One room WebSocket from accept to close: authenticate, join, then read frames.

The only module of the package that sees the WebSocket (the hub gets ``send``/``close``
callables). Who is calling was worked out by the identity layer (a bearer header, or the
access cookie from an allowed page); otherwise the first frame must be ``auth``, checked by
the same layer (``verify_in_band``). Frames are handled one at a time, so a member's own
messages keep their order; nothing a client sends can end the loop except closing the
socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.types import Message, Send
from starlette.websockets import WebSocket

from maria.db import OutageLog
from maria.errors import ApiError
from maria.http.identity import caller_of, verify_in_band
from maria.identity import Identity
from maria.metrics import refused
from maria.rooms import protocol, wire
from maria.rooms.conn import Conn
from maria.rooms.frames import (
    ClientAuth,
    ClientChat,
    ClientClear,
    ClientControl,
    ClientHost,
    ClientKick,
    ClientLock,
    ClientMute,
    ClientPing,
    ClientPlayback,
    ClientPong,
    ClientPosition,
    ClientQueue,
    ClientReact,
    ClientReady,
    ClientRole,
)
from maria.rooms.hub import RoomHub
from maria.rooms.protocol import (
    CLOSE_NOT_FOUND,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHENTICATED,
    Command,
    FrameError,
    Refused,
)
from maria.rooms.views import is_room_id
from maria.users.service import UsersService

log = logging.getLogger("maria.rooms")
outages = OutageLog(log)

MAX_REASON_BYTES = 123  # RFC 6455: a close frame's payload is at most 125 bytes


def reason(code: str, message: str) -> str:
    text = f"{code}: {message}".encode()[:MAX_REASON_BYTES]
    return text.decode("utf-8", "ignore")


async def shut(ws: WebSocket, code: int, why: str) -> None:
    """Close, unless the client is gone already (then there is nobody to tell)."""
    with contextlib.suppress(Exception):
        await ws.close(code, why)


async def serve(
    ws: WebSocket,
    send: Send,
    room_id: str,
    *,
    hub: RoomHub,
    users: UsersService,
    auth_wait: float,
) -> None:
    """``send`` is the server's own ASGI send (for ``wire``'s frames extension)."""
    await ws.accept()
    identity = await authenticate(ws, auth_wait)
    if identity is None:
        return
    try:
        user = await users.active(identity.user_id)
    except ApiError as exc:
        await shut(ws, CLOSE_UNAUTHENTICATED, reason(exc.code, exc.message))
        return
    except Exception as exc:
        outages.failed("reading the user", exc)
        await shut(ws, CLOSE_TRY_AGAIN_LATER, reason("unavailable", "Try again later"))
        return
    if not is_room_id(room_id):
        await shut(ws, CLOSE_NOT_FOUND, reason("not_found", "No such room"))
        return
    try:
        conn = await hub.join(
            room_id,
            user_id=identity.user_id,
            name=user.display_name,
            sid=identity.session_id,
            exp=identity.expires_at,
            send=wire.sender(ws, send),
            close=ws.close,
            write_now=wire.direct_writer(ws),
            is_admin=identity.is_admin,
        )
    except Refused as exc:  # kicked, private, full
        await shut(ws, exc.code, reason(exc.why, exc.message))
        return
    except Exception as exc:
        outages.failed("joining a room", exc)
        await shut(ws, CLOSE_TRY_AGAIN_LATER, reason("unavailable", "Try again later"))
        return
    if conn is None:
        await shut(ws, CLOSE_NOT_FOUND, reason("not_found", "No such room"))
        return
    log.info("user %s joined room %s", identity.user_id, room_id)
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            if conn.closing is None:
                await handle(conn, payload(message), hub, ws)
    finally:
        await hub.leave(conn)


def payload(message: Message) -> str | bytes | None:
    text = message.get("text")
    return text if text is not None else message.get("bytes")


async def authenticate(ws: WebSocket, wait: float) -> Identity | None:
    """The caller the identity layer found (a refused bearer token closes 4401), else the
    first frame ``{"type": "auth", "token"}`` within ``wait`` seconds; otherwise close 4401."""
    caller = caller_of(ws.scope)
    if caller.refused is not None:
        await shut(ws, CLOSE_UNAUTHENTICATED, reason(caller.refused.code, caller.refused.message))
        return None
    if caller.identity is not None:
        return caller.identity
    try:
        message = await asyncio.wait_for(ws.receive(), wait)
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
    if not isinstance(command, ClientAuth):
        await shut(
            ws,
            CLOSE_UNAUTHENTICATED,
            reason("not_authenticated", 'The first frame must be {"type":"auth","token":...}'),
        )
        return None
    try:
        return verify_in_band(ws.scope, command.token)
    except ApiError as exc:
        await shut(ws, CLOSE_UNAUTHENTICATED, reason(exc.code, exc.message))
        return None


async def handle(conn: Conn, data: str | bytes | None, hub: RoomHub, ws: WebSocket) -> None:
    """One received frame: a command, or an ``error`` frame back to its sender."""
    if not conn.allow():
        refused("room_frames")
        if conn.should_warn():
            conn.push(protocol.error("rate_limited", "Too many frames; slow down"))
        return
    try:
        command = protocol.parse(data)
    except FrameError as exc:
        conn.push(protocol.error(exc.code, exc.message))
        return
    try:
        await dispatch(conn, command, hub, ws)
    except ApiError as exc:
        conn.push(protocol.error(exc.code, exc.message))
    except Exception as exc:
        outages.failed("a room command", exc)
        conn.push(protocol.error("unavailable", "The server could not do that; try again"))


async def dispatch(conn: Conn, command: Command, hub: RoomHub, ws: WebSocket) -> None:
    if isinstance(command, ClientChat):
        await hub.chat(conn, command.text)
    elif isinstance(command, ClientPing):
        hub.pong(conn, command.t0)
    elif isinstance(command, ClientPosition):
        hub.position(conn, command.position, command.at)
    elif isinstance(command, ClientPong):
        hub.sample_clock(conn, command.t0, command.t1)
    elif isinstance(command, ClientPlayback):
        await hub.playback(conn, command.action, command.position, command.force is True)
    elif isinstance(command, ClientReady):
        await hub.ready(conn, command.state, command.movie_id)
    elif isinstance(command, ClientQueue):
        await hub.queue(conn, command)
    elif isinstance(command, ClientControl):
        await hub.control(conn, command.mode)
    elif isinstance(command, ClientHost):
        await hub.hand_over(conn, command.user_id)
    elif isinstance(command, ClientAuth):
        reauthenticate(conn, command.token, ws)
    elif isinstance(command, ClientReact):
        await hub.reactions.react(conn, command.emoji, command.message_id, command.position)
    elif isinstance(command, ClientKick):
        await hub.moderation.kick(conn, command.user_id)
    elif isinstance(command, ClientMute):
        await hub.moderation.mute(conn, command.user_id, command.muted)
    elif isinstance(command, ClientLock):
        await hub.moderation.lock(conn, command.locked)
    elif isinstance(command, ClientClear):
        await hub.moderation.clear(conn)
    elif isinstance(command, ClientRole):
        await hub.moderation.role(conn, command.user_id, command.role)


def reauthenticate(conn: Conn, token: str, ws: WebSocket) -> None:
    """A fresh access token for the same user extends the socket's life."""
    try:
        identity = verify_in_band(ws.scope, token)
    except ApiError as exc:
        conn.push(protocol.error(exc.code, exc.message))
        return
    if identity.user_id != conn.user_id:
        conn.push(protocol.error("forbidden", "The token belongs to another user"))
        return
    conn.renew(identity.session_id, identity.expires_at)
    conn.push(protocol.authenticated(identity.user_id, identity.expires_at))
