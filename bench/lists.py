"""Movie-list benchmark (issue 3): list reads and writes beside ``GET /users/me``.

    .venv/bin/python bench/lists.py [--duration 10] [--rounds 3] [--users 1000] [--items 500]

On a throw-away Postgres database (and Redis, as in a multi-instance set-up) it starts one
``maria serve`` (uvicorn, one worker) on a free loopback port, registers a few users over
HTTP (their tokens drive the load) and then fills the database directly with SQL up to
``--users`` accounts of ``--items`` movies each in ``favorites`` (the same rows the API
would write; filling them through it would take minutes), then runs ``ANALYZE``.

It measures with ``wrk`` (32 connections, 2 threads, ``--latency``), round robin over the
load users' tokens:

- ``GET /api/v1/users/me``, ``GET …/me/lists/favorites/items?limit=20`` and the same page
  by the public path without a token (the load users' favorites are made public) in turn
  for ``--rounds`` rounds (the machine is noisy: each round's ratio uses the ``/me`` runs
  before and after it);
- the same page with ``If-None-Match`` (304s), a page after a cursor, public pages of all
  the seeded users at random (a hot set of ~1,000 lists), ``PUT`` of random movie ids
  (mostly 201) and ``DELETE`` of random seeded ids (204).

It prints the EXPLAIN (ANALYZE) of the page query on the filled table, the number of
Postgres connections the server opened during the runs (pool churn), and checks the goals
for both page reads: no less than half of ``/users/me``'s requests/s, p99 under 25 ms.
Exit status 0 when they pass. Loopback only, bounded in time, drops what it created.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _servers import Server, maria_argv, postgres_database  # noqa: E402

API = "/api/v1"
ME = f"{API}/users/me"
PAGE = f"{API}/users/me/lists/favorites/items?limit=20"
PASSWORD = "bench: correct horse battery staple"
GOAL_PAGE_RATIO = 0.5
GOAL_PAGE_P99_MS = 25.0


def say(text: str) -> None:
    print(text, flush=True)


# -- processes and HTTP ---------------------------------------------------------------


def call(
    port: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=dict(headers or {})
    )
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (loopback)
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as err:
        return err.code, err.read(), {k.lower(): v for k, v in err.headers.items()}


# -- wrk ------------------------------------------------------------------------------


@dataclass
class Wrk:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: int
    cpu_us_per_req: float = 0.0


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]


def wrk(server: Server, script: Path, args: argparse.Namespace, duration: float) -> Wrk:
    argv = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration:g}s"]
    argv += ["--latency", "--timeout", "5s", "-s", str(script), f"http://127.0.0.1:{server.port}"]
    cpu0 = server.cpu_seconds()[0]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, check=True)
    cpu = server.cpu_seconds()[0] - cpu0
    text = out.stdout

    def find(pattern: str) -> str:
        m = re.search(pattern, text, re.M)
        if m is None:
            raise RuntimeError(f"wrk output without {pattern!r}:\n{text}")
        return m.group(1)

    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    total = int(find(r"(\d+) requests in"))
    return Wrk(
        rps=float(find(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"^\s+50%\s+(\S+)")),
        p99_ms=_ms(find(r"^\s+99%\s+(\S+)")),
        requests=total,
        non_2xx=int(non.group(1)) if non else 0,
        errors=sum(int(x) for x in sock.groups()) if sock else 0,
        cpu_us_per_req=cpu / max(1, total) * 1e6,
    )


def lua_script(
    path: Path, tokens: list[str], method: str, target: str, headers: dict[str, str] | None = None
) -> Path:
    """Round robin over the users' tokens; ``target`` is a Lua expression for the path
    (``%d`` in it is replaced by a random movie id)."""
    token_list = ",\n".join(f"  {json.dumps(t)}" for t in tokens)
    extra = "".join(
        f"  headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in (headers or {}).items()
    )
    path.write_text(
        f"""local tokens = {{
{token_list}
}}
local i = 0
math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16) % 1000)
request = function()
  i = i % #tokens + 1
  local headers = {{["Authorization"] = "Bearer " .. tokens[i]}}
{extra}  local path = {target}
  return wrk.format("{method}", path, headers, nil)
