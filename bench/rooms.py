"""Rooms benchmark (issues 4, 13): one watch-together room under a chat burst, idle sockets,
and a play through the ready gate.

    .venv/bin/python bench/rooms.py [--setup one|two|both] [--members 200] [--messages 1000]
                                    [--senders 10] [--idle 400] [--rates 0,100,200]
                                    [--gate-rounds 5]

For each set-up it starts Maria (``maria serve``) on free loopback ports:

- ``one``: one process on Maria's embedded defaults (SQLite, in-process broker);
- ``two``: two processes sharing a throw-away Postgres database and Redis (``--redis-url``,
  flushed first), members alternating between them, as behind a load balancer.

It registers ``--members`` users, opens one room and connects every member (WebSocket,
in-band auth), half the members on each process in ``two``. After a warm-up message, each
of ``--senders`` members sends ``messages / senders`` chat messages back to back, all
senders at once (then again at each paced rate of ``--rates``). The send time is in the
text; clients and clock are in this process, so the script reports:

- deliveries (goal: members × messages, none lost) and whether the order of chat ids is
  identical at every member (goal: yes);
- delivered messages per second, from the first send to the last receipt;
- latency from send to receipt at each member: p50, p99 (goal < 250 ms) and max;
- CPU per delivery of the servers and of this process (the load generator) during a round;
- memory per idle connection: the server processes' RSS before and after ``--idle`` more
  members join (100 per room) and sit idle, divided by their number (goal < 50 KiB);
- the ready gate (``--gate-rounds`` rounds): every member reports ``buffering``, the host
  plays (everyone receives ``waiting``), then every member reports ``ready``; the time from
  the last ``ready`` sent to the scheduled start's ``playback`` frame at each member (p50,
  p99, max over members and rounds), how many received it before its ``at``, and the spread
  of the ``at`` values the members received (goal: 0, one moment for everyone; and every
  member got the start). Members do not answer the server's clock pings, so the lead is the
  minimum, 200 ms.

In production every member is another machine; here the members share this machine's
cores with the servers, so a member must cost next to nothing while a round runs, or the
load generator's CPU would be measured instead of the server. So a member's socket only
records what arrives, raw bytes with the time they were read (a bare ``asyncio.Protocol``,
no parsing). A round ends when the senders are done and every socket has been quiet for a
second; only then are the recordings parsed (websockets' sans-I/O client, which also did
the handshake and frames what senders send), each message timed by the read that completed
it. Latency is thus measured at the member's socket read, and the times come from the
recordings (first send to last receipt), not from the quiet wait. (A round over 15 s is
parsed every 15 s as it runs, so that members answer the server's pings in time.) Clients
do not offer permessage-deflate, and ``maria serve`` does not accept it. The chat limit is
lifted for the run (``MARIA_ROOM_CHAT_LIMIT``). Exit status 0 when every goal is met, 1
otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import httpx
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import WebSocketURI, parse_uri

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _servers import Server, maria_argv, pg  # noqa: E402

MARIA_SERVE = [*maria_argv(), "serve"]
REFERENCE = Path(__file__).with_name("room_reference.py")
SECRET = "bench-secret-" + "r" * 40
PASSWORD = "bench: correct horse battery staple"
GOAL_P99_MS = 250.0
GOAL_IDLE_KIB = 50.0


def say(text: str) -> None:
    print(text, flush=True)


# -- servers --------------------------------------------------------------------------


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARIA_")}
    env.update(
        MARIA_SECRET_KEY=SECRET,
        MARIA_DATA_DIR=str(data_dir),
        MARIA_TRUSTED_PROXIES="127.0.0.1",  # members sign up from X-Forwarded-For addresses
        MARIA_ARGON2_MEMORY_KIB="1024",  # registration is not what is measured
        MARIA_ARGON2_TIME_COST="1",
        MARIA_ROOM_CHAT_LIMIT="1000000",
        MARIA_ROOM_CAPACITY="100000",  # --members may be past the default 200
        **extra,
    )
    return env


@contextlib.contextmanager
def servers(setup: str, workdir: Path, pg_url: str, redis_url: str) -> Iterator[list[Server]]:
    started: list[Server] = []
    database = None
    try:
        if setup in ("reference", "one"):
            command = [sys.executable, str(REFERENCE)] if setup == "reference" else MARIA_SERVE
            started.append(Server(setup, command, base_env(workdir / setup), workdir))
            started[0].wait_ready()
        else:
            database = f"maria_rooms_bench_{secrets.token_hex(4)}"
            asyncio.run(pg(pg_url, f'CREATE DATABASE "{database}"'))
            import redis

            client = redis.Redis.from_url(redis_url)
            client.flushdb()
            client.close()
            url = pg_url.rsplit("/", 1)[0] + "/" + database
            env = base_env(workdir / "two", MARIA_DATABASE_URL=url, MARIA_REDIS_URL=redis_url)
            started.append(Server("two-A", MARIA_SERVE, env, workdir))
            started[0].wait_ready()  # migrates the database first
            started.append(Server("two-B", MARIA_SERVE, env, workdir))
            started[1].wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()
        if database is not None:
            asyncio.run(pg(pg_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


# -- members --------------------------------------------------------------------------


class Member(asyncio.Protocol):
    """One member's socket. While connected it only records what arrives, with the time it
    was read: 200 of these share the cores with the server, so ``data_received`` must cost
    next to nothing. ``parse`` turns the recording into text messages when convenient."""

    transport: asyncio.Transport  # set by connection_made

    def __init__(self, uri: WebSocketURI) -> None:
        self.ws = ClientProtocol(uri)
        self.chunks: list[tuple[int, bytes]] = []
        self.last_ns = 0
        self.texts: list[tuple[int, str]] = []  # (receipt ns, text) of each parsed message
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.last_ns = now = time.monotonic_ns()
        self.chunks.append((now, data))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True

    def parse(self) -> None:
        """Feed the recording to the sans-I/O protocol chunk by chunk, each text message
        timed by the chunk that completed it; then send its answers (pongs to pings)."""
        chunks, self.chunks = self.chunks, []
        for at, data in chunks:
            self.ws.receive_data(data)
            for event in self.ws.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    self.texts.append((at, str(event.data, "utf-8")))
        self.flush()

    def send(self, message: dict[str, Any]) -> None:
        self.ws.send_text(json.dumps(message).encode())
        self.flush()

    def flush(self) -> None:
        if not self.transport.is_closing():
            self.transport.writelines(self.ws.data_to_send())

    def close(self) -> None:
        if self.ws.state is State.OPEN:
            self.ws.send_close()
            self.flush()
        self.transport.close()

    async def join(self, token: str) -> None:
        """Handshake, auth frame, and the welcome, which must be the first message."""
        self.ws.send_request(self.ws.connect())
        self.flush()
        await self._until(lambda: self.ws.state is not State.CONNECTING)
        if self.ws.handshake_exc is not None:
            raise self.ws.handshake_exc
        self.send({"type": "auth", "token": token})
        await self._until(lambda: bool(self.texts))
        first = json.loads(self.texts[0][1])
        if first.get("type") != "welcome":
            raise RuntimeError(f"no welcome: {first}")
        self.texts.clear()

    async def _until(self, done: Callable[[], bool]) -> None:
        """Parse and poll until ``done`` (the recorder wakes nobody up, on purpose)."""
        while True:
            self.parse()
            if done():
                return
            if self.lost:
                raise ConnectionError(f"join failed: {self.ws.close_code} {self.ws.close_reason}")
            await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def answering_pings(members: list[Member]) -> AsyncIterator[None]:
    """Parse every member's recording every 15 s while in the block, so their pongs go out:
    uvicorn drops a socket that leaves a ping unanswered for 20 s. Rounds under 15 s (the
    burst) are never parsed while they run; ``members`` may grow meanwhile."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(15)
            for m in members:
                m.parse()
                await asyncio.sleep(0)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()


