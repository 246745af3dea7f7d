"""Mail benchmarks (issue 10): the password-reset answer's timing, and the outbox's speed.

    .venv/bin/python bench/mail.py [--requests 200] [--mails 1000] [--postgres-url URL]

1. ``POST /api/v1/auth/password/forgot`` against one ``maria serve`` (SQLite, mailing to a
   local SMTP sink): ``--requests`` for an address that has an account and as many for
   addresses that have none, interleaved, one at a time, each from its own client address
   (``X-Forwarded-For``, so the per-IP mail limit does not answer instead). The goal: the
   two medians within 10 % of each other (the account is looked up after the answer).
2. ``--mails`` messages queued in the outbox of a throw-away Postgres database and drained
   by two senders at once (as two instances would) into an SMTP sink in another process;
   against the reference, the same messages sent straight with aiosmtplib over one
   connection. Checks that every message arrived exactly once.

Loopback only, bounded in time, drops what it created. Exit status 0 when the goals pass.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent / "src"))
sys.path.insert(0, str(BENCH_DIR))

from _servers import Server, clean_env, free_port, maria_argv, postgres_database  # noqa: E402

PASSWORD = "bench: correct horse battery staple"
GOAL_TIMING = 0.10

SINK = """
import asyncio, sys
from aiosmtpd.controller import Controller
out = open(sys.argv[2], "a", buffering=1)
class Keep:
    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.decode(errors="replace").splitlines():
            if line.startswith("Subject:"):
                out.write(line[8:].strip() + "\\n")
                break
        return "250 OK"
c = Controller(Keep(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
sys.stdin.read()
c.stop()
"""


@contextlib.contextmanager
def smtp_sink(workdir: Path) -> object:
    """An aiosmtpd server in a child process; yields (port, path of the subjects file)."""
    port, subjects = free_port(), workdir / f"subjects-{secrets.token_hex(3)}.txt"
    subjects.touch()
    proc = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port), str(subjects)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    try:
        yield port, subjects
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=15)


def say(text: str) -> None:
    print(text, flush=True)


def post(port: int, path: str, body: object, ip: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        started = time.perf_counter()
        conn.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "X-Forwarded-For": ip},
        )
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def forgot_timing(args: argparse.Namespace, workdir: Path) -> bool:
    say(f"\n== POST /auth/password/forgot: {args.requests} known vs {args.requests} unknown ==")
    with smtp_sink(workdir) as (smtp_port, _):
        env = clean_env(
            MARIA_SECRET_KEY=secrets.token_urlsafe(48),
            MARIA_DATA_DIR=str(workdir / "forgot"),
            MARIA_TRUSTED_PROXIES="127.0.0.1",  # requests come from X-Forwarded-For addresses
            MARIA_SMTP_URL=f"smtp://127.0.0.1:{smtp_port}",
        )
        maria = Server("maria-forgot", [*maria_argv(), "serve"], env, workdir)
        try:
            maria.wait_ready()
            email = f"known-{secrets.token_hex(3)}@example.com"
            status, _ = post(
                maria.port,
                "/api/v1/auth/register",
                {"email": email, "password": PASSWORD, "display_name": "Known"},
                "10.9.0.1",
            )
            assert status == 201, status
            for i in range(20):  # warm-up
                post(maria.port, "/api/v1/auth/password/forgot", {"email": email}, f"10.8.0.{i}")
            known: list[float] = []
            unknown: list[float] = []
            for i in range(args.requests):
                ip = f"10.{10 + i // 250}.{i % 250}.1"
                for target, address in ((known, email), (unknown, f"nobody-{i}@example.com")):
                    status, ms = post(
                        maria.port, "/api/v1/auth/password/forgot", {"email": address}, ip
                    )
                    assert status == 202, status
                    target.append(ms)
        finally:
            maria.stop()
    k, u = statistics.median(known), statistics.median(unknown)
    q = statistics.quantiles
    say(f"  known address    median {k:.2f} ms   p90 {q(known, n=10)[-1]:.2f} ms")
    say(f"  unknown address  median {u:.2f} ms   p90 {q(unknown, n=10)[-1]:.2f} ms")
    gap = abs(k - u) / max(k, u)
    ok = gap < GOAL_TIMING
    say(f"  {'PASS' if ok else 'FAIL'}  medians differ by {gap:.1%} (goal < {GOAL_TIMING:.0%})")
    return ok


async def reference_send(port: int, count: int) -> float:
    """Seconds to send ``count`` messages straight over one SMTP connection."""
    import aiosmtplib

    from maria.mail.transports import Message, build

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
    await client.connect()
    started = time.perf_counter()
    for i in range(count):
        await client.send_message(
            build(Message(f"r{i}@example.com", f"ref {i}", "hi", "<p>hi</p>"), "bench@x")
        )
    elapsed = time.perf_counter() - started
    await client.quit()
    return elapsed


async def outbox_drain(url: str, smtp_port: int, count: int) -> tuple[float, int]:
    """Queue ``count`` messages, then let two senders drain them; seconds and rounds."""
    from maria.db import open_database
    from maria.mail import store
    from maria.mail.service import Mailer
    from maria.mail.transports import Message, SmtpServer, SmtpTransport
    from maria.migrate import upgrade

    await asyncio.to_thread(upgrade, url)
    database = open_database(url)
    transport = SmtpTransport(SmtpServer.parse(f"smtp://127.0.0.1:{smtp_port}"), "bench@x")
    senders = [Mailer(database, transport), Mailer(database, transport)]
    try:
        async with database.connect() as conn:
            for i in range(count):
                await store.enqueue(
                    conn,
                    Message(f"o{i}@example.com", f"outbox {i}", "hi", "<p>hi</p>"),
                    user_id=None,
                )
        started = time.perf_counter()
        rounds = 0

        async def drain(mailer: Mailer) -> None:
            nonlocal rounds
            while await mailer.send_due():
                rounds += 1

        await asyncio.gather(*(drain(m) for m in senders))
        elapsed = time.perf_counter() - started
        async with database.connect() as conn:
            left = await store.pending(conn)
        assert left == 0, f"{left} messages left in the outbox"
        return elapsed, rounds
    finally:
        await database.close()


def outbox_speed(args: argparse.Namespace, workdir: Path) -> bool:
    say(f"\n== the outbox: {args.mails} mails, two senders, Postgres -> aiosmtpd ==")
    with smtp_sink(workdir) as (port, subjects), postgres_database(args.postgres_url) as base:
        url = base.replace("postgresql://", "postgresql+asyncpg://", 1)
        reference = asyncio.run(reference_send(port, args.mails))
        elapsed, rounds = asyncio.run(outbox_drain(url, port, args.mails))
        time.sleep(1.0)
        seen = Counter(line.strip() for line in subjects.read_text().splitlines() if line.strip())
    outbox = Counter({k: v for k, v in seen.items() if k.startswith("outbox ")})
    twice = [k for k, v in outbox.items() if v > 1]
    missing = args.mails - len(outbox)
    say(f"  reference (aiosmtplib, one connection): {args.mails / reference:8.0f} mails/s")
    ratio = reference / elapsed
    say(
        f"  Maria's outbox (claim, send, delete):   {args.mails / elapsed:8.0f} mails/s"
        f"  ({rounds} batches; {ratio:.2f}x the reference)"
    )
    ok = not twice and missing == 0
    say(f"  {'PASS' if ok else 'FAIL'}  every mail once: {missing} missing, {len(twice)} twice")
    return ok


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--mails", type=int, default=1000)
    p.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = p.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="maria-bench-mail-"))
    results = [forgot_timing(args, workdir), outbox_speed(args, workdir)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
