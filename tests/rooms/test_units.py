"""The orderer and the frame parser, without a server."""

from __future__ import annotations

import json

import pytest

from maria.rooms import protocol
from maria.rooms.frames import (
    ClientAuth,
    ClientChat,
    ClientControl,
    ClientHost,
    ClientPing,
    ClientPlayback,
)
from maria.rooms.ordering import Orderer
from maria.rooms.protocol import FrameError, parse

# -- ordering -------------------------------------------------------------------------


def test_orderer_waits_until_started() -> None:
    orderer: Orderer[str] = Orderer()
    assert orderer.offer(5, "e") == [] and orderer.offer(4, "d") == []
    assert orderer.start(4) == ["d", "e"]
    assert orderer.offer(6, "f") == ["f"]


def test_orderer_drops_what_the_history_has() -> None:
    orderer: Orderer[str] = Orderer()
    orderer.offer(2, "b")
    orderer.offer(3, "c")
    assert orderer.start(3) == ["c"]  # 2 was in the snapshot already
    assert orderer.offer(2, "b") == [] and orderer.offer(3, "c") == []


def test_orderer_holds_messages_behind_a_hole() -> None:
    orderer: Orderer[int] = Orderer()
    orderer.start(1)
    assert orderer.offer(3, 3) == [] and orderer.offer(4, 4) == []
    assert orderer.gap() == (1, 3)
    assert orderer.offer(1, 1) == [1]
    assert orderer.gap() == (2, 3)
    assert orderer.offer(2, 2) == [2, 3, 4]
    assert orderer.gap() is None and orderer.waiting == 0


def test_orderer_fill_and_give_up() -> None:
    orderer: Orderer[int] = Orderer()
    orderer.start(1)
    orderer.offer(5, 5)
    # The store has 1 and 3; 2 and 4 are gone for good (deleted with their author).
    assert orderer.fill([(1, 1), (3, 3)], upto=5) == [1, 3, 5]
    assert orderer.next_seq == 6
    assert orderer.offer(2, 2) == [] and orderer.offer(4, 4) == []  # too late: dropped


def test_orderer_any_arrival_order_gives_one_order() -> None:
    import random

    rng = random.Random(7)
    for _ in range(50):
        seqs = list(range(10, 40))
        rng.shuffle(seqs)
        orderer: Orderer[int] = Orderer()
        orderer.start(10)
        out: list[int] = []
        for seq in seqs:
            out += orderer.offer(seq, seq)
            out += orderer.offer(seq, seq)  # duplicates never deliver twice
        assert out == list(range(10, 40))


# -- parsing --------------------------------------------------------------------------


def frame(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


def test_parse_commands() -> None:
    assert parse(frame(type="chat", text="  hi ")) == ClientChat(type="chat", text="hi")
    assert parse(frame(type="ping", t0=12.5)) == ClientPing(type="ping", t0=12.5)
    ping = parse(frame(type="ping", t0=2**70))  # an integer comes back as sent
    assert isinstance(ping, ClientPing) and ping.t0 == 2**70 and isinstance(ping.t0, int)
    assert parse(frame(type="playback", action="play")) == ClientPlayback(
        type="playback", action="play"
    )
    seek = parse(frame(type="playback", action="seek", position=3))
    assert seek == ClientPlayback(type="playback", action="seek", position=3.0)
    assert parse(frame(type="control", mode="everyone")) == ClientControl(
        type="control", mode="everyone"
    )
    assert parse(frame(type="host", user_id="u1", extra=[1])) == ClientHost(
        type="host", user_id="u1"
    )
    assert parse(frame(type="auth", token="t")) == ClientAuth(type="auth", token="t")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"{}", "unsupported_frame"),
        (None, "unsupported_frame"),
        ("x" * (protocol.MAX_FRAME_BYTES + 1), "payload_too_large"),
        ("ü" * (protocol.MAX_FRAME_BYTES // 2 + 1), "payload_too_large"),
        ("{", "invalid_json"),
        ("[" * 100_00, "invalid_json"),
        ('{"type": "ping", "t0": Infinity}', "invalid_json"),
        ("1" * 5000, "invalid_json"),  # beyond Python's int digit limit
        ('{"type": []}', "unknown_type"),
        (frame(type="chat", text="a" * 1001), "validation_error"),
        (frame(type="host", user_id="u" * 65), "validation_error"),
        (frame(type="auth", token="t" * 9000), "validation_error"),
        (frame(type="ping", t0=None), "validation_error"),
        # Found by tests/fuzz: unhashable values once crashed the socket.
        (frame(type="control", mode=[]), "validation_error"),
        (frame(type="playback", action={"x": 1}), "validation_error"),
        # Positions: seconds from 0 to 7 days.
        (frame(type="playback", action="seek", position=1e308), "validation_error"),
        (frame(type="playback", action="seek", position=604_800.5), "validation_error"),
        (frame(type="playback", action="play", position=-1), "validation_error"),
        ('{"type": "playback", "action": "seek", "position": NaN}', "invalid_json"),
        ('{"type": "playback", "action": "seek", "position": 1e400}', "validation_error"),
    ],
)
def test_parse_refusals(data: str | bytes | None, code: str) -> None:
    with pytest.raises(FrameError) as caught:
        parse(data)
    assert caught.value.code == code