async def register(client: httpx.AsyncClient, n: int) -> list[str]:
    sem = asyncio.Semaphore(16)

    async def one(i: int) -> str:
        async with sem:
            response = await client.post(
                "/api/v1/auth/register",
                # 20 registrations per IP and hour: each member "comes from" its own address
                # (MARIA_TRUSTED_PROXIES=127.0.0.1 in base_env).
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


async def join(base: str, room_id: str, token: str) -> Member:
    uri = parse_uri(base.replace("http://", "ws://") + f"/api/v1/rooms/{room_id}/ws")
    loop = asyncio.get_running_loop()
    _, member = await loop.create_connection(lambda: Member(uri), uri.host, uri.port)
    try:
        async with asyncio.timeout(60):
            await member.join(token)
    except BaseException:
        member.transport.close()
        raise
    return member


async def new_room(client: httpx.AsyncClient, token: str) -> str:
    response = await client.post(
        "/api/v1/rooms", json={"movie_id": 301}, headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return str(response.json()["id"])


async def connect_all(bases: list[str], room_id: str, tokens: list[str]) -> list[Member]:
    sem = asyncio.Semaphore(20)

    async def one(i: int, token: str) -> Member:
        async with sem:
            return await join(bases[i % len(bases)], room_id, token)

    return list(await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens))))


