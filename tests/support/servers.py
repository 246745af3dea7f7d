"""Real server processes and threads: ``maria serve`` on a free port, uvicorn in a thread,
and bounded polling for what crosses them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import uvicorn

MARIA = Path(sys.executable).with_name("maria")
# Cheap argon2 for the servers (the default parameters are exercised elsewhere).
CHEAP_HASHING = {
    "MARIA_ARGON2_MEMORY_KIB": "1024",
    "MARIA_ARGON2_TIME_COST": "1",
    "MARIA_PASSWORD_HASH_THREADS": "2",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def maria_env(**values: str) -> dict[str, str]:
    """The parent's environment without any MARIA_* variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARIA_")}
    env.update(values)
    return env


class Server:
    """One ``maria serve`` process on a free port; ``stop`` always ends it."""

    def __init__(
        self, name: str, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ()
    ) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.cwd = cwd
        self.log_path = cwd / f"{name}-{secrets.token_hex(3)}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def spawn(self) -> None:
        self.port = free_port()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(MARIA), "serve", "--host", "127.0.0.1", "--port", str(self.port), *self.args],
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_healthy(self, timeout: float = 60.0) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                raise AssertionError(f"{self.name} exited with {code}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not answer /healthz in {timeout}s:\n{self.log()}")

    def start(self) -> Server:
        for _ in range(3):  # the free port may be taken between probing and binding
            self.spawn()
            try:
                self.wait_healthy()
                return self
            except AssertionError:
                self.stop()
                if "address already in use" not in self.log().lower():
                    raise
        raise AssertionError(f"{self.name}: no free port:\n{self.log()}")

    def stop(self) -> int | None:
        """Terminate (then kill) the process; its exit code."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        # The process leads its own session: signal its group so --workers children go too.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=15)
                break
            except subprocess.TimeoutExpired:
                continue
        return proc.returncode


def started(stack: ExitStack, name: str, env: dict[str, str], cwd: Path, *args: str) -> Server:
    """Start a server whose ``stop`` the stack runs however the test ends."""
    server = Server(name, env, cwd, args)
    stack.callback(server.stop)
    return server.start()


# -- polling for convergence ----------------------------------------------------------


async def converge(
    what: str,
    probe: Callable[[], Awaitable[bool]],
    within: float,
) -> float:
    """Poll ``probe`` until true (or fail after ``within`` s); the seconds it took."""
    begin = time.monotonic()
    while True:
        if await probe():
            elapsed = time.monotonic() - begin
            print(f"\n[convergence] {what}: {elapsed * 1000:.1f} ms")
            return elapsed
        if time.monotonic() - begin > within:
            raise AssertionError(f"{what}: not seen within {within}s")
        await asyncio.sleep(0.01)


@contextlib.contextmanager
def uvicorn_thread(app: Any, **config: Any) -> Iterator[int]:
    """``app`` served by uvicorn in a thread of this process, on a free port (yielded)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.05)
        assert server.started, "the in-thread server did not start"
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=15)
