"""Frames built once and written in one piece: what a real client receives, over a real
uvicorn socket with ``FramesProtocol``, with and without the frames extension."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect
from websockets.frames import Frame
from websockets.streams import StreamReader

from maria.rooms import wire
from tests.support.servers import uvicorn_thread

TEXTS = ["short", "é" * 100, "x" * 70_000, '{"type":"chat","text":"\\"quoted\\""}']


def parse_all(data: bytes) -> list[Frame]:
    """Parse server frames with websockets' own parser."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    frames = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            while True:
                next(parser)
        except StopIteration as done:
            frames.append(done.value)
    return frames


def test_a_welcome_is_framed_but_not_kept() -> None:
    """Shared frames are cached for their many receivers; a welcome has one."""
    welcome = '{"type":"welcome","room":{"id":"r-%d"}}'
    chat = '{"type":"chat","text":"shared %d"}'
    before = wire._shared.cache_info().currsize
    for i in range(5):
        assert parse_all(wire.frame(welcome % i))[0].data == (welcome % i).encode()
    assert wire._shared.cache_info().currsize == before
    for i in range(5):
        wire.frame(chat % i)
    assert wire._shared.cache_info().currsize == before + 5


def test_frames_parse_back_to_their_texts() -> None:
    frames = parse_all(b"".join(wire.frame(t) for t in TEXTS))
    assert [f.data.decode() for f in frames] == TEXTS
    assert all(f.fin for f in frames)
    assert wire.frame("shared") is wire.frame("shared")  # built once for every receiver


def test_chunks_keep_order_and_bound_the_write_size() -> None:
    texts = [f"frame {n} " + "y" * 1000 for n in range(600)]
    parts = list(wire.chunks(texts))
    assert len(parts) > 1
    assert all(len(data) < wire.MAX_WRITE + 1100 for data, _ in parts)
    assert sum(count for _, count in parts) == len(texts)
    assert [f.data.decode() for f in parse_all(b"".join(d for d, _ in parts))] == texts
    assert list(wire.chunks([])) == []


class Batches:
    """An ASGI app sending each connection a batch of frames the way a room member gets
    them, and recording whether the server offered the extension."""

    def __init__(self) -> None:
        self.offered: list[bool] = []
        self.late_error: list[BaseException] = []
        self.direct: list[int] = []  # what ``write_now`` answered, open then closed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ws = WebSocket(scope, receive, send)
        await ws.accept()
        self.offered.append(wire.EXTENSION in scope["extensions"])
        send_frames = wire.sender(ws, send)
        write_now = wire.direct_writer(ws)
        await send_frames(TEXTS)
        await send_frames(["second batch"])
        if write_now is not None:
            self.direct.append(write_now(["written now", "and this"]))
        else:
            await send_frames(["written now", "and this"])
        message = await ws.receive()  # the client closes
        assert message["type"] == "websocket.disconnect"
        if write_now is not None:
            self.direct.append(write_now(["too late"]))
        try:
            await send_frames(["too late"])
        except Exception as exc:  # what the room writer sees when a peer is gone
            self.late_error.append(exc)


@pytest.fixture(params=[False, True], ids=["plain", "deflate"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, Batches, bool]]:
    app = Batches()
    with uvicorn_thread(
        app, ws=wire.FramesProtocol, ws_per_message_deflate=request.param, lifespan="off"
    ) as port:
        yield f"ws://127.0.0.1:{port}/", app, request.param


async def test_a_client_receives_every_frame_in_order(server: tuple[str, Batches, bool]) -> None:
    url, app, deflate = server
    kwargs: dict[str, Any] = {"compression": "deflate" if deflate else None, "proxy": None}
    async with connect(url, **kwargs) as ws:
        received = [await asyncio.wait_for(ws.recv(), 10) for _ in range(len(TEXTS) + 3)]
    assert received == [*TEXTS, "second batch", "written now", "and this"]
    # Compressed frames differ per socket: that connection falls back to one send each.
    assert app.offered == [not deflate]
    for _ in range(200):
        if app.late_error:
            break
        await asyncio.sleep(0.01)
    assert len(app.late_error) == 1 and isinstance(app.late_error[0], Exception)
    assert app.direct == ([] if deflate else [2, 0])  # nothing written once closed
