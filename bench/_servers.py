"""What every benchmark needs to run its servers: free loopback ports, child processes that
are ready when ``/healthz`` answers and end with their whole process group, their CPU time
and memory from /proc, and throw-away Postgres databases."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

MARIA = Path(sys.executable).with_name("maria")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def maria_argv() -> list[str]:
    """How to run the ``maria`` command of this interpreter's installation."""
    return [str(MARIA)] if MARIA.exists() else [sys.executable, "-m", "maria.cli"]


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any MARIA_* variable, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARIA_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


def healthz(port: int, timeout: float = 1.0) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/healthz")
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


class Server:
    """A child process serving HTTP on a free loopback port (``--host``/``--port`` are
    appended to ``argv``), in its own process group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [*argv, "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            with contextlib.suppress(OSError, http.client.HTTPException):
                if healthz(self.port) == 200:
                    return
            time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not start on port {self.port}:\n{tail}")

    def stop(self) -> None:
        """SIGTERM to the group (uvicorn shuts down gracefully), SIGKILL if it lingers."""
        if self.proc.poll() is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
                return
            except subprocess.TimeoutExpired:
                continue

    def cpu_seconds(self) -> tuple[float, float]:
        """utime + stime of the process (all threads) and of its main thread, which runs
        the event loop (hashing and driver threads are the difference)."""

        def read(stat: str) -> float:
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                return 0.0
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        pid = self.proc.pid
        return read(f"/proc/{pid}/stat"), read(f"/proc/{pid}/task/{pid}/stat")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


async def pg(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextlib.contextmanager
def postgres_database(admin_url: str, prefix: str = "maria_bench") -> Iterator[str]:
    """A fresh database on ``admin_url``'s server for this run, dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(pg(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(pg(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
