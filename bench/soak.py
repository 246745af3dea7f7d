"""Load and soak benchmark (issue 11): two Maria instances sharing Postgres and Redis under a
paced, mixed workload for minutes, optionally with the database restarted in the middle.

    .venv/bin/python bench/soak.py                    # the soak: 10 minutes
    .venv/bin/python bench/soak.py --restart-db       # the same, Postgres restarted at 5 min
    .venv/bin/python bench/soak.py --duration 60 [--restart-db]    # a short check

Other options: ``--rate 150`` (HTTP requests/s over both instances), ``--chat-rate 10``
(chat messages/s), ``--users 80``, ``--rooms 8``, ``--warmup 60`` (s, at most a quarter of
the run), ``--down 5`` (s the database stays stopped), ``--timeout 5`` (s a client waits for
an answer), ``--seed``, ``--keep-logs DIR`` (server logs kept there).

Set-up, all private to the run, on free loopback ports, and removed at exit (Ctrl-C and
SIGTERM included): a throwaway PostgreSQL 15 cluster (``initdb`` and ``pg_ctl`` run as the
user postgres, trust auth, listening on 127.0.0.1 only), a ``redis-server`` without
persistence, and two ``maria serve`` processes in production mode (``MARIA_ENV=production``,
a ``MARIA_SECRET_KEY``, the production argon2 parameters) sharing both. They trust
127.0.0.1 as a proxy (``MARIA_TRUSTED_PROXIES``), so each virtual user signs up and signs in
from an ``X-Forwarded-For`` address of its own (20 sign-ups per address and hour).

Workload: ``--users`` virtual users, alternately on the two instances, each registered once
and a member of one of ``--rooms`` rooms whose members are on both instances; each keeps one
room WebSocket open on its own instance. HTTP requests start at the fixed ``--rate`` (open
loop: a request never waits for an earlier one, so a slow server shows as latency, not as a
lower rate; the generator shares this 2-core machine with the servers, which is why the rate
is paced rather than flat out), each from a random user: login 2 % (argon2 is expensive),
refresh 8 % (the rotated refresh token replaces the old one, and the user's socket gets the
new access token in an ``auth`` frame), ``GET /users/me`` 30 %, a page of the favorites
list 30 %, ``PUT`` 18 % and ``DELETE`` 12 % of a favorites item; a user answered 401 signs
in again. Chat messages go out at ``--chat-rate`` from random members (within the per-user
chat limit).

Reported, as a Markdown block ready for bench/RESULTS.md:

- per endpoint: requests, errors, error rate, p50/p99/max latency of the successful
  answers, statuses; chat as send → the sender's own echo (stored and numbered) and as
  delivery to the other members, on the same and on the other instance, with deliveries
  lost to members that stayed connected;
- errors by kind (statuses with their error code, client timeouts, connection errors, WS
  error frames and closes), with when they happened and whether they are acceptable;
- VmRSS of each instance after the warm-up and at the end, and the growth;
- a timeline: the HTTP answers in 20 slices of the run (2xx, 503, other errors, p50/p99);
- acknowledged list writes: items a 2xx ``PUT`` added that the final lists lack, or a 2xx
  ``DELETE`` removed that they still hold;
- with ``--restart-db``: Postgres is stopped (``pg_ctl stop -m fast``) at half time, left
  down ``--down`` seconds and started again; the recovery time of each instance runs from
  the moment Postgres accepts connections again (a probe connecting every 10 ms) to the
  first successful database-backed request (login, refresh, list read or write) it answers;
  also the last 503 and the first chat echo after that moment.

Each user has a connection pool of its own (at most 8 requests under way; a start beyond
that is dropped and counted), so that the generator stays cheap (~0.25 core at 150 req/s).
With ``--keep-logs DIR`` the servers', Redis's and Postgres's logs stay in DIR (Postgres
logs lock waits and statements over 1 s).

Goals (exit status 1 when one is missed): no 500 (or any 5xx but 503); no error of any other
kind — the only acceptable ones are, with ``--restart-db`` and only from the stop until
10 s after Postgres is back, HTTP 503 ``unavailable``, WS ``error`` frames with code
``unavailable`` and new sockets closed 1013 ``unavailable`` (the socket's 503); no client
timeout or connection error; RSS growth of each instance below 10 %; no acknowledged write
lost; with ``--restart-db``, both instances recover.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import pwd
import random
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from _servers import Server, clean_env, free_port, maria_argv, pg  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
API = "/api/v1"
PASSWORD = "soak: correct horse battery staple"
ITEMS = f"{API}/users/me/lists/favorites/items"
MAX_ITEMS = 200  # per user: past it, a PUT turns into a DELETE
PER_USER = 8  # connections and requests under way per user; past it a start is dropped
CHAT_LIMIT = (4, 2.0)  # per user, under Maria's default of 5 per 2 s
GRACE = 10.0  # s after Postgres is back in which the outage's errors are still acceptable
GOAL_GROWTH = 0.10

MIX = {  # share of the HTTP requests
    "login": 2,
    "refresh": 8,
    "me": 30,
    "list_read": 30,
    "list_put": 18,
    "list_delete": 12,
}
ENDPOINTS = {
    "login": "POST /auth/login",
    "refresh": "POST /auth/refresh",
    "me": "GET /users/me",
    "list_read": "GET /users/me/lists/favorites/items",
    "list_put": "PUT …/favorites/items/{id}",
    "list_delete": "DELETE …/favorites/items/{id}",
    "ws_connect": "WS connect → welcome",
    "chat": "WS chat → own echo",
}
DB_BACKED = {"login", "refresh", "list_read", "list_put", "list_delete"}
ACCEPTABLE = {"HTTP 503 unavailable", "WS error unavailable", "WS connect: closed 1013 unavailable"}


def say(text: str) -> None:
    print(text, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


# -- the services ---------------------------------------------------------------------


class PgCluster:
    """A throwaway cluster in a temp dir owned by postgres; ``initdb`` and ``pg_ctl`` refuse
    to run as root, so they run as postgres (``runuser``). ``destroy`` always leaves nothing."""

    def __init__(self) -> None:
        owner = pwd.getpwnam("postgres")
        self.root = Path(tempfile.mkdtemp(prefix="maria-soak-pg-"))
        os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres"]
        self._run([*initdb, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=120,
            start_new_session=True,  # Ctrl-C is ours to handle, not Postgres's
            check=False,
        )
        if done.returncode != 0:
            tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{argv[0]} failed: {done.stderr or done.stdout}\n{tail}")

    def pg_ctl(self, *args: str) -> None:
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args])

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        options += " -c log_lock_waits=on -c log_min_duration_statement=1000"  # for the log
        self.pg_ctl("-l", str(self.log), "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "stop")

    def destroy(self, keep_log_in: Path | None = None) -> None:
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
                    time.sleep(1)
        if keep_log_in is not None and self.log.exists():
            with contextlib.suppress(OSError):
                shutil.copy(self.log, keep_log_in / "postgres.log")
        shutil.rmtree(self.root, ignore_errors=True)


async def accepts_connections(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(url, timeout=0.5)
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return False
    await conn.close()
    return True


class RedisServer:
    """A private redis-server without persistence, in its own process group."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(workdir)]
        with (workdir / "redis.log").open("wb") as log:
            self.proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
            finally:
                client.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def services(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[PgCluster, list[Server]]]:
    with contextlib.ExitStack() as stack:
        cluster = PgCluster()
        stack.callback(cluster.destroy, workdir if args.keep_logs else None)
        cluster.start()
        asyncio.run(pg(cluster.url(), 'CREATE DATABASE "maria_soak"'))
        redis_server = RedisServer(workdir)
        stack.callback(redis_server.stop)
        env = clean_env(
            MARIA_ENV="production",
            MARIA_SECRET_KEY="soak-" + os.urandom(24).hex(),
            MARIA_DATABASE_URL=cluster.url("maria_soak"),
            MARIA_REDIS_URL=redis_server.url,
            MARIA_TRUSTED_PROXIES="127.0.0.1",  # users come from X-Forwarded-For addresses
        )
        servers: list[Server] = []
        for name in ("maria-A", "maria-B"):  # one after the other: A migrates the database
            server = Server(
                name,
                [*maria_argv(), "serve"],
                dict(env, MARIA_DATA_DIR=str(workdir / name)),
                workdir,
            )
            stack.callback(server.stop)
            server.wait_ready()
            servers.append(server)
        yield cluster, servers


