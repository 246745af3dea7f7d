"""Faults on private instances: a TCP proxy the test can cut or freeze, a Redis server of
its own. Never the shared services."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.services import REQUIRE_SERVICES


class TcpProxy:
    """A TCP relay to a real server, on its own thread and event loop, so that it keeps
    relaying while the test's loop waits (and works for server processes too).

    ``cut`` is a dead host (new connections refused, open ones dropped); ``freeze`` is a
    hung one (connections stay open, no byte moves either way, new ones are accepted and
    hang); ``restore`` brings either back.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._thread.start()

    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    # -- what tests call -----------------------------------------------------------

    def start(self) -> TcpProxy:
        self._call(self._start())
        return self

    def cut(self) -> None:
        self._call(self._cut())

    def freeze(self) -> None:
        self._call(self._freeze())

    def restore(self) -> None:
        self._call(self._restore())

    def close(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    # -- on the proxy's loop --------------------------------------------------------

    async def _start(self) -> None:
        self._flowing.set()
        for _ in range(50):  # the port can be reused while the old socket lingers
            try:
                self._server = await asyncio.start_server(
                    self._accept, "127.0.0.1", self.port, reuse_address=True
                )
                return
            except OSError:
                await asyncio.sleep(0.1)
        raise AssertionError(f"proxy could not listen on {self.port}")

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self._flowing.wait()  # frozen: accepted, but the handshake never gets through
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await src.read(65536):
                await self._flowing.wait()
                dst.write(data)
                await dst.drain()
        dst.close()

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._flowing.set()
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _shutdown(self) -> None:
        await self._cut()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:  # accepts still waiting for a frozen proxy to flow
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _freeze(self) -> None:
        self._flowing.clear()

    async def _restore(self) -> None:
        self._flowing.set()
        if self._server is None:
            await self._start()


@contextlib.contextmanager
def tcp_proxy(host: str, port: int) -> Iterator[TcpProxy]:
    proxy = TcpProxy(host, port).start()
    try:
        yield proxy
    finally:
        proxy.close()


class RedisServer:
    """A ``redis-server`` of the test's own on a free port, which it may stop and restart
    (on the same port, as a restarted Redis comes back)."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            reason = "redis-server not installed: this test starts a Redis of its own"
            if REQUIRE_SERVICES:
                pytest.fail(f"MARIA_TEST_REQUIRE_SERVICES=1 but {reason}")
            pytest.skip(reason)
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        self.proc = subprocess.Popen(
            [self.binary, *args, "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return self
            time.sleep(0.05)
        raise AssertionError("private redis-server did not start")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir).start()
    try:
        yield server
    finally:
        server.stop()
