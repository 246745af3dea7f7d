"""Room frames on the wire: framed once, written to each member in one piece.

A server's WebSocket frames are not masked, so a chat frame's bytes are the same for every
member of a room: ``frame`` builds them once (websockets does the framing), and a member's
backlog goes to the socket as one write instead of one ASGI message, one framing step and
one ``write`` system call per frame. uvicorn's ASGI interface has no such message;
``FramesProtocol`` (what ``maria serve`` runs) adds it as the ASGI extension
``maria.websocket.frames``, whose ``write`` entry also writes frames synchronously while the
socket is open and writable (``conn.Flusher`` uses it for idle sockets). Where it is
missing (another server, the test client, a connection that negotiated compression, whose
frames differ per socket), sockets send message by message.

``FramesProtocol`` reads attributes of uvicorn's websockets-sansio protocol (``writable``,
``handshake_complete``, ``close_sent``, ``conn``, ``transport``), which are not public API:
``pyproject.toml`` bounds uvicorn to the versions checked (0.36 to 0.54), and
``tests/rooms/test_wire.py`` runs it on a real uvicorn server.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, cast

from starlette.types import Send
from starlette.websockets import WebSocket
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State

from maria.rooms.conn import SendFrames, WriteNow

EXTENSION = "maria.websocket.frames"
SHARED_UP_TO = 8 * 1024  # chat and presence frames are shared; a welcome is one member's
# A welcome (one member's, up to a few KiB in a room of a hundred) is never cached: in the
# cache it would stay, text and bytes, long after its one send (the cache holds 2,048).
UNSHARED_PREFIX = '{"type":"welcome"'
MAX_WRITE = 256 * 1024  # bytes per write, so uvicorn's flow control can pause a slow reader


def _serialize(text: str) -> bytes:
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False, extensions=[])


_shared = functools.lru_cache(maxsize=2048)(_serialize)


def frame(text: str) -> bytes:
    """The bytes of a text frame carrying ``text``, built once for all receivers."""
    if len(text) > SHARED_UP_TO or text.startswith(UNSHARED_PREFIX):
        return _serialize(text)
    return _shared(text)


def chunks(texts: list[str]) -> Iterator[tuple[bytes, int]]:
    """``texts`` framed and joined into writes of at most about ``MAX_WRITE`` bytes, each
    with the number of texts it carries; lazily, so a writer that stops early frames no
    more than it sent."""
    part: list[bytes] = []
    size = 0
    for text in texts:
        data = frame(text)
        part.append(data)
        size += len(data)
        if size >= MAX_WRITE:
            yield b"".join(part), len(part)
            part, size = [], 0
    if part:
        yield b"".join(part), len(part)


def sender(ws: WebSocket, send: Send) -> SendFrames:
    """How to send a list of frames on ``ws``: in few writes where the server lets us."""
    if EXTENSION in ws.scope.get("extensions", {}):

        async def send_frames(texts: list[str]) -> None:
            for data, _ in chunks(texts):
                await send({"type": EXTENSION, "bytes": data})

    else:

        async def send_frames(texts: list[str]) -> None:
            for text in texts:
                await ws.send_text(text)

    return send_frames


def direct_writer(ws: WebSocket) -> WriteNow | None:
    """The server's synchronous frame writer for ``ws``, if it offers one."""
    extension = ws.scope.get("extensions", {}).get(EXTENSION)
    return None if extension is None else cast(WriteNow, extension["write"])


class FramesProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol plus ``maria.websocket.frames``: ready frames as bytes."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None and not self.conn.extensions:
            scope["extensions"][EXTENSION] = {"write": self.write_now}

    def write_now(self, texts: list[str]) -> int:
        """Write ``texts``' frames at once, as far as flow control lets us (a slow reader
        buffers one chunk here, not a whole batch); how many of them were written (none
        when the socket is not open). The caller leaves the rest to the awaiting path."""
        written = 0
        for data, count in chunks(texts):
            if not (self.writable.is_set() and self._open()):
                break
            self.transport.write(data)
            written += count
        return written

    def _open(self) -> bool:
        return (
            self.handshake_complete
            and not self.close_sent
            and self.conn.state is State.OPEN
            and not self.transport.is_closing()
        )

    async def send(self, message: Any) -> None:
        if message["type"] != EXTENSION:
            await super().send(message)
            return
        await self.writable.wait()
        if not self.handshake_complete:
            raise RuntimeError(f"{EXTENSION} before websocket.accept")
        if not self._open():
            raise ClientDisconnected()
        self.transport.write(cast(bytes, message["bytes"]))