end
"""
    )
    return path


def lua_paths(path: Path, targets: list[str], headers: dict[str, str] | None = None) -> Path:
    """GET each of ``targets`` in turn, without a token."""
    target_list = ",\n".join(f"  {json.dumps(t)}" for t in targets)
    extra = "".join(
        f"  headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in (headers or {}).items()
    )
    path.write_text(
        f"""local targets = {{
{target_list}
}}
local i = 0
request = function()
  i = i % #targets + 1
  local headers = {{}}
{extra}  return wrk.format("GET", targets[i], headers, nil)
end
"""
    )
    return path


def row(label: str, r: Wrk) -> str:
    return (
        f"  {label:<34} {r.rps:8.0f} req/s  p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms"
        f"  | {r.cpu_us_per_req:5.0f} µs server CPU/req"
        + (f"  | non-2xx/3xx {r.non_2xx}" if r.non_2xx else "")
        + (f"  errors {r.errors}" if r.errors else "")
    )


# -- database -------------------------------------------------------------------------


SEED_SQL = """
INSERT INTO users (id, email, password_hash, display_name, role, email_verified, disabled,
                   created_at, updated_at)
SELECT gen_random_uuid()::text, 'seed-' || n || '@example.com', 'x', 'Seed ' || n, 'user',
       false, false, now(), now()
FROM generate_series(1, {users:d}) AS n;

INSERT INTO movie_lists (id, user_id, slug, title, is_public, builtin, item_count, version,
                         created_at, updated_at)
SELECT gen_random_uuid()::text, u.id, b.slug, b.title, b.slug = 'favorites', true, 0, 0,
       now(), now()
FROM users u CROSS JOIN (VALUES ('favorites', 'Favorites'), ('watch-later', 'Watch later'))
     AS b(slug, title)
WHERE u.email LIKE 'seed-%';

INSERT INTO list_items (list_id, movie_id, added_at, note)
SELECT l.id, m, now() - (({items:d} - m) * interval '1 minute'), NULL
FROM movie_lists l CROSS JOIN generate_series(1, {items:d}) AS m
WHERE l.slug = 'favorites';

UPDATE movie_lists l SET item_count = (SELECT count(*) FROM list_items i WHERE i.list_id = l.id),
                         version = version + 1, updated_at = now();
ANALYZE;
"""


async def seed(url: str, users: int, items: int) -> list[str]:
    """Fill the database; the seeded users' ids."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(SEED_SQL.format(users=int(users), items=int(items)))
        rows = await conn.fetch("SELECT id FROM users WHERE email LIKE 'seed-%' ORDER BY id")
        return [r["id"] for r in rows]
    finally:
        await conn.close()


async def sessions_opened(url: str) -> int:
    """Connections ever opened to this database (``pg_stat_database.sessions``)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        name = url.rsplit("/", 1)[1]
        value = await conn.fetchval(
            "SELECT sessions FROM pg_stat_database WHERE datname = $1", name
        )
        return int(value or 0)
    finally:
        await conn.close()


async def explain_page(url: str, cursor: str) -> str:
    """EXPLAIN ANALYZE of the page statement the app runs (first page and after a cursor),
    for one of the seeded users."""
    import asyncpg
    from sqlalchemy.dialects import postgresql

    from maria.lists.pages import page_statement
    from maria.lists.paging import page_query

    conn = await asyncpg.connect(url)
    try:
        user_id = await conn.fetchval("SELECT id FROM users WHERE email LIKE 'seed-%' LIMIT 1")
        plans = []
        for label, after in (("first page", None), ("after a cursor", cursor)):
            query = page_query(order="newest", limit=20, cursor=after)
            statement, params = page_statement(user_id, "favorites", query)
            sql = statement.params(params).compile(
                dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
            )
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
            plans.append(f"-- {label}\n" + "\n".join(r[0] for r in rows))
        return "\n".join(plans)
    finally:
        await conn.close()


# -- main -----------------------------------------------------------------------------


LOAD_IP = "10.77.{}.{}"


def load_ip(i: int) -> str:
    return LOAD_IP.format(i // 250, i % 250 + 1)


def redis_cleanup(redis_url: str, count: int) -> None:
    """Drop the sign-up counters our registrations left (one key per address)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(*[f"maria:rl:reg:{load_ip(i)}" for i in range(count)])
    finally:
        client.close()


