"""Starting a fleet safely, with real ``maria`` processes: migrations run one at a time
(Postgres advisory lock; a file lock on SQLite), an instance refuses a schema that is not
its own, ``--workers N`` shares its metrics and warns without Redis, and the SQLite files
are private."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from maria.migrate import LOCK_KEY, LOCK_SUFFIX, head_revision
from tests.support.api import TEST_SECRET
from tests.support.servers import CHEAP_HASHING, MARIA, Server, free_port, maria_env, started
from tests.support.services import fresh_postgres, plain_pg

WAIT = 60.0  # the bound of every wait here: generous, never asserted on


def spawn(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(MARIA), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(what: str, probe: object, within: float = WAIT) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if probe():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {within}s")


def finish(procs: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    return [(p.wait(timeout=WAIT), p.stdout.read() if p.stdout else "") for p in procs]


# -- one migration at a time ----------------------------------------------------------


async def _pg(url: str, query: str) -> object:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


def test_instances_starting_together_migrate_one_at_a_time_on_postgres(tmp_path: Path) -> None:
    import asyncpg

    with fresh_postgres("maria_fleet") as url:
        raw = plain_pg(url)

        async def hold_then_release(procs: list[subprocess.Popen[str]]) -> None:
            holder = await asyncpg.connect(raw)
            try:
                await holder.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
                procs.extend(
                    spawn("migrate", env=maria_env(MARIA_DATABASE_URL=url), cwd=tmp_path)
                    for _ in range(3)
                )
                waiting = (
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                )
                deadline = time.monotonic() + WAIT
                while await holder.fetchval(waiting) < 3:
                    assert time.monotonic() < deadline, "the migrations do not wait for the lock"
                    assert all(p.poll() is None for p in procs), finish(procs)
                    await asyncio.sleep(0.05)
                # All three wait, and none has touched the schema.
                assert await holder.fetchval("SELECT to_regclass('alembic_version')") is None
            finally:
                await holder.close()  # releases the lock

        procs: list[subprocess.Popen[str]] = []
        try:
            asyncio.run(hold_then_release(procs))
            outcomes = finish(procs)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
        assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
        version = asyncio.run(_pg(raw, "SELECT version_num FROM alembic_version"))
        assert version == head_revision()


def _blocked_flocks(path: Path) -> int:
    """Waiting flock requests on ``path`` (from /proc/locks: lines of "->" waiters)."""
    inode = path.stat().st_ino
    count = 0
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and "FLOCK" in fields and fields[-3].endswith(f":{inode}"):
            count += 1
    return count


def test_instances_starting_together_migrate_one_at_a_time_on_sqlite(tmp_path: Path) -> None:
    import fcntl

    data = tmp_path / "data"
    data.mkdir()
    db = data / "maria.db"
    lock = Path(f"{db}{LOCK_SUFFIX}")
    env = maria_env(MARIA_DATA_DIR=str(data))
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    procs: list[subprocess.Popen[str]] = []
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        procs = [spawn("migrate", env=env, cwd=tmp_path) for _ in range(2)]
        wait_for("both migrations waiting on the lock", lambda: _blocked_flocks(lock) == 2)
        assert not db.exists() or "alembic_version" not in _tables(db)
    finally:
        os.close(fd)
    try:
        outcomes = finish(procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert "users" in _tables(db)


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


# -- the schema an instance serves ----------------------------------------------------


def _set_version(db: Path, version: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (version,))


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MARIA), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=WAIT
    )


def test_an_instance_refuses_a_schema_newer_than_its_code(tmp_path: Path) -> None:
    env = maria_env(MARIA_DATA_DIR=str(tmp_path / "data"), MARIA_SECRET_KEY=TEST_SECRET)
    assert run("migrate", env=env, cwd=tmp_path).returncode == 0
    _set_version(tmp_path / "data" / "maria.db", "0099_from_a_newer_maria")
    port = str(free_port())
    for args in (("serve", "--port", port), ("serve", "--no-migrate", "--port", port)):
        done = run(*args, env=env, cwd=tmp_path)
        assert done.returncode != 0, done.stderr
        assert "refusing to" in done.stderr and "newer Maria" in done.stderr, done.stderr
        assert "0099_from_a_newer_maria" in done.stderr and "Traceback" not in done.stderr
    # The ASGI entry point run by another server checks it too, at start.
    uvicorn = subprocess.run(
        [str(MARIA.with_name("uvicorn")), "maria.asgi:app", "--port", port],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert uvicorn.returncode != 0
    assert "refusing to serve" in uvicorn.stderr and "newer Maria" in uvicorn.stderr


def test_no_migrate_refuses_an_older_schema_and_serve_migrates_it(tmp_path: Path) -> None:
    env = maria_env(
        MARIA_DATA_DIR=str(tmp_path / "data"), MARIA_SECRET_KEY=TEST_SECRET, **CHEAP_HASHING
    )
    assert run("migrate", "--revision", "0005", env=env, cwd=tmp_path).returncode == 0
    done = run("serve", "--no-migrate", "--port", str(free_port()), env=env, cwd=tmp_path)
    assert done.returncode != 0
    assert "older than this Maria" in done.stderr and "maria migrate" in done.stderr
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    never = run(
        "serve",
        "--no-migrate",
        "--port",
        str(free_port()),
        env={**env, "MARIA_DATA_DIR": str(fresh)},
        cwd=tmp_path,
    )
    assert never.returncode != 0 and "no schema yet" in never.stderr
    with ExitStack() as stack:
        server = started(stack, "migrating", env, tmp_path)  # maria serve migrates first
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200
    with sqlite3.connect(tmp_path / "data" / "maria.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == (
            head_revision()
        )


# -- several workers ------------------------------------------------------------------


@contextmanager
def workers(tmp_path: Path, **extra: str) -> Iterator[Server]:
    env = maria_env(
        MARIA_DATA_DIR=str(tmp_path / "data"),
        MARIA_SECRET_KEY=TEST_SECRET,
        MARIA_LOG_FORMAT="json",
        **CHEAP_HASHING,
        **extra,
    )
    with ExitStack() as stack:
        yield started(stack, "workers", env, tmp_path, "--workers", "2", "--access-log")


def test_workers_share_their_metrics_and_warn_without_redis(tmp_path: Path) -> None:
    given = tmp_path / "metrics"
    given.mkdir()
    stale = given / "counter_1.db"
    stale.write_bytes(b"left by an earlier run")
    with workers(tmp_path, PROMETHEUS_MULTIPROC_DIR=str(given)) as server:
        assert not stale.exists()  # emptied at start
        healthz = re.compile(
            r'maria_http_requests_total\{method="GET",route="/healthz",status="2xx"\} (\S+)'
        )

        def answered() -> float:
            found = healthz.search(httpx.get(f"{server.url}/metrics").text)
            assert found is not None
            return float(found.group(1))

        before = answered()  # the start-up probes
        sent = 0

        def one(i: int) -> int:  # a new connection each, 8 at once: both workers accept
            headers = {"X-Request-ID": f"w-{i}"}
            return httpx.get(f"{server.url}/healthz", headers=headers).status_code

        def access_lines() -> list[dict]:
            lines = [json.loads(line) for line in server.log().splitlines() if line.strip()]
            return [x for x in lines if str(x.get("request_id", "")).startswith("w-")]

        # The kernel hands connections to whichever worker accepts first; on a busy
        # machine one worker may take a whole round, so send rounds until both served.
        for _ in range(20):
            with ThreadPoolExecutor(8) as pool:
                batch = range(sent, sent + 60)
                assert list(pool.map(one, batch)) == [200] * len(batch)
            sent += len(batch)
            wait_for("the access lines of the requests", lambda n=sent: len(access_lines()) == n)
            served_by = {x["pid"] for x in access_lines()}
            if len(served_by) == 2:
                break
        assert len(served_by) == 2, f"one worker served every request: {served_by}"
        count = sent
        # Whichever worker answers the scrape, it reports both workers' requests.
        for _ in range(6):
            assert answered() == before + count
        warning = [
            json.loads(line)
            for line in server.log().splitlines()
            if "without MARIA_REDIS_URL" in line
        ]
        assert len(warning) == 1 and warning[0]["level"] == "WARNING"


def test_workers_with_redis_do_not_warn(tmp_path: Path, redis_url: str) -> None:
    with workers(tmp_path, MARIA_REDIS_URL=redis_url) as server:
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        assert "without MARIA_REDIS_URL" not in server.log()


# -- private files --------------------------------------------------------------------


def test_the_sqlite_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = maria_env(MARIA_DATA_DIR=str(data), **CHEAP_HASHING)
    with ExitStack() as stack:
        server = Server("private", env, tmp_path)
        stack.callback(server.stop)
        old = os.umask(0o022)  # what most systems use: 0644 files unless made otherwise
        try:
            server.start()
        finally:
            os.umask(old)
        register = httpx.post(
            f"{server.url}/api/v1/auth/register",
            json={"email": "p@example.com", "password": "a private password", "display_name": "P"},
            timeout=30,
        )
        assert register.status_code == 201
        files = sorted(p.name for p in data.iterdir() if p.is_file())
        assert {"maria.db", "maria.db-wal", "maria.db-shm", "secret.key"} <= set(files), files
        for name in files:
            mode = stat.S_IMODE((data / name).stat().st_mode)
            assert mode == 0o600, f"{name} is {oct(mode)}"
