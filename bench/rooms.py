"""Rooms benchmark (issue 4): one watch-together room under a chat burst, and idle sockets.

    .venv/bin/python bench/rooms.py [--setup one|two|both] [--members 200] [--messages 1000]
                                    [--senders 10] [--idle 400] [--compression deflate|none]

For each set-up it starts Maria (``maria serve``) on free loopback ports:

- ``one``: one process on Maria's embedded defaults (SQLite, in-process broker);
- ``two``: two processes sharing a throw-away Postgres database and Redis (``--redis-url``,
  flushed first), members alternating between them, as behind a load balancer.

It registers ``--members`` users, opens one room and connects every member (WebSocket,
in-band auth), half the members on each process in ``two``. After a warm-up message, each
of ``--senders`` members sends ``messages / senders`` chat messages back to back, all
senders at once. Every member records every chat it receives and when (the send time is
in the text; clients and clock are in this process), so the script reports:

- deliveries (goal: members × messages, none lost) and whether the order of chat ids is
  identical at every member (goal: yes);
- delivered messages per second, from the first send to the last receipt;
- latency from send to receipt at each member: p50, p99 (goal < 250 ms) and max;
- memory per idle connection: the server processes' RSS before and after ``--idle`` more
  members join (100 per room) and sit idle, divided by their number (goal < 50 KiB).

Clients negotiate permessage-deflate like browsers unless ``--compression none``; uvicorn
(``maria serve``) accepts it by default, and it costs server CPU and memory per socket, so
the idle measurement is repeated without it. The chat limit is lifted for the run
(``MARIA_ROOM_CHAT_LIMIT``). Clients and servers share this machine's cores. Exit status 0
when every goal is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
MARIA = Path(sys.executable).with_name("maria")
SECRET = "bench-secret-" + "r" * 40
PASSWORD = "bench: correct horse battery staple"
GOAL_P99_MS = 250.0
GOAL_IDLE_KIB = 50.0


def say(text: str) -> None:
    print(text, flush=True)


# -- servers --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One ``maria serve`` child process; ``stop`` ends it by its own process group."""

    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = workdir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(MARIA), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
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
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not start:\n{tail}")

    def cpu_s(self) -> float:
        """utime + stime of the process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARIA_")}
    env.update(
        MARIA_SECRET_KEY=SECRET,
        MARIA_DATA_DIR=str(data_dir),
        MARIA_ARGON2_MEMORY_KIB="1024",  # registration is not what is measured
        MARIA_ARGON2_TIME_COST="1",
        MARIA_ROOM_CHAT_LIMIT="1000000",
        **extra,
    )
    return env


@contextlib.contextmanager
def servers(setup: str, workdir: Path, pg_url: str, redis_url: str) -> Iterator[list[Server]]:
    started: list[Server] = []
    database = None
    try:
        if setup == "one":
            started.append(Server("one", base_env(workdir / "one"), workdir))
            started[0].wait_ready()
        else:
            database = f"maria_rooms_bench_{secrets.token_hex(4)}"
            asyncio.run(_pg(pg_url, f'CREATE DATABASE "{database}"'))
            import redis

            client = redis.Redis.from_url(redis_url)
            client.flushdb()
            client.close()
            url = pg_url.rsplit("/", 1)[0] + "/" + database
            env = base_env(workdir / "two", MARIA_DATABASE_URL=url, MARIA_REDIS_URL=redis_url)
            started.append(Server("two-A", env, workdir))
            started[0].wait_ready()  # migrates the database first
            started.append(Server("two-B", env, workdir))
            started[1].wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()
        if database is not None:
            asyncio.run(_pg(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def _pg(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


# -- members --------------------------------------------------------------------------


@dataclass
class Member:
    ws: ClientConnection
    expected: int = 0
    order: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def listen(self) -> None:
        """Record every chat (id, latency from its send time in the text) until closed."""
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.monotonic_ns()
                if not raw.startswith('{"type":"chat"'):
                    if raw.startswith('{"type":"error"'):
                        self.errors.append(raw)
                    continue
                frame = json.loads(raw)
                self.order.append(frame["id"])
                sent_ns = frame["text"].rpartition(":")[2]
                if sent_ns.isdigit():
                    self.latencies_ms.append((now - int(sent_ns)) / 1e6)
                if len(self.order) >= self.expected:
                    self.done.set()


async def register(client: httpx.AsyncClient, n: int) -> list[str]:
    sem = asyncio.Semaphore(16)

    async def one(i: int) -> str:
        async with sem:
            response = await client.post(
                "/api/v1/auth/register",
                # 20 registrations per IP and hour: each member "comes from" its own address
                # (uvicorn trusts X-Forwarded-For from loopback).
                headers={"X-Forwarded-For": f"198.18.{i // 250}.{i % 250 + 1}"},
                json={
                    "email": f"m{i}-{secrets.token_hex(3)}@example.com",
                    "password": PASSWORD,
                    "display_name": f"Member {i}",
                },
            )
            response.raise_for_status()
            return str(response.json()["access_token"])

    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def join(base: str, room_id: str, token: str, compression: str | None) -> ClientConnection:
    url = base.replace("http://", "ws://") + f"/api/v1/rooms/{room_id}/ws"
    ws = await connect(url, proxy=None, compression=compression, max_queue=None, open_timeout=60)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    first = json.loads(await ws.recv())
    if first.get("type") != "welcome":
        raise RuntimeError(f"no welcome: {first}")
    return ws


async def new_room(client: httpx.AsyncClient, token: str) -> str:
    response = await client.post(
        "/api/v1/rooms", json={"movie_id": 301}, headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return str(response.json()["id"])


async def connect_all(
    bases: list[str], room_id: str, tokens: list[str], compression: str | None
) -> list[ClientConnection]:
    sem = asyncio.Semaphore(20)

    async def one(i: int, token: str) -> ClientConnection:
        async with sem:
            return await join(bases[i % len(bases)], room_id, token, compression)

    return list(await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens))))


# -- the measurements -----------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def members_of(
    servers_: list[Server], count: int, compression: str | None
) -> tuple[list[ClientConnection], list[Member]]:
    bases = [s.url for s in servers_]
    async with httpx.AsyncClient(base_url=bases[0], timeout=60) as client:
        tokens = await register(client, count)
        room_id = await new_room(client, tokens[0])
    sockets = await connect_all(bases, room_id, tokens, compression)
    members = [Member(ws) for ws in sockets]
    for m in members:
        m.task = asyncio.create_task(m.listen())
    await chat_round(members, sockets[:1], 1, 0.0)  # warm-up: one message everywhere
    return sockets, members


async def chat_round(
    members: list[Member], senders: list[ClientConnection], per_sender: int, rate: float
) -> tuple[float, float]:
    """Send ``per_sender`` messages from each sender (``rate`` messages/s in all, 0 = back
    to back) and wait until every member has them all; (seconds sending, seconds in all)."""
    for m in members:
        m.order.clear()
        m.latencies_ms.clear()
        m.errors.clear()
        m.done.clear()
        m.expected = per_sender * len(senders)
    gap = len(senders) / rate if rate else 0.0

    async def send_all(i: int, ws: ClientConnection) -> None:
        start = time.monotonic() + i * gap / len(senders)
        for n in range(per_sender):
            if gap:
                await asyncio.sleep(max(0.0, start + n * gap - time.monotonic()))
            await ws.send(json.dumps({"type": "chat", "text": f"s{i} #{n}:{time.monotonic_ns()}"}))

    started = time.monotonic()
    await asyncio.gather(*(send_all(i, ws) for i, ws in enumerate(senders)))
    sent = time.monotonic()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.gather(*(m.done.wait() for m in members)), 300)
    return sent - started, time.monotonic() - started


async def burst(
    servers_: list[Server],
    members: list[Member],
    senders: list[ClientConnection],
    args: argparse.Namespace,
    rate: float,
) -> dict[str, Any]:
    per_sender = args.messages // args.senders
    cpu_before = [s.cpu_s() for s in servers_]
    client_before = time.process_time()
    send_s, total_s = await chat_round(members, senders, per_sender, rate)
    server_cpu = sum(s.cpu_s() - b for s, b in zip(servers_, cpu_before, strict=True))
    client_cpu = time.process_time() - client_before
    latencies = [x for m in members for x in m.latencies_ms]
    delivered = sum(len(m.order) for m in members)
    reference = members[0].order
    return {
        "rate_in": rate,
        "deliveries": delivered,
        "expected": len(members) * per_sender * len(senders),
        "same_order": all(m.order == reference for m in members),
        "errors": [e for m in members for e in m.errors],
        "send_s": send_s,
        "total_s": total_s,
        "rate": delivered / total_s,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "server_cpu_us": server_cpu / max(1, delivered) * 1e6,
        "client_cpu_us": client_cpu / max(1, delivered) * 1e6,
    }


async def idle_memory(servers_: list[Server], count: int) -> dict[str, float]:
    """RSS growth of the server processes per idle member (joined, then silent): first
    ``count`` sockets without permessage-deflate, then ``count`` more with it, all kept open
    (closing frees memory the next batch would reuse unseen)."""
    bases = [s.url for s in servers_]
    async with httpx.AsyncClient(base_url=bases[0], timeout=60) as client:
        tokens = await register(client, 2 * count + 20)
        rooms = [await new_room(client, tokens[i]) for i in range(0, 2 * count + 20, 100)]
    sockets = await connect_all(bases, rooms[-1], tokens[-20:], None)  # warm the code paths
    drains = [asyncio.create_task(_drain(ws)) for ws in sockets]
    result: dict[str, float] = {}
    for batch, compression in enumerate((None, "deflate")):
        await asyncio.sleep(2)
        before = sum(s.rss_kib() for s in servers_)
        for r in range(batch * count // 100, (batch + 1) * count // 100):
            chunk = tokens[r * 100 : (r + 1) * 100]
            opened = await connect_all(bases, rooms[r], chunk, compression)
            drains += [asyncio.create_task(_drain(ws)) for ws in opened]
            sockets += opened
        await asyncio.sleep(3)  # the joins fanned out; now idle
        after = sum(s.rss_kib() for s in servers_)
        result["deflate" if compression else "plain"] = (after - before) / count
    for ws in sockets:
        await ws.close()
    for task in drains:
        task.cancel()
    await asyncio.sleep(12)  # their leaves come after the 10 s reconnect grace: let them pass
    return result


async def _drain(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        async for _ in ws:
            pass


async def measure(servers_: list[Server], args: argparse.Namespace) -> dict[str, Any]:
    idle = await idle_memory(servers_, args.idle)
    compression = None if args.compression == "none" else "deflate"
    sockets, members = await members_of(servers_, args.members, compression)
    # Senders spread over the processes like the members (every other socket).
    senders = sockets[: args.senders]
    runs = [
        await burst(servers_, members, senders, args, rate)
        for rate in (float(r) for r in args.rates.split(","))
    ]
    for ws in sockets:
        await ws.close()
    for m in members:
        if m.task is not None:
            m.task.cancel()
    return {"idle": idle, "runs": runs}


# -- main -----------------------------------------------------------------------------


def run_setup(setup: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with servers(setup, workdir, args.postgres_url, args.redis_url) as started:
        say(f"[{setup}] {len(started)} process(es): {', '.join(s.url for s in started)}")
        result = asyncio.run(measure(started, args))
    idle = result["idle"]
    say(
        f"[{setup}] idle: {idle['plain']:.1f} KiB per socket without permessage-deflate, "
        f"{idle['deflate']:.1f} KiB with it ({args.idle} sockets each)"
    )
    for r in result["runs"]:
        pace = f"{r['rate_in']:.0f} msg/s" if r["rate_in"] else "back to back"
        say(
            f"[{setup}] {pace}: {r['deliveries']:,}/{r['expected']:,} deliveries, same order: "
            f"{r['same_order']}, {r['rate']:,.0f} deliveries/s (sent in {r['send_s']:.2f} s, "
            f"all received in {r['total_s']:.2f} s), latency p50 {r['p50_ms']:.0f} ms, "
            f"p99 {r['p99_ms']:.0f} ms, max {r['max_ms']:.0f} ms; CPU per delivery: servers "
            f"{r['server_cpu_us']:.1f} µs, clients {r['client_cpu_us']:.1f} µs"
        )
        if r["errors"]:
            say(f"[{setup}] {len(r['errors'])} error frames, e.g. {r['errors'][0]}")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", choices=["one", "two", "both"], default="both")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument("--idle", type=int, default=400, help="idle sockets per batch (x100)")
    parser.add_argument(
        "--rates",
        default="0,100,200",
        help="send rates to run, messages/s over all senders (0: back to back, the burst)",
    )
    parser.add_argument("--compression", choices=["deflate", "none"], default="deflate")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--keep-logs", default="", help="a directory for the server logs")
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    setups = ["one", "two"] if args.setup == "both" else [args.setup]
    ok = True
    with tempfile.TemporaryDirectory(prefix="maria-rooms-bench-") as tmp:
        if args.keep_logs:
            tmp = args.keep_logs
            Path(tmp).mkdir(parents=True, exist_ok=True)
        for setup in setups:
            result = run_setup(setup, args, Path(tmp))
            burst_run = result["runs"][0]
            checks = {
                "no delivery lost (every run)": all(
                    r["deliveries"] == r["expected"] for r in result["runs"]
                ),
                "one order at every member (every run)": all(
                    r["same_order"] for r in result["runs"]
                ),
                f"p99 < {GOAL_P99_MS:.0f} ms (first run)": burst_run["p99_ms"] < GOAL_P99_MS,
                f"idle socket < {GOAL_IDLE_KIB:.0f} KiB (no deflate)": result["idle"]["plain"]
                < GOAL_IDLE_KIB,
                f"idle socket < {GOAL_IDLE_KIB:.0f} KiB (deflate)": result["idle"]["deflate"]
                < GOAL_IDLE_KIB,
            }
            for name, passed in checks.items():
                say(f"  {'PASS' if passed else 'FAIL'}  [{setup}] {name}")
                ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