def register(port: int, count: int) -> list[tuple[str, str]]:
    """``count`` new accounts: (user id, access token) each, favorites made public."""
    run = secrets.token_hex(3)
    tokens = []
    for i in range(count):
        status, body, _ = call(
            port,
            "POST",
            f"{API}/auth/register",
            {"email": f"load-{run}-{i}@example.com", "password": PASSWORD, "display_name": "L"},
            {"X-Forwarded-For": load_ip(i)},
        )
        if status != 201:
            raise RuntimeError(f"register: {status} {body[:300]!r}")
        session = json.loads(body)
        tokens.append((session["user"]["id"], session["access_token"]))
        status, body, _ = call(
            port,
            "PATCH",
            f"{API}/users/me/lists/favorites",
            {"is_public": True},
            bearer(session["access_token"]),
        )
        if status != 200:
            raise RuntimeError(f"publish: {status} {body[:300]!r}")
    return tokens


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--users", type=int, default=1000, help="accounts in the database")
    p.add_argument("--items", type=int, default=500, help="movies in each favorites list")
    p.add_argument("--load-users", type=int, default=16, help="accounts driving the load")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="'' = none")
    args = p.parse_args(argv)
    if shutil.which("wrk") is None:
        say("wrk is not installed (apt-get install wrk)")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="maria-bench-lists-"))
    server: Server | None = None
    try:
        with postgres_database(args.postgres_url, prefix="maria_bench_lists") as url:
            env = {k: v for k, v in os.environ.items() if not k.startswith("MARIA_")}
            env.update(
                PYTHONUNBUFFERED="1",
                MARIA_ENV="production",
                MARIA_SECRET_KEY=secrets.token_urlsafe(48),
                MARIA_DATA_DIR=str(workdir / "data"),
                MARIA_DATABASE_URL=url,
                MARIA_TRUSTED_PROXIES="127.0.0.1",  # users sign up from addresses of their own
            )
            if args.redis_url:
                env["MARIA_REDIS_URL"] = args.redis_url
            server = Server("maria", [*maria_argv(), "serve"], env, workdir)
            server.wait_ready()
            users = register(server.port, args.load_users)
            tokens = [token for _, token in users]
            publics = [public_page(user_id) for user_id, _ in users]
            started = time.monotonic()
            seeded = asyncio.run(seed(url, args.users - args.load_users, args.items))
            spread = [public_page(user_id) for user_id in seeded]
            random.Random(1).shuffle(spread)
            say(
                f"set-up: Postgres + {'Redis' if args.redis_url else 'no Redis'}; "
                f"{args.users} users x {args.items} movies in favorites "
                f"(seeded in {time.monotonic() - started:.1f}s); load over {len(tokens)} users; "
                f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s"
            )
            status, body, headers = call(server.port, "GET", PAGE, headers=bearer(tokens[0]))
            page = json.loads(body)
            assert status == 200 and len(page["items"]) == 20, (status, body[:200])
            etag, cursor = headers["etag"], page["next_cursor"]
            status, _, _ = call(
                server.port, "GET", PAGE, headers={**bearer(tokens[0]), "If-None-Match": etag}
            )
            assert status == 304, status  # (wrk counts only >= 400 as errors)

            scripts = {
                "me": lua_script(workdir / "me.lua", tokens, "GET", json.dumps(ME)),
                "page": lua_script(workdir / "page.lua", tokens, "GET", json.dumps(PAGE)),
                "public": lua_paths(workdir / "public.lua", publics),
                "spread": lua_paths(workdir / "spread.lua", spread),
                "304": lua_script(
                    workdir / "304.lua",
                    tokens[:1],
                    "GET",
                    json.dumps(PAGE),
                    headers={"If-None-Match": etag},
                ),
                "cursor": lua_script(
                    workdir / "cursor.lua",
                    tokens[:1],
                    "GET",
                    json.dumps(f"{PAGE}&cursor={cursor}"),
                ),
                "put": lua_script(
                    workdir / "put.lua",
                    tokens,
                    "PUT",
                    f'"{API}/users/me/lists/favorites/items/" .. math.random(1000, 2000000000)',
                ),
                "delete": lua_script(
                    workdir / "delete.lua",
                    tokens,
                    "DELETE",
                    f'"{API}/users/me/lists/favorites/items/" .. math.random(1, {args.items})',
                ),
            }
            for name in ("me", "page", "public"):
                wrk(server, scripts[name], args, args.warmup)
            opened_before = asyncio.run(sessions_opened(url))
            mes: list[Wrk] = []
            reads: dict[str, list[Wrk]] = {"page": [], "public": []}
            labels = {"page": "GET own page of 20", "public": "GET public page of 20 (no token)"}
            for r in range(args.rounds):
                say(f"-- round {r + 1}")
                mes.append(wrk(server, scripts["me"], args, args.duration))
                say(row(f"GET {ME}", mes[-1]))
                for name, runs in reads.items():
                    runs.append(wrk(server, scripts[name], args, args.duration))
                    say(row(labels[name], runs[-1]))
            mes.append(wrk(server, scripts["me"], args, args.duration))
            say(row(f"GET {ME}", mes[-1]))
            say("-- once each")
            others = {}
            for name, label in (
                ("304", "GET own page, If-None-Match (304)"),
                ("cursor", "GET own page after a cursor"),
                ("spread", f"GET public pages of {len(spread)} lists"),
                ("put", "PUT item (random new ids)"),
                ("delete", "DELETE item (seeded ids)"),
            ):
                others[name] = wrk(server, scripts[name], args, args.duration)
                say(row(label, others[name]))
            opened = asyncio.run(sessions_opened(url)) - opened_before
            say(f"Postgres connections opened by the server during the runs: {opened}")
            every = [*mes, *reads["page"], *reads["public"], *others.values()]
            for result in every:
                if result.errors:
                    raise RuntimeError(f"socket errors during the run: {result}")
            read_runs = [*reads["page"], *reads["public"], others["cursor"], others["spread"]]
            if any(p.non_2xx for p in read_runs):
                raise RuntimeError("page reads answered non-2xx")

            me_between = [(a.rps + b.rps) / 2 for a, b in zip(mes, mes[1:], strict=False)]
            say("\nEXPLAIN of the page query on the filled table:")
            say(asyncio.run(explain_page(url, cursor)))
            say("\ngoals:")
            passed = True
            kinds = {"page": "own", "public": "public"}
            for name, runs in reads.items():
                ratios = [pg.rps / me for pg, me in zip(runs, me_between, strict=True)]
                ratio = statistics.median(ratios)
                p99 = statistics.median([pg.p99_ms for pg in runs])
                ok_ratio, ok_p99 = ratio >= GOAL_PAGE_RATIO, p99 < GOAL_PAGE_P99_MS
                passed = passed and ok_ratio and ok_p99
                say(
                    f"  {'PASS' if ok_ratio else 'FAIL'}  {kinds[name]} page / {ME}: {ratio:.1%} "
                    f"(median of rounds {', '.join(f'{x:.1%}' for x in ratios)}; "
                    f"goal >= {GOAL_PAGE_RATIO:.0%})"
                )
                say(
                    f"  {'PASS' if ok_p99 else 'FAIL'}  {kinds[name]} page p99: {p99:.2f} ms "
                    f"(median of rounds; goal < {GOAL_PAGE_P99_MS:g} ms)"
                )
            server.stop()
            server = None
            return 0 if passed else 1
    finally:
        if server is not None:
            server.stop()
        if args.redis_url:
            with contextlib.suppress(Exception):
                redis_cleanup(args.redis_url, args.load_users)
        shutil.rmtree(workdir, ignore_errors=True)


def public_page(user_id: str) -> str:
    return f"{API}/users/{user_id}/lists/favorites/items?limit=20"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


if __name__ == "__main__":
    sys.exit(main())