def test_frames_just_under_the_limit_parse() -> None:
    text = "ü" * 900
    data = frame(type="chat", text=text) + " " * (protocol.MAX_FRAME_BYTES - 2000)
    assert len(data.encode()) <= protocol.MAX_FRAME_BYTES
    assert parse(data) == ClientChat(type="chat", text=text)


def test_server_frames_are_compact_json() -> None:
    assert protocol.pong(1, 2) == '{"type":"pong","t0":1,"server_time":2}'
    assert json.loads(protocol.error("x", "y", retry_after=3)) == {
        "type": "error",
        "code": "x",
        "message": "y",
        "retry_after": 3,
    }
    assert protocol.presence("join", "u", "Анна") == (
        '{"type":"presence","event":"join","user_id":"u","name":"Анна"}'
    )


# -- the outbox -----------------------------------------------------------------------


async def test_a_reader_that_falls_too_far_behind_is_closed() -> None:
    import asyncio

    from maria.rooms.conn import MAX_OUTBOX, Conn

    stuck = asyncio.Event()
    closed: list[tuple[int, str]] = []

    async def send(frames: list[str]) -> None:
        await stuck.wait()  # the peer never reads

    async def close(code: int, reason: str) -> None:
        closed.append((code, reason))

    conn = Conn(room_id="r", user_id="u", name="U", sid="s", exp=0, send=send, close=close)
    conn.start("welcome")
    await asyncio.sleep(0)
    for n in range(MAX_OUTBOX + 1):
        conn.push(f"frame {n}")
    assert conn.closing is not None and conn.closing[0] == protocol.CLOSE_SLOW
    conn.push("dropped")  # after the close request: ignored, nothing grows
    stuck.set()
    for _ in range(100):
        if closed:
            break
        await asyncio.sleep(0.01)
    assert closed == [conn.closing]
    await conn.stop()


async def test_an_idle_writer_keeps_no_frame_it_sent() -> None:
    """The welcome is the writer's last batch on an idle socket: once sent, it is freed."""
    import asyncio
    import gc
    import weakref

    from maria.rooms.conn import Conn

    class Text(str):  # a str that can be watched
        pass

    sent: list[int] = []

    async def send(frames: list[str]) -> None:
        sent.append(len(frames))

    async def close(code: int, reason: str) -> None:
        return None

    conn = Conn(room_id="r", user_id="u", name="U", sid="s", exp=0, send=send, close=close)
    welcome = Text('{"type":"welcome"}')
    watched = weakref.ref(welcome)
    conn.start(welcome)
    del welcome
    for _ in range(5):
        await asyncio.sleep(0)
    assert sent == [1]
    gc.collect()
    assert watched() is None, "the idle writer still holds the welcome"
    await conn.stop()


async def test_idle_sockets_are_written_directly_once_per_loop_pass_and_in_order() -> None:
    import asyncio

    from maria.rooms.conn import Conn, Flusher

    wire: list[str] = []  # what reached the socket, by either path
    direct: list[list[str]] = []  # write_now's calls
    sent: list[list[str]] = []  # the writer task's sends
    room = 100  # frames flow control lets through before it holds the socket
    gate = asyncio.Event()

    async def send(frames: list[str]) -> None:
        sent.append(frames)
        await gate.wait()
        wire.extend(frames)

    def write_now(frames: list[str]) -> int:
        count = min(room, len(frames))
        if count:
            direct.append(frames[:count])
            wire.extend(frames[:count])
        return count

    async def close(code: int, reason: str) -> None:
        return None

    async def settle() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    conn = Conn(
        room_id="r",
        user_id="u",
        name="U",
        sid="s",
        exp=0,
        send=send,
        close=close,
        write_now=write_now,
        flusher=Flusher(),
    )
    conn.start("welcome")
    conn.push("queued behind the welcome")  # the writer is busy: it sends this too
    await settle()
    conn.push("while sending")
    gate.set()
    await settle()
    assert sent == [["welcome", "queued behind the welcome"], ["while sending"]]
    conn.push("a")  # two deliveries in one pass: one write, and no writer wake-up
    conn.push_all(["b", "c"])
    assert direct == []  # not inside the delivery: in the loop's next pass
    await settle()
    assert direct == [["a", "b", "c"]] and len(sent) == 2
    room = 1  # flow control holds the socket after one frame: the writer takes the rest
    conn.push_all(["d", "held"])
    await asyncio.sleep(0)  # the flush woke the writer, which has not run yet
    room = 100
    conn.push("after held")  # must not overtake "held"
    await settle()
    assert direct[-1] == ["d"] and sent[-1] == ["held", "after held"]
    assert wire == [
        "welcome",
        "queued behind the welcome",
        "while sending",
        "a",
        "b",
        "c",
        "d",
        "held",
        "after held",
    ]
    await conn.stop()
