"""One member's socket as the hub sees it: who, until when, and an outbox.

Fan-out only appends the (shared) frame strings to each member's outbox. While a socket
is idle, a ``Flusher`` writes the outbox in the loop's next pass with the server's
synchronous ``write_now`` (see ``wire``): at a few messages a second, waking one writer task
per member per message was a quarter of the CPU. Otherwise (flow control holds the socket,
or the server has no ``write_now``) the socket's writer task drains the outbox, handing
``send`` everything queued at once. A slow reader thus delays only itself, and one that
falls ``MAX_OUTBOX`` frames behind is closed rather than allowed to grow without bound.
The hub never touches the WebSocket itself: it gets ``send``/``write_now``/``close``.

Idle sockets are the common case, so an idle ``Conn`` holds little: a list swapped out
whole by the writer (not a deque, whose first block alone is 760 bytes) and a future only
while the writer waits (not an ``asyncio.Event`` with its own deque).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from maria.rooms.clock import PING_EVERY, Clock
from maria.rooms.protocol import CLOSE_SLOW

log = logging.getLogger("maria.rooms")

SendFrames = Callable[[list[str]], Awaitable[None]]
# Write frames right away as far as nothing stands in the way; how many were written.
WriteNow = Callable[[list[str]], int]
CloseSocket = Callable[[int, str], Awaitable[None]]

MAX_OUTBOX = 10_000
FRAME_RATE = 20.0  # frames/s a client may send on average ...
FRAME_BURST = 200.0  # ... and at once


class Conn:
    __slots__ = (
        "room_id",
        "user_id",
        "name",
        "sid",
        "exp",
        "_send",
        "_write_now",
        "_flusher",
        "_dirty",
        "_close",
        "_outbox",
        "_waiter",
        "_task",
        "closing",
        "_tokens",
        "_refilled",
        "_warned",
        "clock",
    )

    def __init__(
        self,
        *,
        room_id: str,
        user_id: str,
        name: str,
        sid: str,
        exp: int,
        send: SendFrames,
        close: CloseSocket,
        write_now: WriteNow | None = None,
        flusher: Flusher | None = None,
    ) -> None:
        self.room_id = room_id
        self.user_id = user_id
        self.name = name
        self.sid = sid
        self.exp = exp
        self._send = send
        self._write_now = write_now
        self._flusher = flusher if write_now is not None else None  # both, or the writer
        self._dirty = False
        self._close = close
        self._outbox: list[str] = []
        self._waiter: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.closing: tuple[int, str] | None = None
        self._tokens = FRAME_BURST
        self._refilled = time.monotonic()
        self._warned = 0.0
        self.clock = Clock(self._refilled + PING_EVERY)  # the member's clock (``clock``)

    def renew(self, sid: str, exp: int) -> None:
        """A fresh token (``auth`` frame) of the same user: the socket lives on until ``exp``."""
        self.sid, self.exp = sid, exp

    def start(self, first: str) -> None:
        """Send ``first`` (the welcome), then whatever was queued since registration."""
        self._outbox.insert(0, first)
        self._task = asyncio.create_task(self._run(), name="maria-room-writer")

    def push(self, frame: str) -> None:
        self.push_all([frame])

    def push_all(self, frames: list[str]) -> None:
        if self.closing is not None:
            return
        if len(self._outbox) + len(frames) > MAX_OUTBOX:
            self.close(CLOSE_SLOW, "slow_consumer: the client reads too slowly")
            return
        self._outbox += frames
        if self._flusher is not None and self._idle():
            if not self._dirty:
                self._dirty = True
                self._flusher.add(self)
        else:
            self._wake()

    def flush(self) -> None:
        """Write what is queued right away if the writer is idle (nothing in flight, so
        the order holds) and the server can; leave what it could not to the writer."""
        self._dirty = False
        if not self._outbox or self.closing is not None:
            return
        assert self._write_now is not None
        try:
            written = self._write_now(self._outbox) if self._idle() else 0
        except Exception:  # the writer meets the same error and ends the socket
            written = 0
        if written:
            del self._outbox[:written]
        if self._outbox:
            self._wake()

    def _idle(self) -> bool:
        waiter = self._waiter
        return waiter is not None and not waiter.done()

    def close(self, code: int, reason: str) -> None:
        """Close after the frames already queued; later pushes are dropped."""
        if self.closing is None:
            self.closing = (code, reason)
            self._wake()

    def allow(self) -> bool:
        """Token bucket on received frames: floods are refused, never queued."""
        now = time.monotonic()
        self._tokens = min(FRAME_BURST, self._tokens + (now - self._refilled) * FRAME_RATE)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def should_warn(self) -> bool:
        """At most one ``rate_limited`` reply a second to a flooding client."""
        now = time.monotonic()
        if now - self._warned < 1.0:
            return False
        self._warned = now
        return True

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _run(self) -> None:
        try:
            while True:
                while self._outbox:
                    batch, self._outbox = self._outbox, []
                    await self._send(batch)
                    # Not kept while idle: later frames of an idle socket go by ``flush``,
                    # so the last batch (the welcome, KiBs) would stay for the socket's life.
                    del batch
                if self.closing is not None:
                    await self._close(*self.closing)
                    return
                self._waiter = asyncio.get_running_loop().create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the peer went away mid-send: the receive loop ends too
            log.debug("room writer stopped: %s", type(exc).__name__)
        finally:
            self._outbox = []

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class Flusher:
    """Idle sockets given frames during one pass of the event loop, written in the next
    pass without waking their writer tasks (frames queued by several deliveries in one pass
    thus leave in one write). One per hub, so per event loop."""

    def __init__(self) -> None:
        self._conns: list[Conn] = []

    def add(self, conn: Conn) -> None:
        if not self._conns:
            asyncio.get_running_loop().call_soon(self._run)
        self._conns.append(conn)

    def _run(self) -> None:
        conns, self._conns = self._conns, []
        for conn in conns:
            conn.flush()