# -- the measurements -----------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def accounts(servers_: list[Server], count: int, rooms: int) -> tuple[list[str], list[str]]:
    """``count`` access tokens and ``rooms`` new rooms (made by the first ``rooms`` users);
    the reference takes any token and any path."""
    if servers_[0].name == "reference":
        return ["-"] * count, [f"room-{secrets.token_hex(4)}" for _ in range(rooms)]
    async with httpx.AsyncClient(base_url=servers_[0].url, timeout=60) as client:
        tokens = await register(client, count)
        return tokens, [await new_room(client, tokens[i]) for i in range(rooms)]


async def members_of(servers_: list[Server], count: int) -> list[Member]:
    tokens, (room_id,) = await accounts(servers_, count, 1)
    members = await connect_all([s.url for s in servers_], room_id, tokens)
    await chat_round(members, members[:1], 1, 0.0)  # warm-up: one message everywhere
    return members


async def chat_round(
    members: list[Member], senders: list[Member], per_sender: int, rate: float
) -> tuple[int, int]:
    """Send ``per_sender`` messages from each sender (``rate`` messages/s in all, 0 = back
    to back), then wait until every member's socket has been quiet for a second (at most
    300 s); the recordings are left to parse. Returns (first send, end of sending) in ns."""
    for m in members:  # what came before the round, and its pongs
        m.parse()
        m.texts.clear()
    gap = len(senders) / rate if rate else 0.0

    async def send_all(i: int, sender: Member) -> None:
        start = time.monotonic() + i * gap / len(senders)
        for n in range(per_sender):
            if gap:
                await asyncio.sleep(max(0.0, start + n * gap - time.monotonic()))
            sender.send({"type": "chat", "text": f"s{i} #{n}:{time.monotonic_ns()}"})

    async with answering_pings(members):
        started = time.monotonic_ns()
        await asyncio.gather(*(send_all(i, s) for i, s in enumerate(senders)))
        sent = time.monotonic_ns()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            last = max(sent, *(m.last_ns for m in members))
            if time.monotonic_ns() - last >= 1_000_000_000:
                break
            await asyncio.sleep(0.1)
    return started, sent


@dataclass
class Received:
    """One member's messages of a round: chat ids in order, latencies, error frames."""

    order: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    last_ns: int = 0  # receipt of the last chat

    @classmethod
    def of(cls, member: Member) -> Received:
        got = cls()
        for at, raw in member.texts:
            frame = json.loads(raw)
            if frame.get("type") == "error":
                got.errors.append(raw)
            elif frame.get("type") == "chat":
                got.order.append(str(frame["id"]))
                got.last_ns = at
                sent_ns = frame["text"].rpartition(":")[2]
                if sent_ns.isdigit():
                    got.latencies_ms.append((at - int(sent_ns)) / 1e6)
        if member.ws.state is not State.OPEN:
            got.errors.append(f"socket closed: {member.ws.close_code} {member.ws.close_reason}")
        return got


async def burst(
    servers_: list[Server],
    members: list[Member],
    senders: list[Member],
    args: argparse.Namespace,
    rate: float,
) -> dict[str, Any]:
    per_sender = args.messages // args.senders
    cpu_before = [s.cpu_seconds()[0] for s in servers_]
    client_before = time.process_time()
    started, sent = await chat_round(members, senders, per_sender, rate)
    server_cpu = sum(s.cpu_seconds()[0] - b for s, b in zip(servers_, cpu_before, strict=True))
    client_cpu = time.process_time() - client_before
    parse_before = time.process_time()
    for m in members:
        m.parse()
    got = [Received.of(m) for m in members]
    parse_cpu = time.process_time() - parse_before
    latencies = [x for g in got for x in g.latencies_ms]
    delivered = sum(len(g.order) for g in got)
    total_s = (max(sent, *(g.last_ns for g in got)) - started) / 1e9
    return {
        "rate_in": rate,
        "deliveries": delivered,
        "expected": len(members) * per_sender * len(senders),
        "same_order": all(g.order == got[0].order for g in got),
        "errors": [e for g in got for e in g.errors],
        "send_s": (sent - started) / 1e9,
        "total_s": total_s,
        "rate": delivered / total_s,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
        "server_cpu_us": server_cpu / max(1, delivered) * 1e6,
        "client_cpu_us": client_cpu / max(1, delivered) * 1e6,
        "parse_cpu_us": parse_cpu / max(1, delivered) * 1e6,
    }


