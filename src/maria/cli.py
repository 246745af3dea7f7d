"""The ``maria`` command: serve, migrate, create-admin, gen-secret."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import secrets
import sys

from maria.config import ConfigError, Settings, load_settings

log = logging.getLogger("maria")


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from maria.migrate import upgrade

    upgrade(settings.resolved_database_url)
    _ = settings.secret  # create the generated secret once, before workers race for it
    uvicorn.run(
        "maria.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        access_log=args.access_log,
        proxy_headers=True,
        log_level="info",
    )
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from maria.migrate import upgrade

    upgrade(settings.resolved_database_url, args.revision)
    print(f"database at {args.revision}")
    return 0


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from maria.admin_setup import create_admin
    from maria.auth.passwords import password_problem
    from maria.migrate import upgrade

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    if password is None:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 1
    problem = password_problem(password)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    upgrade(settings.resolved_database_url)
    outcome = asyncio.run(create_admin(settings, args.email, args.display_name, password))
    print(outcome)
    return 0


def _gen_secret(_: Settings | None, __: argparse.Namespace) -> int:
    print(secrets.token_urlsafe(48))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="maria", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate the database, then serve HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--access-log", action="store_true", help="log every request")
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
    gen = sub.add_parser("gen-secret", help="print a new random MARIA_SECRET_KEY")
    gen.set_defaults(func=_gen_secret, no_settings=True)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    if getattr(args, "no_settings", False):
        return int(args.func(None, args))
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"maria: {exc}", file=sys.stderr)
        return 2
    return int(args.func(settings, args))


if __name__ == "__main__":
    sys.exit(main())
