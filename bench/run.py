"""Maria's benchmark (issue 2): one command, loopback only, bounded in time, cleans up.

    .venv/bin/python bench/run.py [--duration 10] [--rounds 3] [--database sqlite|postgres|both]

For each database it starts, on free loopback ports, Maria (``maria serve``: migrations, then
uvicorn with uvloop + httptools, one worker) and the ceiling (``bench/ceiling.py``: a bare
ASGI app answering the same JSON body, served the same way), registers a few users, then
measures with ``wrk`` (32 connections, 2 threads, fixed duration, ``--latency``):

- the ceiling; authenticated ``GET /api/v1/users/me`` with a valid bearer token; the same
  with a bad signature (every answer must be 401). These alternate for ``--rounds`` rounds,
  closed by one more ceiling run: each round's ratio uses the ceiling runs right before and
  after it, and the goal is judged on the median round (the machine is noisy);
- argon2id's raw verify rate (m=19456 KiB, t=2, p=1, in this process) on as many threads as
  Maria hashes on (the CPU count), alternating with Maria's ``POST /api/v1/auth/login`` under
  wrk (a Lua script, correct passwords, several users) while a light probe (one keep-alive
  connection, 50 req/s) measures ``GET /healthz`` latency.

Once, in-process: ``TokenCodec.decode`` against PyJWT's ``jwt.decode`` (µs per token).
Every wrk run also reports the server process's CPU time per request (from /proc), which
is less sensitive to other load on the machine than requests/s.

SQLite runs on Maria's embedded defaults (no Redis); Postgres gets a throw-away database
and, unless ``--redis-url ''``, Redis (the multi-instance set-up, so the login limiter's
counters are shared). About 6 minutes with the defaults. Exit status 0 when every goal
passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout even without the editable install
sys.path.insert(0, str(BENCH_DIR))

from _servers import Server, clean_env, maria_argv, postgres_database  # noqa: E402

ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
PASSWORD = "bench: correct horse battery staple"
ARGON2 = {"memory_cost": 19 * 1024, "time_cost": 2, "parallelism": 1}

GOAL_ME_RATIO = 0.15
GOAL_ME_P99_MS = 15.0
GOAL_BAD_RATIO = 0.20
GOAL_DECODE_US = 15.0
GOAL_LOGIN_OVERHEAD = 0.15
GOAL_HEALTHZ_P99_MS = 50.0


# -- results --------------------------------------------------------------------------


@dataclass
class Wrk:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    server_cpu_s: float = 0.0  # CPU the server process used during the run (all threads)
    loop_cpu_s: float = 0.0  # of which its main thread: the event loop
    seconds: float = 0.0

    @property
    def cpu_us_per_req(self) -> float:
        return self.server_cpu_s / max(1, self.requests) * 1e6

    @property
    def cores(self) -> float:
        return self.server_cpu_s / self.seconds if self.seconds else 0.0


@dataclass
class Goal:
    name: str
    measured: str
    target: str
    ok: bool


@dataclass
class Report:
    goals: list[Goal] = field(default_factory=list)

    def check(self, name: str, measured: str, target: str, ok: bool) -> None:
        self.goals.append(Goal(name, measured, target, ok))
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {measured} (goal {target})", flush=True)


def say(text: str) -> None:
    print(text, flush=True)


# -- HTTP -----------------------------------------------------------------------------


def request(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        hdrs = dict(headers or {})
        if payload is not None:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


# -- wrk ------------------------------------------------------------------------------

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_wrk(out: str) -> Wrk:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in sock.groups()) if sock else 0
    return Wrk(rps, p50, p99, total, int(non.group(1)) if non else 0, errors)


def wrk(
    port: int,
    path: str,
    *,
    duration: float,
    connections: int,
    threads: int,
    headers: dict[str, str] | None = None,
    script: Path | None = None,
    timeout: str = "5s",
    server: Server | None = None,
) -> Wrk:
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s"]
    argv += ["--latency", "--timeout", timeout]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(f"http://127.0.0.1:{port}{path}")
    cpu0, t0 = (server.cpu_seconds() if server else (0.0, 0.0)), time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=False)
    cpu1, t1 = (server.cpu_seconds() if server else (0.0, 0.0)), time.monotonic()
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = parse_wrk(done.stdout)
    result.server_cpu_s, result.loop_cpu_s = cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]
    result.seconds = t1 - t0
    return result


# -- in-process measurements ----------------------------------------------------------


def bench_decode(report: Report) -> None:
    import jwt

    from maria.auth.tokens import TokenCodec

    secret = secrets.token_urlsafe(48).encode()
    codec = TokenCodec(secret, issuer="maria", audience="kinoway")
    token, _ = codec.issue(
        sub="6f1c2a64-0f4e-4c1b-9a57-3f2d8e1b9c40",
        sid="0b8e3c1e-5d0a-4f57-8a53-2b1de9c7a6f2",
        role="user",
        jti=secrets.token_urlsafe(16),
        iat=int(time.time()),
        ttl=900,
    )
    bad = token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]

    def maria() -> None:
        codec.decode(token)

    def pyjwt() -> None:
        jwt.decode(
            token, secret, algorithms=["HS256"], audience="kinoway", issuer="maria", leeway=30
        )

    def maria_bad() -> None:
        with contextlib.suppress(Exception):
            codec.decode(bad)

    maria()
    pyjwt()

    def per_op_us(fn: Any, number: int = 20_000) -> float:
        return min(timeit.repeat(fn, number=number, repeat=7)) / number * 1e6

    ours, theirs, refused = per_op_us(maria), per_op_us(pyjwt), per_op_us(maria_bad)
    say("\n== token verification, in-process (best of 7 x 20,000) ==")
    say(f"  TokenCodec.decode          {ours:7.2f} µs/op")
    say(f"  TokenCodec.decode (forged) {refused:7.2f} µs/op")
    say(f"  PyJWT jwt.decode           {theirs:7.2f} µs/op   (Maria = {theirs / ours:.1f}x faster)")
    report.check(
        "token decode",
        f"{ours:.2f} µs/op (PyJWT {theirs:.2f})",
        f"< {GOAL_DECODE_US:g} µs",
        ours < GOAL_DECODE_US,
    )


def argon2_rate(threads: int, duration: float) -> tuple[float, float]:
    """Verifies per second of a correct password on ``threads`` threads (the GIL is released),
    and the CPU milliseconds one verify takes."""
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(type=Type.ID, **ARGON2)
    stored = hasher.hash(PASSWORD)
    hasher.verify(stored, PASSWORD)
    stop = time.monotonic() + duration

    def worker() -> int:
        n = 0
        while time.monotonic() < stop:
            hasher.verify(stored, PASSWORD)
            n += 1
        return n

    started, cpu = time.monotonic(), time.process_time()
    with ThreadPoolExecutor(threads) as pool:
        counts = list(pool.map(lambda _: worker(), range(threads)))
    done = sum(counts)
    return done / (time.monotonic() - started), (time.process_time() - cpu) / done * 1000


class HealthProbe(threading.Thread):
    """One keep-alive connection, GET /healthz every ``interval`` seconds, latencies in ms."""

    def __init__(self, port: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.interval = interval
        self.latencies: list[float] = []
        self.failures = 0
        self._halt = threading.Event()

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        next_at = time.perf_counter()
        while not self._halt.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    self.latencies.append((time.perf_counter() - started) * 1000)
                else:
                    self.failures += 1
            except (OSError, http.client.HTTPException):
                self.failures += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            next_at += self.interval
            self._halt.wait(max(0.0, next_at - time.perf_counter()))
        conn.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=15)

    def percentile(self, q: float) -> float:
        data = sorted(self.latencies)
        if not data:
            return float("inf")
        return data[min(len(data) - 1, int(round(q * (len(data) - 1))))]


# -- the Maria side -------------------------------------------------------------------


@dataclass
class Account:
    email: str
    ip: str
    token: str


def register_accounts(port: int, count: int, run_id: str) -> list[Account]:
    """Distinct users, each from its own X-Forwarded-For address (20 sign-ups/IP/hour)."""
    octet = int(run_id[:2], 16)
    accounts = []
    for i in range(count):
        email = f"bench-{run_id}-{i}@example.com"
        ip = f"10.{octet}.{i // 250}.{i % 250 + 1}"
        status, body, _ = request(
            port,
            "POST",
            REGISTER,
            {"email": email, "password": PASSWORD, "display_name": f"Bench User {i}"},
            {"X-Forwarded-For": ip},
        )
        if status != 201:
            raise RuntimeError(f"register {email}: {status} {body[:300]!r}")
        accounts.append(Account(email, ip, json.loads(body)["access_token"]))
    return accounts


def forge(token: str) -> str:
    """The same token with one signature character changed."""
    head, sig = token.rsplit(".", 1)
    i = len(sig) // 2
    return f"{head}.{sig[:i]}{'A' if sig[i] != 'A' else 'B'}{sig[i + 1 :]}"


def lua_string(text: str) -> str:
    return json.dumps(text)  # a JSON string of ASCII is a valid Lua string literal


def login_body(account: Account) -> str:
    return json.dumps({"email": account.email, "password": PASSWORD})


def login_script(path: Path, accounts: list[Account], threads: int) -> Path:
    """wrk Lua: each wrk thread logs in its own share of the users, round robin, so that few
    attempts of one (account, IP) pair are ever in flight together (the limiter counts an
    attempt before the password is checked)."""
    entries = ",\n".join(
        f"  {{body = {lua_string(login_body(a))}, ip = {lua_string(a.ip)}}}" for a in accounts
    )
    path.write_text(
        f"""-- POST {LOGIN} with correct passwords of {len(accounts)} users
