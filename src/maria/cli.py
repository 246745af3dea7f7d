"""The ``maria`` command: serve, migrate, create-admin, keys, gen-secret, schema."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from maria.config import ConfigError, Settings, load_settings

log = logging.getLogger("maria")

# What `maria --help` says first (plain text: it is read in a terminal).
DESCRIPTION = (
    "Maria, the account backend of Kinoway: accounts, sign-in, movie lists and "
    "watch-together rooms over HTTP and WebSocket. Settings come from MARIA_* environment "
    "variables (see README.md)."
)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class CliError(Exception):
    """A failure the user can fix; printed as one line, without a traceback."""


def _upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply migrations, turning an unreachable database into a one-line CliError."""
    from alembic.util import CommandError
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, DBAPIError

    from maria.migrate import upgrade

    try:
        url = settings.resolved_database_url
    except OSError as exc:
        raise CliError(f"cannot create the data directory {settings.data_dir}: {exc}") from None
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CliError("MARIA_DATABASE_URL is not a database URL") from None
    shown = parsed.render_as_string(hide_password=True)
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        # Say so plainly (aiosqlite's failure here also races its worker thread's output).
        folder = Path(database).parent
        if not folder.is_dir():
            raise CliError(f"cannot open the SQLite database {database}: no directory {folder}")
    try:
        upgrade(url, revision)
    except CommandError as exc:  # e.g. the database is at a revision this code lacks
        _check_schema(settings, "refusing to migrate")
        raise CliError(f"cannot migrate: {exc}") from None
    except (OSError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        detail = reason[0] if reason else type(exc).__name__
        raise CliError(f"cannot reach the database at {shown}: {detail}") from None


def _check_schema(settings: Settings, refusing: str = "refusing to serve") -> None:
    """Stop (one line) unless the database is at this code's schema."""
    from sqlalchemy.exc import DBAPIError

    from maria.db import open_database
    from maria.migrate import current_revision, schema_problem

    async def read() -> str | None:
        database = open_database(settings.resolved_database_url, timeout=10)
        try:
            return await current_revision(database)
        finally:
            await database.close()

    try:
        revision = asyncio.run(read())
    except (OSError, DBAPIError) as exc:
        raise CliError(f"cannot read the database's schema version: {exc}") from None
    problem = schema_problem(revision)
    if problem is not None:
        raise CliError(f"{refusing}: {problem}")


@contextmanager
def _metrics_dir(workers: int) -> Iterator[None]:
    """With several workers, prometheus-client's multiprocess mode: each worker writes its
    numbers to files in PROMETHEUS_MULTIPROC_DIR (the operator's, else a temporary folder),
    emptied now so that an earlier run's numbers do not count."""
    given = os.environ.get(MULTIPROC_ENV)
    if workers <= 1 and not given:
        yield
        return
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="maria-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)
    try:
        yield
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from maria.logs import log_config

    with _metrics_dir(args.workers):  # before anything imports prometheus-client
        if args.migrate:
            _upgrade(settings)
        _check_schema(settings)
        _ = settings.secret  # create the generated secret once, before workers race for it
        if args.workers > 1 and not settings.redis_url:
            log.warning(
                "%d workers without MARIA_REDIS_URL: rate limits, the chat throttle and "
                "room presence are per worker, room members on different workers do not "
                "see each other, and revocations reach the other workers only by the "
                "database poll (about a second); set MARIA_REDIS_URL",
                args.workers,
            )
        if args.access_log:
            os.environ["MARIA_ACCESS_LOG"] = "true"  # the workers read their settings anew
        if args.workers > 1:
            # This process only supervises: its numbers (from migrating) are no worker's,
            # and its idle gauges must not count as a live worker's.
            for own in Path(os.environ[MULTIPROC_ENV]).glob(f"*_{os.getpid()}.db"):
                own.unlink()
        uvicorn.run(
            "maria.asgi:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            loop="uvloop",
            http="maria.http.head:HeadLimitProtocol",  # httptools, with the request head capped
            access_log=False,  # Maria's own lines (maria.access): route templates, no queries
            log_config=log_config(settings.log_format or "text"),
            # Forwarded headers are Maria's to judge (MARIA_TRUSTED_PROXIES, in the app), not
            # uvicorn's, which would believe any client connecting from 127.0.0.1.
            proxy_headers=False,
            ws="maria.rooms.wire:FramesProtocol",  # room fan-out: one write per member per batch
            ws_per_message_deflate=False,  # ~200-byte chat frames: compression costs more
            log_level="info",
        )
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    _upgrade(settings, args.revision)
    print(f"database at {args.revision}")
    return 0


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from maria.admin_setup import create_admin, email_problem
    from maria.auth.passwords import context_words, password_problem

    problem = email_problem(args.email)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 1
    problem = password_problem(password, context_words(args.email, args.display_name))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    _upgrade(settings)
    outcome = asyncio.run(create_admin(settings, args.email, args.display_name, password))
    print(outcome)
    return 0


def _keys(settings: Settings, args: argparse.Namespace) -> int:
    from maria.key_admin import keys_command
    from maria.keys.service import KeyProblem

    _upgrade(settings)
    try:
        print(asyncio.run(keys_command(settings, args.action, args.kid, now=args.now)))
    except KeyProblem as exc:
        raise CliError(str(exc)) from None
    return 0


def _gen_secret(_: Settings | None, __: argparse.Namespace) -> int:
    print(secrets.token_urlsafe(48))
    return 0


def _schema(_: Settings | None, args: argparse.Namespace) -> int:
    """Print a contract document, for clients to generate their types from (no database,
    no data directory: the app is built, never started)."""
    if args.document == "asyncapi":
        from maria.rooms.asyncapi import document

        print(json.dumps(document(), indent=2, ensure_ascii=False))
        return 0
    from maria.app import create_app

    try:
        settings = load_settings(
            database_url="sqlite+aiosqlite://", secret_key=secrets.token_urlsafe(48)
        )
    except ConfigError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="maria", description=DESCRIPTION)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        help="migrate the database, then serve HTTP",
        description="Migrate the database (unless --no-migrate), check that its schema is "
        "this version's, then serve HTTP and WebSocket with uvicorn.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (1); more than one needs MARIA_REDIS_URL to share state",
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="one log line per request and socket (or MARIA_ACCESS_LOG=true)",
    )
    serve.add_argument(
        "--no-migrate",
        dest="migrate",
        action="store_false",
        help="do not migrate; refuse to start unless the schema is current (a fleet whose "
        "migrations run as a job of their own)",
    )
    serve.set_defaults(func=_serve)
    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(func=_migrate)
    admin = sub.add_parser("create-admin", help="create an admin, or promote an existing user")
    admin.add_argument("--email", required=True)
    admin.add_argument("--display-name", default="Admin")
    admin.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    admin.set_defaults(func=_create_admin)
    keys = sub.add_parser("keys", help="list, rotate or retire the token signing keys")
    actions = keys.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="every key and its state")
    rotate = actions.add_parser(
        "rotate",
        help="make a new key of MARIA_JWT_ALG; it signs once every instance (and, with "
        "EdDSA/ES256, every JWK Set cache: MARIA_JWKS_MAX_AGE) has it",
    )
    rotate.add_argument(
        "--now", action="store_true", help="sign with it once the instances have it (~5 s)"
    )
    retire = actions.add_parser(
        "retire", help="stop accepting a key once its tokens could have expired"
    )
    retire.add_argument("kid", help="the key id (see `maria keys list`)")
    retire.add_argument(
        "--now", action="store_true", help="refuse its tokens at once (a leaked key)"
    )
    keys.set_defaults(func=_keys, kid=None, now=False)
    gen = sub.add_parser("gen-secret", help="print a new random MARIA_SECRET_KEY")
    gen.set_defaults(func=_gen_secret, no_settings=True)
    schema = sub.add_parser(
        "schema", help="print the OpenAPI (HTTP) or AsyncAPI (room socket) document as JSON"
    )
    schema.add_argument("document", choices=["openapi", "asyncapi"])
    schema.set_defaults(func=_schema, no_settings=True)
    return p


def main(argv: list[str] | None = None) -> int:
    from maria.logs import configure

    args = parser().parse_args(argv)
    try:
        settings = None if getattr(args, "no_settings", False) else load_settings()
    except ConfigError as exc:
        print(f"maria: {exc}", file=sys.stderr)
        return 2
    configure((settings.log_format if settings is not None else None) or "text")
    try:
        return int(args.func(settings, args))
    except CliError as exc:
        print(f"maria: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