async def idle_memory(servers_: list[Server], count: int) -> float:
    """RSS growth of the server processes per idle member (joined, then silent), over
    ``count`` sockets in rooms of 100, all kept open until measured (closing frees memory
    that later sockets would reuse unseen)."""
    bases = [s.url for s in servers_]
    tokens, (warm_room, *rooms) = await accounts(servers_, count + 20, 1 + -(-count // 100))
    sockets = await connect_all(bases, warm_room, tokens[-20:])  # warm the code paths
    async with answering_pings(sockets):
        await asyncio.sleep(2)
        before = sum(s.rss_kib() for s in servers_)
        for r, room_id in enumerate(rooms):
            sockets += await connect_all(
                bases, room_id, tokens[r * 100 : min(count, r * 100 + 100)]
            )
        await asyncio.sleep(3)  # the joins fanned out; now idle
        after = sum(s.rss_kib() for s in servers_)
    for m in sockets:
        m.close()
    await asyncio.sleep(12)  # their leaves come after the 10 s reconnect grace: let them pass
    return (after - before) / count


async def quiet(members: list[Member], since: int) -> None:
    """Until every socket has been quiet for a second (at most 300 s)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if time.monotonic_ns() - max(since, *(m.last_ns for m in members)) >= 1_000_000_000:
            return
        await asyncio.sleep(0.05)


def frames_of(member: Member, kind: str) -> list[tuple[int, dict[str, Any]]]:
    """The parsed frames of type ``kind`` since the member's texts were cleared."""
    found = []
    for at, raw in member.texts:
        if f'"type":"{kind}"' in raw:
            frame = json.loads(raw)
            if frame.get("type") == kind:
                found.append((at, frame))
    return found


def everyone_sends(members: list[Member], frame: dict[str, Any]) -> int:
    """Every member sends ``frame`` (parsed first, so the pongs go out); the time the last
    one was handed to its socket, monotonic ns."""
    for m in members:
        m.parse()
        m.texts.clear()
    for m in members:
        m.send(frame)
    return time.monotonic_ns()


async def gate_round(members: list[Member]) -> dict[str, Any]:
    """One play through the ready gate (``members[0]`` hosts): all buffering, a play that
    waits, then all ready; what the last ``ready`` took to become a start everywhere."""
    host = members[0]
    await quiet(members, everyone_sends(members, {"type": "ready", "state": "buffering"}))
    host.send({"type": "playback", "action": "play"})
    await quiet(members, time.monotonic_ns())
    for m in members:
        m.parse()
    waited = sum(any(f["state"] == "waiting" for _, f in frames_of(m, "playback")) for m in members)
    wall_ms, mono_ns = time.time() * 1000, time.monotonic_ns()
    last = everyone_sends(members, {"type": "ready", "state": "ready"})
    await quiet(members, last)
    latencies, ats, early = [], set(), 0
    for m in members:
        m.parse()
        starts = [(t, f) for t, f in frames_of(m, "playback") if f["state"] == "playing"]
        if not starts:
            continue
        received, start = starts[0]
        latencies.append((received - last) / 1e6)
        ats.add(start["at"])
        early += wall_ms + (received - mono_ns) / 1e6 < start["at"]
    host.send({"type": "playback", "action": "pause"})  # the next round starts paused
    await quiet(members, time.monotonic_ns())
    return {
        "waited": waited,
        "started": len(latencies),
        "latencies_ms": latencies,
        "ats": sorted(ats),
        "early": early,
    }


async def gate(members: list[Member], rounds: int) -> dict[str, Any]:
    results = [await gate_round(members) for _ in range(rounds)]
    latencies = [x for r in results for x in r["latencies_ms"]]
    spreads = [r["ats"][-1] - r["ats"][0] if r["ats"] else None for r in results]
    return {
        "rounds": rounds,
        "members": len(members),
        "waited": min(r["waited"] for r in results),
        "started": min(r["started"] for r in results),
        "early": sum(r["early"] for r in results),
        "deliveries": len(latencies),
        "spreads_ms": spreads,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "max_ms": max(latencies, default=float("nan")),
    }


async def measure(servers_: list[Server], args: argparse.Namespace) -> dict[str, Any]:
    idle = await idle_memory(servers_, args.idle)
    members = await members_of(servers_, args.members)
    # Senders spread over the processes like the members (every other socket).
    senders = members[: args.senders]
    runs = [
        await burst(servers_, members, senders, args, rate)
        for rate in (float(r) for r in args.rates.split(","))
    ]
    gated = None
    if args.gate_rounds and servers_[0].name != "reference":
        async with answering_pings(members):
            gated = await gate(members, args.gate_rounds)
    for m in members:
        m.close()
    return {"idle": idle, "runs": runs, "gate": gated}


# -- main -----------------------------------------------------------------------------


def run_setup(setup: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    with servers(setup, workdir, args.postgres_url, args.redis_url) as started:
        say(f"[{setup}] {len(started)} process(es): {', '.join(s.url for s in started)}")
        result = asyncio.run(measure(started, args))
    say(f"[{setup}] idle: {result['idle']:.1f} KiB per socket ({args.idle} sockets)")
    for r in result["runs"]:
        pace = f"{r['rate_in']:.0f} msg/s" if r["rate_in"] else "back to back"
        say(
            f"[{setup}] {pace}: {r['deliveries']:,}/{r['expected']:,} deliveries, same order: "
            f"{r['same_order']}, {r['rate']:,.0f} deliveries/s (sent in {r['send_s']:.2f} s, "
            f"all received in {r['total_s']:.2f} s), latency p50 {r['p50_ms']:.0f} ms, "
            f"p99 {r['p99_ms']:.0f} ms, max {r['max_ms']:.0f} ms; CPU per delivery: servers "
            f"{r['server_cpu_us']:.1f} µs, clients {r['client_cpu_us']:.1f} µs during the "
            f"round (+ {r['parse_cpu_us']:.1f} µs parsing after it)"
        )
        if r["errors"]:
            say(f"[{setup}] {len(r['errors'])} errors, e.g. {r['errors'][0]}")
    g = result["gate"]
    if g is not None:
        say(
            f"[{setup}] ready gate, {g['rounds']} rounds of {g['members']} members: "
            f"waiting reached {g['waited']}, the start reached {g['started']} (fewest in a "
            f"round); last ready → start at every member: p50 {g['p50_ms']:.0f} ms, p99 "
            f"{g['p99_ms']:.0f} ms, max {g['max_ms']:.0f} ms; before its `at`: "
            f"{g['early']}/{g['deliveries']}; spread of `at` per round: {g['spreads_ms']} ms"
        )
    return result


def compare(setup: str, result: dict[str, Any], reference: dict[str, Any]) -> None:
    """Maria's figures as multiples of the reference's, measured in the same run."""
    mine, ref = result["runs"][0], reference["runs"][0]
    say(
        f"[{setup}] / reference, back to back: deliveries/s ×{mine['rate'] / ref['rate']:.2f}, "
        f"p99 ×{mine['p99_ms'] / ref['p99_ms']:.2f}, server CPU per delivery "
        f"×{mine['server_cpu_us'] / ref['server_cpu_us']:.2f}; idle socket "
        f"×{result['idle'] / reference['idle']:.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", choices=["reference", "one", "two", "all"], default="all")
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--senders", type=int, default=10)
    parser.add_argument("--idle", type=int, default=400, help="idle sockets (100 per room)")
    parser.add_argument(
        "--rates",
        default="0,100,200",
        help="send rates to run, messages/s over all senders (0: back to back, the burst)",
    )
    parser.add_argument(
        "--gate-rounds", type=int, default=5, help="plays through the ready gate (0: none)"
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--keep-logs", default="", help="a directory for the server logs")
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    setups = ["reference", "one", "two"] if args.setup == "all" else [args.setup]
    ok = True
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="maria-rooms-bench-") as tmp:
        if args.keep_logs:
            tmp = args.keep_logs
            Path(tmp).mkdir(parents=True, exist_ok=True)
        for setup in setups:
            result = results[setup] = run_setup(setup, args, Path(tmp))
            if setup == "reference":
                continue
            if "reference" in results:
                compare(setup, result, results["reference"])
            burst_run = result["runs"][0]
            checks = {
                "no delivery lost (every run)": all(
                    r["deliveries"] == r["expected"] for r in result["runs"]
                ),
                "one order at every member (every run)": all(
                    r["same_order"] for r in result["runs"]
                ),
                f"p99 < {GOAL_P99_MS:.0f} ms (first run)": burst_run["p99_ms"] < GOAL_P99_MS,
                f"idle socket < {GOAL_IDLE_KIB:.0f} KiB": result["idle"] < GOAL_IDLE_KIB,
            }
            g = result["gate"]
            if g is not None:
                checks["ready gate: every member waited and got the start (every round)"] = (
                    g["waited"] == g["started"] == g["members"]
                )
                checks["ready gate: one `at` for every member (spread 0, every round)"] = all(
                    spread == 0 for spread in g["spreads_ms"]
                )
            for name, passed in checks.items():
                say(f"  {'PASS' if passed else 'FAIL'}  [{setup}] {name}")
                ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
