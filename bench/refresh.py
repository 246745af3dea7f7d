"""Refresh-token rotation (issue 14's sizing): ``POST /auth/refresh`` beside ``GET /users/me``.

    .venv/bin/python bench/refresh.py [--duration 10] [--rounds 3] [--connections 32]

On a throw-away Postgres database and Redis it starts one ``maria serve`` (production
settings, argon2 made cheap: registration is not what is measured) that trusts loopback as
its proxy, so every refresh can come from an address of its own (``X-Forwarded-For``) and
the per-address refresh limit (120 a minute) never refuses one. Then, with ``wrk`` (the same
load as ``bench/run.py``), ``--rounds`` rounds of ``GET /users/me`` (round robin over the
sessions' access tokens) and of ``POST /auth/refresh``: each wrk thread holds its share of
the sessions' refresh tokens in a queue, sends the oldest and queues the one the answer
rotated it to (a refresh token is single use), so no token is ever sent twice. Each run
reports requests/s, p50/p99 and the server's CPU time per request (from /proc), the steadier
number on a shared machine: one core serves ``1 / CPU per request`` of them. Every refresh
must answer 200 (a 401 would be a lost rotation). Loopback only, bounded in time, drops what
it created.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from _servers import Server, clean_env, maria_argv, postgres_database  # noqa: E402
from lists import Wrk, lua_script, row, wrk  # noqa: E402

API = "/api/v1"
PASSWORD = "bench: correct horse battery staple"
# A thread's queue never runs dry while its requests are out, and the answers a run's end
# cuts off (their tokens rotated, the new ones never read: at most one per connection) leave
# enough for the next runs.
TOKENS_PER_CONNECTION = 8

REFRESH_LUA = r"""-- POST /auth/refresh, each token once: a thread's queue of refresh tokens, the
-- oldest sent, the rotated one queued again when its answer comes; at the end the queues
-- go to a file, for the next run.
local all = {tokens}
local threads = {threads}
local started = {{}}
function setup(thread)
  table.insert(started, thread)
  thread:set("id", #started)
end
function init(args)
  queue = {{}}
  for i = id, #all, threads do table.insert(queue, all[i]) end
  math.randomseed(id * 7919)
end
function request()
  local token = table.remove(queue, 1)
  local address = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." ..
    math.random(1, 254)
  local headers = {{["Content-Type"] = "application/json", ["X-Forwarded-For"] = address}}
  return wrk.format("POST", "/api/v1/auth/refresh", headers,
    '{{"refresh_token":"' .. token .. '"}}')
end
function response(status, headers, body)
  local token = body:match('"refresh_token":"([^"]+)"')
  if token then table.insert(queue, token) end
end
function done(summary, latency, requests)
  local out = io.open({out}, "w")
  for _, thread in ipairs(started) do
    for _, token in ipairs(thread:get("queue")) do out:write(token, "\n") end
  end
  out:close()
end
"""


def address(run: int, i: int) -> str:
    """Sign-up addresses of this run (the sign-up limit counts per address, in Redis)."""
    return f"10.{run}.{i // 256 % 256}.{i % 256 + 1}"


def sign_up(url: str, count: int) -> list[dict[str, str]]:
    """``count`` new sessions (each from an address of its own: the sign-up limit)."""
    run = secrets.randbelow(256)
    sessions = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(count):
            answer = client.post(
                f"{API}/auth/register",
                json={
                    "email": f"r-{run}-{i}@example.com",
                    "password": PASSWORD,
                    "display_name": "R",
                },
                headers={"X-Forwarded-For": address(run, i)},
            )
            answer.raise_for_status()
            sessions.append(answer.json())
    return sessions


def refresh_script(path: Path, refresh_tokens: list[str], threads: int) -> Path:
    """The script, holding the current tokens; it leaves the rotated ones in ``path.tokens``."""
    tokens = "{" + ",".join(json.dumps(t) for t in refresh_tokens) + "}"
    out = json.dumps(str(path.with_suffix(".tokens")))
    path.write_text(REFRESH_LUA.format(tokens=tokens, threads=threads, out=out))
    return path


def rotated(script: Path) -> list[str]:
    return script.with_suffix(".tokens").read_text().split()


def measure(server: Server, args: argparse.Namespace, workdir: Path) -> None:
    sessions = sign_up(server.url, args.connections * TOKENS_PER_CONNECTION)
    me = lua_script(
        workdir / "me.lua", [s["access_token"] for s in sessions], "GET", f'"{API}/users/me"'
    )
    refresh = refresh_script(
        workdir / "refresh.lua", [s["refresh_token"] for s in sessions], args.threads
    )
    wrk(server, refresh, args, args.warmup)  # warm the pool and the caches
    for round_no in range(1, args.rounds + 1):
        print(f"-- round {round_no}", flush=True)
        for label, script in (("GET /users/me", me), ("POST /auth/refresh", refresh)):
            if script is refresh:  # the tokens the last run rotated to
                refresh_script(refresh, rotated(refresh), args.threads)
            result: Wrk = wrk(server, script, args, args.duration)
            per_core = 1e6 / max(result.cpu_us_per_req, 1)
            print(f"{row(label, result)}  | ~{per_core:,.0f} req/s per core", flush=True)
            if result.non_2xx or result.errors:
                raise SystemExit(f"{label}: {result.non_2xx} non-2xx, {result.errors} errors")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, postgres_database(args.postgres_url) as db:
        env = clean_env(
            MARIA_ENV="production",
            MARIA_SECRET_KEY=secrets.token_urlsafe(48),
            MARIA_DATABASE_URL=db,
            MARIA_REDIS_URL=args.redis_url,
            MARIA_TRUSTED_PROXIES="127.0.0.1",
            MARIA_COOKIE_SECURE="false",
            MARIA_ARGON2_MEMORY_KIB="1024",
            MARIA_ARGON2_TIME_COST="1",
        )
        server = Server("maria", [*maria_argv(), "serve"], env, Path(tmp))
        try:
            server.wait_ready()
            print(f"maria serve, Postgres + Redis; wrk -t{args.threads} -c{args.connections}")
            measure(server, args, Path(tmp))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