local users = {{
{entries}
}}
local threads = {threads}
local started = 0
function setup(thread)
  thread:set("tid", started)
  started = started + 1
end
local i = -1
request = function()
  local mine = math.floor((#users - tid - 1) / threads) + 1
  i = (i + 1) % mine
  local u = users[i * threads + tid + 1]
  return wrk.format("POST", "{LOGIN}",
    {{["Content-Type"] = "application/json", ["X-Forwarded-For"] = u.ip}}, u.body)
end
"""
    )
    return path


def redis_cleanup(redis_url: str, accounts: list[Account]) -> None:
    """Drop the limiter counters this run created (keys of our addresses and accounts)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys: list[str] = []
        for a in accounts:
            acct = hashlib.sha256(a.email.encode()).hexdigest()[:32]
            for key in (f"lf:pair:{acct}:{a.ip}", f"lf:acct:{acct}", f"lf:ip:{a.ip}"):
                keys.append(f"maria:rl:{key}")
            keys += [f"maria:rl:reg:{a.ip}", f"maria:rl:ref:{a.ip}"]
        client.delete(*keys)
    finally:
        client.close()


def median(values: list[float]) -> float:
    return statistics.median(values)


def row(label: str, r: Wrk) -> str:
    return (
        f"  {label:<22} {r.rps:8.0f} req/s  p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms"
        f"  | server {r.cpu_us_per_req:5.0f} µs CPU/req, {r.cores:.2f} cores"
        + (f"  | non-2xx {r.non_2xx}" if r.non_2xx else "")
        + (f"  socket errors {r.socket_errors}" if r.socket_errors else "")
    )


def bench_database(
    kind: str, args: argparse.Namespace, workdir: Path, report: Report, live: list[Server]
) -> dict[str, Any]:
    say(f"\n== {kind}: GET {ME}, bad signature, login flood ({args.rounds} rounds) ==")
    env = clean_env()
    env.update(
        MARIA_ENV="production",
        MARIA_SECRET_KEY=secrets.token_urlsafe(48),
        MARIA_DATA_DIR=str(workdir / f"data-{kind}"),
        MARIA_TRUSTED_PROXIES="127.0.0.1",  # users come from X-Forwarded-For addresses
    )
    stack = contextlib.ExitStack()
    redis_url = args.redis_url if kind == "postgres" else ""
    try:
        if kind == "postgres":
            env["MARIA_DATABASE_URL"] = stack.enter_context(postgres_database(args.postgres_url))
            if redis_url:
                env["MARIA_REDIS_URL"] = redis_url
        say(
            f"  set-up: {kind}"
            + (f", Redis {redis_url}" if redis_url else ", no Redis (in-process limiter)")
            + f", {args.login_users} users"
        )
        maria = Server(f"maria-{kind}", [*maria_argv(), "serve"], env, workdir)
        live.append(maria)
        maria.wait_ready()
        accounts = register_accounts(maria.port, args.login_users, secrets.token_hex(4))
        if redis_url:
            stack.callback(redis_cleanup, redis_url, accounts)
        token = accounts[0].token
        status, me_body, _ = request(maria.port, "GET", ME, headers=bearer(token))
        if status != 200:
            raise RuntimeError(f"GET {ME}: {status} {me_body!r}")
        status, bad_body, _ = request(maria.port, "GET", ME, headers=bearer(forge(token)))
        if status != 401 or json.loads(bad_body)["error"]["code"] != "invalid_token":
            raise RuntimeError(f"forged token answered {status} {bad_body!r}")

        body_file = workdir / f"me-{kind}.json"
        body_file.write_bytes(me_body)
        ceiling = Server(
            f"ceiling-{kind}",
            [sys.executable, str(BENCH_DIR / "ceiling.py"), "--body-file", str(body_file)],
            clean_env(),
            workdir,
        )
        live.append(ceiling)
        ceiling.wait_ready()
        status, ceiling_body, _ = request(ceiling.port, "GET", ME)
        assert status == 200 and ceiling_body == me_body, "the ceiling must answer the same body"

        load = {"duration": args.duration, "connections": args.connections, "threads": args.threads}
        warm = {**load, "duration": args.warmup}
        targets = {
            "ceiling": (ceiling, None),
            "me": (maria, bearer(token)),
            "bad": (maria, bearer(forge(token))),
        }
        for server, headers in targets.values():  # warm-up, not measured
            wrk(server.port, ME, headers=headers, **warm)

        def measure(name: str) -> Wrk:
            server, headers = targets[name]
            result = wrk(server.port, ME, headers=headers, server=server, **load)
            label = {"ceiling": "ceiling", "me": f"maria {ME}", "bad": "maria bad signature"}
            say(row(label[name], result))
            return result

        # Rounds of ceiling, /me, bad signature, closed by one more ceiling run: each round's
        # ratios use the ceiling runs right before and after it (the machine is noisy).
        ceilings: list[Wrk] = []
        mes: list[Wrk] = []
        bads: list[Wrk] = []
        for r in range(args.rounds):
            say(f"  -- round {r + 1}")
            ceilings.append(measure("ceiling"))
            mes.append(measure("me"))
            bads.append(measure("bad"))
        ceilings.append(measure("ceiling"))
        ceiling.stop()
        live.remove(ceiling)
        for me, bad in zip(mes, bads, strict=True):
            if me.non_2xx or me.socket_errors:
                raise RuntimeError(f"{ME}: {me.non_2xx} non-2xx, {me.socket_errors} socket errors")
            if bad.non_2xx != bad.requests:
                raise RuntimeError(f"bad signature: only {bad.non_2xx}/{bad.requests} refused")
        ceil_rps = [(a.rps + b.rps) / 2 for a, b in zip(ceilings, ceilings[1:], strict=False)]
        me_ratios = [m.rps / c for m, c in zip(mes, ceil_rps, strict=True)]
        bad_ratios = [b.rps / c for b, c in zip(bads, ceil_rps, strict=True)]
        me_ratio, bad_ratio = median(me_ratios), median(bad_ratios)
        me_p99 = median([m.p99_ms for m in mes])
        cpu_ratio = median([c.cpu_us_per_req for c in ceilings]) / median(
            [m.cpu_us_per_req for m in mes]
        )
        say(
            "  ratios to the ceiling, per round: /me "
            + ", ".join(f"{x:.1%}" for x in me_ratios)
            + "; bad signature "
            + ", ".join(f"{x:.1%}" for x in bad_ratios)
        )
        say(f"  (by server CPU per request, /me is {cpu_ratio:.1%} of the ceiling)")
        report.check(
            f"{kind} /me throughput",
            f"{me_ratio:.1%} of ceiling (median; {median([m.rps for m in mes]):.0f} req/s"
            f" vs {median(ceil_rps):.0f})",
            f">= {GOAL_ME_RATIO:.0%}",
            me_ratio >= GOAL_ME_RATIO,
        )
        report.check(
            f"{kind} /me p99",
            f"{me_p99:.2f} ms (median of rounds; worst {max(m.p99_ms for m in mes):.2f})",
            f"< {GOAL_ME_P99_MS:g} ms",
            me_p99 < GOAL_ME_P99_MS,
        )
        report.check(
            f"{kind} bad-signature throughput",
            f"{bad_ratio:.1%} of ceiling (median; {median([b.rps for b in bads]):.0f} req/s)",
            f">= {GOAL_BAD_RATIO:.0%}",
            bad_ratio >= GOAL_BAD_RATIO,
        )

        # Login: rounds of raw argon2 on the server's hashing threads, then the server under
        # wrk with a light /healthz probe alongside, closed by one more raw measurement.
        threads = os.cpu_count() or 1
        script = login_script(workdir / f"login-{kind}.lua", accounts, args.threads)
        wrk(maria.port, LOGIN, script=script, timeout="30s", **{**load, "duration": 2.0})
        say(f"  login: argon2id m=19456 KiB, t=2, p=1 on {threads} threads vs POST {LOGIN}")

        def raw_rate() -> tuple[float, float]:
            rate, cpu_ms = argon2_rate(threads, args.argon2_seconds)
            say(f"  argon2id raw verify     {rate:8.1f} /s   ({cpu_ms:.1f} ms CPU per verify)")
            return rate, cpu_ms

        raws: list[tuple[float, float]] = []
        logins: list[Wrk] = []
        probes: list[HealthProbe] = []
        for r in range(args.rounds):
            say(f"  -- round {r + 1}")
            raws.append(raw_rate())
            probe = HealthProbe(maria.port)
            box: dict[str, Wrk] = {}

            def flood(box: dict[str, Wrk] = box) -> None:
                box["login"] = wrk(
                    maria.port, LOGIN, script=script, timeout="30s", server=maria, **load
                )

            flooder = threading.Thread(target=flood, daemon=True)
            flooder.start()
            lead = min(1.0, args.duration / 5)
            time.sleep(lead)
            probe.start()
            time.sleep(max(0.5, args.duration - 2 * lead))
            probe.stop()
            flooder.join(timeout=args.duration + 90)
            login = box.get("login")
            if login is None:
                raise RuntimeError("the login flood did not finish")
            if login.non_2xx or login.socket_errors:
                say(
                    f"  warning: {login.non_2xx} non-2xx answers, {login.socket_errors} socket"
                    " errors in the login flood; only successful logins count"
                )
                ok = max(0, login.requests - login.non_2xx)
                login.rps *= ok / max(1, login.requests)
                login.requests = ok
            say(
                f"  maria POST login        {login.rps:8.1f} req/s   p50 {login.p50_ms:.0f} ms"
                f"   p99 {login.p99_ms:.0f} ms | server {login.cpu_us_per_req / 1000:.1f} ms"
                f" CPU/login ({login.loop_cpu_s / max(1, login.requests) * 1000:.1f} in the"
                f" event loop), {login.cores:.2f} cores"
            )
            say(
                f"  GET /healthz meanwhile  p50 {probe.percentile(0.5):.2f} ms"
                f"   p99 {probe.percentile(0.99):.2f} ms"
                f"   max {max(probe.latencies, default=float('inf')):.2f} ms"
                f"   ({len(probe.latencies)} probes, {probe.failures} failed)"
            )
            logins.append(login)
            probes.append(probe)
        raws.append(raw_rate())
        raw_rps = [(a[0] + b[0]) / 2 for a, b in zip(raws, raws[1:], strict=False)]
        overheads = [1 - lg.rps / raw for lg, raw in zip(logins, raw_rps, strict=True)]
        overhead = median(overheads)
        verify_cpu = median([cpu for _, cpu in raws])
        login_cpu = median([lg.cpu_us_per_req / 1000 for lg in logins])
        loop_cpu = median([lg.loop_cpu_s / max(1, lg.requests) * 1000 for lg in logins])
        all_probes = HealthProbe(maria.port)
        all_probes.latencies = [x for p in probes for x in p.latencies]
        hz99 = all_probes.percentile(0.99)
        failures = sum(p.failures for p in probes)
        say(
            "  login overhead beyond the hash, per round: "
            + ", ".join(f"{x:.1%}" for x in overheads)
        )
        say(
            f"  (by CPU: {login_cpu:.1f} ms per login in the server vs {verify_cpu:.1f} ms per"
            f" raw verify: {1 - verify_cpu / login_cpu:.1%} outside argon2; the event loop"
            f" alone {loop_cpu:.1f} ms = {loop_cpu / login_cpu:.1%}; Maria's process only)"
        )
        report.check(
            f"{kind} login overhead beyond argon2",
            f"{overhead:.1%} (median; {median([lg.rps for lg in logins]):.1f} logins/s"
            f" vs {median(raw_rps):.1f} raw verifies/s)",
            f"< {GOAL_LOGIN_OVERHEAD:.0%}",
            overhead < GOAL_LOGIN_OVERHEAD,
        )
        report.check(
            f"{kind} /healthz p99 during login flood",
            f"{hz99:.2f} ms ({len(all_probes.latencies)} probes, {failures} failed)",
            f"< {GOAL_HEALTHZ_P99_MS:g} ms",
            hz99 < GOAL_HEALTHZ_P99_MS and failures == 0,
        )
        maria.stop()
        live.remove(maria)
        return {
            "ceiling": [c.__dict__ for c in ceilings],
            "me": [m.__dict__ for m in mes],
            "bad": [b.__dict__ for b in bads],
            "me_ratio_per_round": me_ratios,
            "bad_ratio_per_round": bad_ratios,
            "argon2_raw": [{"per_s": r, "cpu_ms": c} for r, c in raws],
            "login": [lg.__dict__ for lg in logins],
            "login_overhead_per_round": overheads,
            "healthz_p99_ms": hz99,
        }
    finally:
        for server in [s for s in live if s.name.endswith(kind)]:
            server.stop()
            live.remove(server)
        stack.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- main -----------------------------------------------------------------------------


def source_state() -> str:
    """The commit measured, and whether src/ had uncommitted edits (others work concurrently)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True
        ).stdout.split("\n")
    except OSError:
        return "unknown"
    edited = len([line for line in dirty if line.strip()])
    return f"{head or 'unknown'}" + (f" + {edited} uncommitted file(s) in src/" if edited else "")


def machine() -> str:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model or platform.processor()}), {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measured wrk run")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured wrk first")
    p.add_argument(
        "--rounds", type=int, default=3, help="alternations of ceiling and Maria (median wins)"
    )
    p.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument(
        "--login-users", type=int, default=32, help="distinct users (and IPs) in the login flood"
    )
    p.add_argument("--argon2-seconds", type=float, default=5.0)
    p.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument(
        "--redis-url", default="redis://127.0.0.1:6379/14", help="for the Postgres run; '' = none"
    )
    p.add_argument("--json", type=Path, help="also write the numbers here")
    args = p.parse_args(argv)
    if shutil.which("wrk") is None:
        say("wrk is not installed (apt-get install wrk)")
        return 2

    started = datetime.now(UTC)
    say(f"Maria benchmark, {started:%Y-%m-%d %H:%M} UTC")
    say(f"machine: {machine()}")
    say(f"source: {source_state()}")
    say(
        f"load: wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s --latency "
        f"(after {args.warmup:g}s warm-up)"
    )
    report = Report()
    results: dict[str, Any] = {
        "date": started.isoformat(),
        "machine": machine(),
        "source": source_state(),
        "argv": sys.argv,
    }
    workdir = Path(tempfile.mkdtemp(prefix="maria-bench-"))
    live: list[Server] = []
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        bench_decode(report)
        kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
        for kind in kinds:
            results[kind] = bench_database(kind, args, workdir, report, live)
    finally:
        for server in live:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)

    failed = [g for g in report.goals if not g.ok]
    say(f"\n== summary ({(datetime.now(UTC) - started).total_seconds():.0f} s) ==")
    for g in report.goals:
        say(f"  {'PASS' if g.ok else 'FAIL'}  {g.name}: {g.measured} (goal {g.target})")
    say(f"{len(report.goals) - len(failed)}/{len(report.goals)} goals met")
    if args.json:
        results["goals"] = [g.__dict__ for g in report.goals]
        args.json.write_text(json.dumps(results, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