# -- what is recorded -----------------------------------------------------------------


@dataclass
class Endpoint:
    count: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)  # of the successes
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    max_ms: float = 0.0  # of everything answered or failed


@dataclass
class Outage:
    stop_at: float = float("nan")
    stopped_at: float = float("nan")
    start_at: float = float("nan")
    ready_at: float = float("nan")


class Recorder:
    """Every outcome, with times in seconds since the load started (``now``)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.endpoints = {op: Endpoint() for op in ENDPOINTS}
        # (time, kind, instance, op, ms the request took: NaN for a socket's close)
        self.errors: list[tuple[float, str, int, str, float]] = []
        self.db_events: list[tuple[float, int, bool]] = []  # (time, instance, success)
        self.chat_events: list[tuple[float, int, bool]] = []
        self.http: list[tuple[float, float, str]] = []  # (time, ms, error kind) per request
        self.deliveries: dict[bool, list[float]] = {True: [], False: []}  # same instance?
        self.dropped = 0
        self.relogins = 0

    def now(self) -> float:
        return time.perf_counter() - self.t0

    def done(self, op: str, instance: int, started: float, status: str, kind: str = "") -> None:
        """One outcome of ``op``; ``kind`` names an error (empty: a success)."""
        at = self.now()
        ms = (at - started) * 1000
        ep = self.endpoints[op]
        ep.count += 1
        ep.statuses[status] += 1
        ep.max_ms = max(ep.max_ms, ms)
        if kind:
            ep.errors += 1
            self.errors.append((at, kind, instance, op, ms))
        else:
            ep.latencies_ms.append(ms)
        if op in MIX:
            self.http.append((at, ms, kind))
        if op in DB_BACKED:
            self.db_events.append((at, instance, not kind))
        elif op == "chat":
            self.chat_events.append((at, instance, not kind))

    def error(self, kind: str, instance: int, op: str) -> None:
        """An error that belongs to no one request (a socket that closed)."""
        self.errors.append((self.now(), kind, instance, op, float("nan")))


@dataclass
class User:
    index: int
    instance: int
    ip: str
    email: str
    access: str = ""
    refresh: str = ""
    room: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # login and refresh, one at once
    items: set[int] = field(default_factory=set)  # in the list, acknowledged
    removed: set[int] = field(default_factory=set)  # out of it, acknowledged
    unknown: set[int] = field(default_factory=set)  # a write of it was not acknowledged
    busy: set[int] = field(default_factory=set)  # a write of it is under way
    ws: ClientConnection | None = None
    intervals: list[list[float]] = field(default_factory=list)  # [welcome, close] times
    pending: dict[int, float] = field(default_factory=dict)  # chat seq → send time
    chat_times: collections.deque[float] = field(default_factory=collections.deque)
    seq: int = 0
    in_flight: int = 0  # HTTP requests


# -- the load -------------------------------------------------------------------------


class Soak:
    def __init__(self, args: argparse.Namespace, cluster: PgCluster, servers: list[Server]):
        self.args = args
        self.cluster = cluster
        self.servers = servers
        self.rng = random.Random(args.seed)
        self.rec = Recorder()
        self.users: list[User] = []
        self.rooms: list[str] = []
        self.clients: list[httpx.AsyncClient] = []
        self.tasks: set[asyncio.Task[None]] = set()  # HTTP requests under way
        self.sockets: set[asyncio.Task[None]] = set()  # the members' socket loops
        self.command: list[str] = []
        self.sent_at: dict[tuple[int, int], tuple[float, int]] = {}  # → (time, room)
        self.echoed: dict[tuple[int, int], float] = {}
        self.receipts: collections.defaultdict[tuple[int, int], set[int]] = collections.defaultdict(
            set
        )
        self.stopping = False
        self.outage = Outage()
        self.rss: dict[str, list[tuple[float, int]]] = {s.name: [] for s in servers}
        self.warm_rss: list[int] = []
        self.end_rss: list[int] = []
        self.cpu: list[float] = []
        self.load_seconds = 0.0
        self.lag_ms: list[float] = []
        self.chat_sent = 0
        self.chat_skipped = 0
        self.verified: dict[str, int] = {}

    # -- HTTP ---------------------------------------------------------------------

    async def call(
        self, user: User, op: str, method: str, path: str, body: Any = None, auth: bool = True
    ) -> httpx.Response | None:
        headers = {"X-Forwarded-For": user.ip}
        if auth:
            headers["Authorization"] = f"Bearer {user.access}"
        client = self.clients[user.index]
        started = self.rec.now()
        try:
            response = await client.request(method, path, json=body, headers=headers)
        except httpx.TimeoutException as exc:
            self.rec.done(op, user.instance, started, "timeout", f"timeout ({type(exc).__name__})")
            return None
        except httpx.HTTPError as exc:
            kind = f"connection error ({type(exc).__name__})"
            self.rec.done(op, user.instance, started, "conn", kind)
            return None
        status = response.status_code
        if status < 400:
            self.rec.done(op, user.instance, started, str(status))
            return response
        try:
            code = str(response.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            code = "?"
        self.rec.done(op, user.instance, started, str(status), f"HTTP {status} {code}")
        return response

    def take(self, user: User, session: dict[str, Any]) -> None:
        user.access = str(session["access_token"])
        user.refresh = str(session["refresh_token"])

    async def login(self, user: User) -> None:
        async with user.lock:
            body = {"email": user.email, "password": PASSWORD}
            response = await self.call(user, "login", "POST", f"{API}/auth/login", body, False)
            if response is not None and response.status_code == 200:
                self.take(user, response.json())

    async def refresh(self, user: User) -> None:
        async with user.lock:
            body = {"refresh_token": user.refresh}
            response = await self.call(user, "refresh", "POST", f"{API}/auth/refresh", body, False)
            if response is None:
                return
            if response.status_code == 200:
                self.take(user, response.json())
                if user.ws is not None:
                    with contextlib.suppress(ConnectionClosed):
                        await user.ws.send(json.dumps({"type": "auth", "token": user.access}))
                return
        if response.status_code == 401:
            await self.relogin(user)

    async def relogin(self, user: User) -> None:
        self.rec.relogins += 1
        await self.login(user)

    async def list_put(self, user: User) -> None:
        if len(user.items) >= MAX_ITEMS:
            return await self.list_delete(user)
        movie = self.rng.randint(1, 1_000_000)
        if movie in user.items or movie in user.busy:
            return None
        user.busy.add(movie)
        try:
            response = await self.call(user, "list_put", "PUT", f"{ITEMS}/{movie}")
            self.settle(user, movie, response, present=True)
        finally:
            user.busy.discard(movie)
        return None

    async def list_delete(self, user: User) -> None:
        candidates = [m for m in user.items if m not in user.busy]
        movie = self.rng.choice(candidates) if candidates else self.rng.randint(1, 1_000_000)
        if movie in user.busy:
            return
        user.busy.add(movie)
        try:
            response = await self.call(user, "list_delete", "DELETE", f"{ITEMS}/{movie}")
            self.settle(user, movie, response, present=False)
        finally:
            user.busy.discard(movie)

    def settle(
        self, user: User, movie: int, response: httpx.Response | None, present: bool
    ) -> None:
        """What the final list must show: acknowledged writes, and ids left open."""
        user.items.discard(movie)
        user.removed.discard(movie)
        user.unknown.discard(movie)
        if response is None or response.status_code >= 300:
            user.unknown.add(movie)
        else:
            (user.items if present else user.removed).add(movie)
        if response is not None and response.status_code == 401:
            self.spawn(self.relogin(user))

    async def run(self, op: str, user: User) -> None:
        user.in_flight += 1
        try:
            await self.one(op, user)
        finally:
            user.in_flight -= 1

    async def one(self, op: str, user: User) -> None:
        if op == "login":
            await self.login(user)
        elif op == "refresh":
            await self.refresh(user)
        elif op == "list_put":
            await self.list_put(user)
        elif op == "list_delete":
            await self.list_delete(user)
        else:
            path = f"{API}/users/me" if op == "me" else f"{ITEMS}?limit=20"
            response = await self.call(user, op, "GET", path)
            if response is not None and response.status_code == 401:
                await self.relogin(user)

    def spawn(self, coro: Any, tasks: set[asyncio.Task[None]] | None = None) -> None:
        into = self.tasks if tasks is None else tasks
        task = asyncio.ensure_future(coro)
        into.add(task)
        task.add_done_callback(into.discard)

    async def requests(self, until: float) -> None:
        """Start a request every 1/rate s, whatever the earlier ones are doing."""
        ops, weights = list(MIX), list(MIX.values())
        interval = 1 / self.args.rate
        tick = self.rec.now()
        while True:
            tick += interval
            if tick >= until:
                return
            delay = tick - self.rec.now()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.lag_ms.append(-delay * 1000)
            user = self.rng.choice(self.users)
            if user.in_flight >= PER_USER:  # never queue in httpx (see setup): count it
                self.rec.dropped += 1
                continue
            self.spawn(self.run(self.rng.choices(ops, weights)[0], user))

    # -- rooms --------------------------------------------------------------------

    async def member(self, user: User, first: asyncio.Future[None]) -> None:
        """Keep ``user``'s socket open: connect, auth, welcome, read; after a close, connect
        again a second later, until the run stops. ``first`` is set by the first welcome."""
        base = self.servers[user.instance].url.replace("http://", "ws://")
        url = f"{base}{API}/rooms/{self.rooms[user.room]}/ws"
        while not self.stopping:
            await self.session(user, url, first)
            if not first.done():
                first.set_exception(RuntimeError(f"user {user.index} could not join its room"))
                return
            if not self.stopping:
                await asyncio.sleep(1.0)

    async def session(self, user: User, url: str, first: asyncio.Future[None]) -> None:
        """One socket's life, from the connect to its close; every failure is recorded."""
        started = self.rec.now()
        opened = False
        try:
            async with connect(
                url, open_timeout=self.args.timeout, ping_interval=None, compression=None
            ) as ws:
                await ws.send(json.dumps({"type": "auth", "token": user.access}))
                welcome = json.loads(await asyncio.wait_for(ws.recv(), self.args.timeout))
                if welcome.get("type") != "welcome":
                    kind = f"WS connect: first frame {welcome.get('type')}"
                    self.rec.done("ws_connect", user.instance, started, "?", kind)
                    return
                self.rec.done("ws_connect", user.instance, started, "welcome")
                opened = True
                user.ws = ws
                user.intervals.append([self.rec.now(), float("inf")])
                if not first.done():
                    first.set_result(None)
                async for raw in ws:
                    self.frame(user, json.loads(raw))
                if not self.stopping:  # a normal close (1000, 1001) ends the loop quietly
                    why = (ws.close_reason or "").split(":")[0] or "-"
                    kind = f"WS socket closed {ws.close_code} {why}"
                    self.rec.error(kind, user.instance, "chat")
        except ConnectionClosed as exc:
            if not self.stopping:
                close = exc.rcvd
                why = (close.reason.split(":")[0] if close else "") or "-"
                code = close.code if close else "none"
                if opened:
                    self.rec.error(f"WS socket closed {code} {why}", user.instance, "chat")
                else:
                    kind = f"WS connect: closed {code} {why}"
                    self.rec.done("ws_connect", user.instance, started, str(code), kind)
        except InvalidStatus as exc:
            status = exc.response.status_code
            kind = f"WS connect: HTTP {status}"
            self.rec.done("ws_connect", user.instance, started, str(status), kind)
        except (OSError, TimeoutError) as exc:
            kind = f"WS connect: {type(exc).__name__}"
            self.rec.done("ws_connect", user.instance, started, "conn", kind)
        finally:
            if opened:
                user.ws = None
                user.intervals[-1][1] = self.rec.now()
                if not self.stopping:
                    for _ in user.pending:
                        self.rec.error("WS chat lost: socket closed first", user.instance, "chat")
                user.pending.clear()

    def frame(self, user: User, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "chat":
            parts = str(frame.get("text", "")).split(":")
            if len(parts) != 3 or parts[0] != "soak":
                return
            key = (int(parts[1]), int(parts[2]))
            if key[0] == user.index:
                sent = user.pending.pop(key[1], None)
                if sent is not None:
                    self.rec.done("chat", user.instance, sent, "echo")
                    self.echoed[key] = self.rec.now()
            elif key in self.sent_at:
                self.receipts[key].add(user.index)
                same = self.users[key[0]].instance == user.instance
                self.rec.deliveries[same].append((self.rec.now() - self.sent_at[key][0]) * 1000)
        elif kind == "error":
            code = str(frame.get("code"))
            if user.pending:
                seq = next(iter(user.pending))
                sent = user.pending.pop(seq)
                self.rec.done("chat", user.instance, sent, code, f"WS error {code}")
            else:
                self.rec.error(f"WS error {code} (no chat pending)", user.instance, "chat")

    async def chat(self, until: float) -> None:
        """A chat message every 1/chat-rate s from a random member that is connected and
        within the chat limit; a message without an answer in time counts as lost."""
        interval = 1 / self.args.chat_rate
        tick = self.rec.now()
        while True:
            tick += interval
            if tick >= until:
                return
            await asyncio.sleep(max(0.0, tick - self.rec.now()))
            now = self.rec.now()
            self.expire(now)
            for _ in range(10):
                user = self.rng.choice(self.users)
                while user.chat_times and user.chat_times[0] < now - CHAT_LIMIT[1]:
                    user.chat_times.popleft()
                if user.ws is not None and len(user.chat_times) < CHAT_LIMIT[0]:
                    break
            else:
                self.chat_skipped += 1
                continue
            user.seq += 1
            key = (user.index, user.seq)
            user.chat_times.append(now)
            user.pending[user.seq] = now
            self.sent_at[key] = (now, user.room)
            self.chat_sent += 1
            ws = user.ws
            with contextlib.suppress(ConnectionClosed):  # its reader counts the close
                await ws.send(json.dumps({"type": "chat", "text": f"soak:{key[0]}:{key[1]}"}))

    def expire(self, now: float) -> None:
        for user in self.users:
            for seq, sent in list(user.pending.items()):
                if now - sent > self.args.timeout:
                    del user.pending[seq]
                    self.rec.done("chat", user.instance, sent, "timeout", "WS chat: no answer")

    # -- the run ------------------------------------------------------------------

    async def setup(self) -> None:
        token = os.urandom(3).hex()
        self.users = [
            User(
                index=i,
                instance=i % 2,
                ip=f"198.18.{i // 250}.{i % 250 + 1}",
                email=f"soak{i}-{token}@example.com",
                room=(i // 2) % self.args.rooms,  # both instances in every room
            )
            for i in range(self.args.users)
        ]
        # A client (connection pool) per user, as every user is a client of its own, with
        # at most PER_USER requests under way: httpcore walks its connections for every
        # queued request, so a queue in one shared pool cost the generator more CPU than
        # the servers and grew into seconds of latency. Bearer clients keep no cookies. An
        # idle connection is dropped after 2 s, before uvicorn closes it (5 s): reusing one
        # the server is closing would fail a request for nothing the server did wrong.
        limits = httpx.Limits(
            max_connections=PER_USER, max_keepalive_connections=PER_USER, keepalive_expiry=2.0
        )
        tls = ssl.create_default_context()  # unused (http://), but made once, not per client
        for user in self.users:
            self.clients.append(
                httpx.AsyncClient(
                    base_url=self.servers[user.instance].url,
                    timeout=self.args.timeout,
                    limits=limits,
                    verify=tls,
                    cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),
                )
            )
        sem = asyncio.Semaphore(4)

        async def register(user: User) -> None:
            async with sem:
                body = {"email": user.email, "password": PASSWORD, "display_name": f"U{user.index}"}
                headers = {"X-Forwarded-For": user.ip}
                client = self.clients[user.index]
                response = await client.post(f"{API}/auth/register", json=body, headers=headers)
                if response.status_code != 201:
                    raise RuntimeError(f"register: {response.status_code} {response.text}")
                self.take(user, response.json())

        await asyncio.gather(*(register(u) for u in self.users))
        for r in range(self.args.rooms):
            host = self.users[2 * r]  # the first member of room r
            response = await self.clients[host.index].post(
                f"{API}/rooms",
                json={"movie_id": 301 + r},
                headers={"Authorization": f"Bearer {host.access}", "X-Forwarded-For": host.ip},
            )
            if response.status_code != 201:
                raise RuntimeError(f"new room: {response.status_code} {response.text}")
            self.rooms.append(str(response.json()["id"]))
        joined: list[asyncio.Future[None]] = []
        loop = asyncio.get_running_loop()
        for user in self.users:
            joined.append(loop.create_future())
            self.spawn(self.member(user, joined[-1]), self.sockets)
            await asyncio.sleep(0.02)
        await asyncio.wait_for(asyncio.gather(*joined), 120)

    async def restart_db(self, at: float) -> None:
        await asyncio.sleep(max(0.0, at - self.rec.now()))
        self.outage.stop_at = self.rec.now()
        say(f"[+{self.outage.stop_at:.1f} s] stopping Postgres (pg_ctl stop -m fast)")
        await asyncio.to_thread(self.cluster.stop, "fast")
        self.outage.stopped_at = self.rec.now()
        await asyncio.sleep(self.args.down)
        self.outage.start_at = self.rec.now()
        starting = asyncio.ensure_future(asyncio.to_thread(self.cluster.start))
        url = self.cluster.url("maria_soak")
        while True:  # a probe every 10 ms: when the server accepts, not when pg_ctl says so
            if await accepts_connections(url):
                break
            await asyncio.sleep(0.01)
        self.outage.ready_at = self.rec.now()
        await starting
        say(f"[+{self.outage.ready_at:.1f} s] Postgres accepts connections again")

    async def monitor(self, until: float, warm_at: float) -> None:
        """RSS of the instances every 5 s (and once at the end of the warm-up); progress."""
        sample = 5.0
        while True:
            due = sample if self.warm_rss or warm_at >= sample else warm_at
            if due >= until:
                return
            await asyncio.sleep(max(0.0, due - self.rec.now()))
            now = self.rec.now()
            for server in self.servers:
                self.rss[server.name].append((now, server.rss_kib()))
            if not self.warm_rss and now >= warm_at:
                self.warm_rss = [s.rss_kib() for s in self.servers]
                say(f"[+{now:.0f} s] warmed up: RSS {[k // 1024 for k in self.warm_rss]} MiB")
            if due == sample:
                sample += 5.0
                if sample % 30 == 5:  # every 30 s
                    started = sum(e.count for op, e in self.rec.endpoints.items() if op in MIX)
                    say(f"[+{now:.0f} s] {started} requests, {len(self.rec.errors)} errors")

    async def verify_lists(self) -> None:
        """The final favorites of every user against what was acknowledged."""
        lost = resurrected = checked = failed = 0
        for user in self.users:
            seen: set[int] = set()
            cursor = ""
            while True:
                path = f"{ITEMS}?limit=100" + (f"&cursor={cursor}" if cursor else "")
                response = await self.clients[user.index].get(
                    path,
                    headers={"Authorization": f"Bearer {user.access}", "X-Forwarded-For": user.ip},
                )
                if response.status_code != 200:
                    failed += 1
                    break
                page = response.json()
                seen.update(int(item["movie_id"]) for item in page["items"])
                cursor = page.get("next_cursor") or ""
                if not cursor:
                    break
            checked += 1
            lost += len(user.items - seen)
            resurrected += len(user.removed & seen)
        self.verified = {
            "users": checked,
            "items": sum(len(u.items) for u in self.users),
            "lost": lost,
            "resurrected": resurrected,
            "failed": failed,
            "unknown": sum(len(u.unknown) for u in self.users),
        }

    async def main(self) -> None:
        # SIGTERM, while the loop runs: cancel the run, like asyncio.run does on Ctrl-C.
        main_task = asyncio.current_task()
        assert main_task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
        try:
            await self.setup()
            say(f"set-up done: {len(self.users)} users, {len(self.rooms)} rooms, sockets open")
            connects = self.rec.endpoints["ws_connect"]
            self.rec = Recorder()  # the run starts now; the sockets' first connects count
            self.rec.endpoints["ws_connect"] = connects
            for user in self.users:  # the sockets opened during the set-up count from 0
                user.intervals = [[0.0, float("inf")]] if user.ws is not None else []
            duration = self.args.duration
            warm_at = min(self.args.warmup, duration / 4)
            cpu0 = [s.cpu_seconds()[0] for s in self.servers] + [time.process_time()]
            jobs = [self.requests(duration), self.chat(duration), self.monitor(duration, warm_at)]
            if self.args.restart_db:
                jobs.append(self.restart_db(duration / 2))
            await asyncio.gather(*jobs)
            self.load_seconds = self.rec.now()
            cpu1 = [s.cpu_seconds()[0] for s in self.servers] + [time.process_time()]
            self.cpu = [(b - a) / self.load_seconds for a, b in zip(cpu0, cpu1, strict=True)]
            if self.tasks:
                await asyncio.wait(self.tasks, timeout=self.args.timeout + 5)
            await asyncio.sleep(min(2.0, self.args.timeout))  # the last echoes
            self.expire(float("inf"))
            self.end_rss = [s.rss_kib() for s in self.servers]
            if not self.warm_rss:
                self.warm_rss = self.end_rss
            await self.verify_lists()
        finally:
            self.stopping = True
            for user in self.users:
                if user.ws is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(user.ws.close(), 2)
            for task in [*self.tasks, *self.sockets]:
                task.cancel()
            await asyncio.gather(*self.tasks, *self.sockets, return_exceptions=True)
            for client in self.clients:
                await client.aclose()


# -- the report -----------------------------------------------------------------------


def commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(BENCH_DIR), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


def ms_text(value: float) -> str:
    return "–" if value != value else f"{value:.1f}"  # NaN: no value


def log_summary(server: Server) -> tuple[int, int, list[str]]:
    """ERROR lines and tracebacks in a server's log, and the distinct ERROR messages."""
    lines = server.log_path.read_text(errors="replace").splitlines()
    errors = [line for line in lines if " ERROR " in line]
    tracebacks = sum(line.startswith("Traceback") for line in lines)
    distinct = list(dict.fromkeys(line.split(" ERROR ", 1)[1] for line in errors))
    return len(errors), tracebacks, distinct


def report(soak: Soak, args: argparse.Namespace) -> bool:
    rec, outage = soak.rec, soak.outage
    restart = args.restart_db and outage.ready_at == outage.ready_at

    def acceptable(at: float, kind: str) -> bool:
        return restart and kind in ACCEPTABLE and outage.stop_at <= at <= outage.ready_at + GRACE

    out: list[str] = []
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"{args.duration:g} s" + (
        f", Postgres restarted at +{outage.stop_at:.0f} s" if args.restart_db else ""
    )
    http_count = sum(rec.endpoints[op].count for op in MIX)
    out += [
        f"## Soak: two instances, {title} ({when}, source {commit()})",
        "",
        "```",
        shlex.join(soak.command),
        "```",
        "",
        f"Two `maria serve` (production settings and argon2 parameters) sharing a throwaway "
        f"Postgres 15 cluster and a private Redis; {len(soak.users)} users "
        f"({len(soak.rooms)} rooms, one socket each, members on both instances); the load "
        f"generator on the same machine. Target {args.rate:g} req/s + {args.chat_rate:g} "
        f"chat/s; achieved {http_count / soak.load_seconds:.1f} req/s + "
        f"{soak.chat_sent / soak.load_seconds:.1f} chat/s "
        f"(starts late by > 10 ms: {sum(x > 10 for x in soak.lag_ms)}, dropped: "
        f"{rec.dropped}, chat skipped: {soak.chat_skipped}). CPU, cores: "
        + ", ".join(f"{s.name} {c:.2f}" for s, c in zip(soak.servers, soak.cpu, strict=False))
        + f", load generator {soak.cpu[-1]:.2f}. Re-logins after a 401: {rec.relogins}.",
        "",
        "| endpoint | count | errors | error % | p50 ms | p99 ms | max ms | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for op, name in ENDPOINTS.items():
        ep = rec.endpoints[op]
        rate = 100 * ep.errors / ep.count if ep.count else 0.0
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(ep.statuses.items()))
        out.append(
            f"| {name} | {ep.count} | {ep.errors} | {rate:.2f} | "
            f"{ms_text(percentile(ep.latencies_ms, 0.5))} | "
            f"{ms_text(percentile(ep.latencies_ms, 0.99))} | {ep.max_ms:.0f} | {statuses} |"
        )
    lost, expected = lost_deliveries(soak)
    for same, label in ((True, "same instance"), (False, "other instance")):
        got = rec.deliveries[same]
        out.append(
            f"| WS chat delivery, {label} | {len(got)} | | | {ms_text(percentile(got, 0.5))} | "
            f"{ms_text(percentile(got, 0.99))} | {max(got, default=0):.0f} | |"
        )
    out += [
        "",
        f"Chat deliveries lost (to members connected from the send until 5 s after the echo): "
        f"{lost} of {expected}.",
        "",
    ]
    kinds: dict[tuple[str, bool], list[tuple[float, int, str, float]]] = collections.defaultdict(
        list
    )
    for at, kind, instance, op, took in rec.errors:
        kinds[(kind, acceptable(at, kind))].append((at, instance, op, took))
    bad = sum(len(v) for (_, ok), v in kinds.items() if not ok) + lost
    if kinds:
        out += [
            "| error | count | when (s into the run) | where | slowest ms | acceptable |",
            "|---|---:|---|---|---:|---|",
        ]
        for (kind, ok), seen in sorted(kinds.items(), key=lambda kv: -len(kv[1])):
            times = [at for at, *_ in seen]
            where = collections.Counter(
                f"{soak.servers[inst].name[-1]} {op}" for _, inst, op, _ in seen
            )
            took = [t for *_, t in seen if t == t]
            slowest = f"{max(took):.0f}" if took else ""
            places = ", ".join(f"{k} {n}" for k, n in where.most_common())
            out.append(
                f"| {kind} | {len(seen)} | +{min(times):.1f} … +{max(times):.1f} | {places} | "
                f"{slowest} | {'yes' if ok else '**no**'} |"
            )
    else:
        out.append("No errors.")
    if lost:
        out.append(f"\nChat deliveries lost: {lost} (**not** acceptable).")
    out += [
        "",
        "| instance | RSS after warm-up | RSS at the end | growth | peak |",
        "|---|---:|---:|---:|---:|",
    ]
    growth: list[float] = []
    for server, warm, end in zip(soak.servers, soak.warm_rss, soak.end_rss, strict=False):
        g = (end - warm) / warm if warm else 0.0
        growth.append(g)
        peak = max((kib for _, kib in soak.rss[server.name]), default=end)
        out.append(
            f"| {server.name} | {warm / 1024:.1f} MiB | {end / 1024:.1f} MiB | {100 * g:+.1f} % "
            f"| {max(peak, end) / 1024:.1f} MiB |"
        )
    warm_at = min(args.warmup, args.duration / 4)
    out += ["", f"(Warm-up: the first {warm_at:g} s.)", ""]
    out += timeline(rec, soak.load_seconds)
    recovered = True
    if args.restart_db:
        o = outage
        out += [
            f"Postgres stopped at +{o.stop_at:.1f} s (`pg_ctl stop -m fast` took "
            f"{o.stopped_at - o.stop_at:.2f} s), started at +{o.start_at:.1f} s, accepting "
            f"connections at +{o.ready_at:.2f} s. Times below are from that moment.",
            "",
            "| instance | first DB-backed success | last 503 | first chat echo |",
            "|---|---:|---:|---:|",
        ]
        for i, server in enumerate(soak.servers):
            first = next(
                (t for t, inst, ok in rec.db_events if inst == i and ok and t >= o.ready_at), None
            )
            last_503 = max(
                (t for t, k, inst, *_ in rec.errors if inst == i and k == "HTTP 503 unavailable"),
                default=None,
            )
            echo = next(
                (t for t, inst, ok in rec.chat_events if inst == i and ok and t >= o.ready_at),
                None,
            )
            recovered = recovered and first is not None

            def rel(t: float | None) -> str:
                return "never" if t is None else f"{(t - o.ready_at) * 1000:+.0f} ms"

            out.append(f"| {server.name} | {rel(first)} | {rel(last_503)} | {rel(echo)} |")
        out.append("")
    v = soak.verified
    out += [
        f"Acknowledged list writes: {v.get('users', 0)} users' favorites read back "
        f"({v.get('items', 0)} items acknowledged, {v.get('unknown', 0)} ids left open by an "
        f"unacknowledged write): {v.get('lost', '?')} acknowledged adds missing, "
        f"{v.get('resurrected', '?')} acknowledged deletes still present"
        + (f", {v['failed']} lists unreadable" if v.get("failed") else "")
        + ".",
        "",
    ]
    logs = [log_summary(s) for s in soak.servers]
    out.append(
        "Server logs: "
        + "; ".join(
            f"{s.name} {n} ERROR lines, {tb} tracebacks"
            for s, (n, tb, _) in zip(soak.servers, logs, strict=True)
        )
        + "."
    )
    five_xx = sum(
        n
        for op in ENDPOINTS
        for st, n in rec.endpoints[op].statuses.items()
        if st.isdigit() and int(st) >= 500 and st != "503"
    )
    goals = {
        "no 5xx but 503": five_xx == 0,
        "no error but the outage's 503 / unavailable": bad == 0,
        f"RSS growth < {GOAL_GROWTH:.0%} on each instance": all(g < GOAL_GROWTH for g in growth),
        "no acknowledged write lost": v.get("lost") == 0
        and v.get("resurrected") == 0
        and not v.get("failed"),
    }
    if args.restart_db:
        goals["both instances recover after the restart"] = recovered
    out += [""] + [f"- {'PASS' if ok else '**FAIL**'} {name}" for name, ok in goals.items()]
    say("\n" + "\n".join(out) + "\n")
    for server, (n, _, distinct) in zip(soak.servers, logs, strict=True):
        if n:
            say(f"{server.name}: distinct ERROR lines ({server.log_path}):")
            for line in distinct[:15]:
                say(f"  {line[:300]}")
    return all(goals.values())


def timeline(rec: Recorder, seconds: float) -> list[str]:
    """HTTP requests in 20 slices of the run, by the time they were answered (the last
    slice also holds the answers that came after the load stopped)."""
    width = seconds / 20
    last = max((at for at, *_ in rec.http), default=seconds)
    rows = [
        "| s into the run | answered | 2xx | 503 | other errors | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for n in range(20):
        end = (n + 1) * width if n < 19 else last + 1
        inside = [(ms, kind) for at, ms, kind in rec.http if n * width <= at < end]
        good = [ms for ms, kind in inside if not kind]
        unavailable = sum(kind == "HTTP 503 unavailable" for _, kind in inside)
        rows.append(
            f"| {n * width:.0f}–{(n + 1) * width:.0f} | {len(inside)} | {len(good)} | "
            f"{unavailable} | {len(inside) - len(good) - unavailable} | "
            f"{ms_text(percentile(good, 0.5))} | {ms_text(percentile(good, 0.99))} |"
        )
    return [*rows, ""]


def lost_deliveries(soak: Soak) -> tuple[int, int]:
    """Chat messages echoed to their sender that a member of the room, connected from the
    send until 5 s after the echo, never got."""
    lost = expected = 0
    members: collections.defaultdict[int, list[User]] = collections.defaultdict(list)
    for user in soak.users:
        members[user.room].append(user)
    for key, echoed in soak.echoed.items():
        sent, room = soak.sent_at[key]
        if echoed + 5 > soak.load_seconds:
            continue
        for user in members[room]:
            if user.index == key[0]:
                continue
            if any(a <= sent and b >= echoed + 5 for a, b in user.intervals):
                expected += 1
                lost += user.index not in soak.receipts[key]
    return lost, expected


# -- main -----------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--restart-db", action="store_true", help="stop Postgres at half time")
    parser.add_argument("--down", type=float, default=5.0, help="seconds Postgres stays down")
    parser.add_argument("--rate", type=float, default=150.0, help="HTTP requests/s in all")
    parser.add_argument("--chat-rate", type=float, default=10.0, help="chat messages/s in all")
    parser.add_argument("--users", type=int, default=80)
    parser.add_argument("--rooms", type=int, default=8)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=5.0, help="client wait for an answer")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep-logs", default="", help="a directory for the server logs")
    args = parser.parse_args()
    if args.users < 2 * args.rooms:
        parser.error("--users must be at least twice --rooms (members on both instances)")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # clean up as on Ctrl-C
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    with contextlib.ExitStack() as stack:
        if args.keep_logs:
            workdir = Path(args.keep_logs).resolve()
            workdir.mkdir(parents=True, exist_ok=True)
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="maria-soak-")))
        cluster, servers = stack.enter_context(services(args, workdir))
        say(
            f"Postgres on {cluster.port}, {', '.join(f'{s.name} on {s.port}' for s in servers)}; "
            f"{args.duration:g} s at {args.rate:g} req/s + {args.chat_rate:g} chat/s"
        )
        soak = Soak(args, cluster, servers)
        soak.command = [".venv/bin/python", "bench/soak.py", *sys.argv[1:]]
        try:
            asyncio.run(soak.main())
        except asyncio.CancelledError:  # SIGTERM
            raise KeyboardInterrupt from None
        return 0 if report(soak, args) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # everything was stopped and removed on the way out
        say("interrupted; servers stopped, temp dirs removed")
        sys.exit(130)
