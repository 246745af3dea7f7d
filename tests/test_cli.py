"""The ``maria`` command, run as a real process the way an operator runs it."""

from __future__ import annotations

import json
import re
import sqlite3
import stat
import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tests.support.api import PASSWORD, TEST_SECRET
from tests.support.servers import CHEAP_HASHING, MARIA, free_port, maria_env, started


def maria(
    *args: str, env: dict[str, str], cwd: Path, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MARIA), *args],
        input=stdin,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def tables(db: Path) -> dict[str, set[str]]:
    """Table name -> column names of a SQLite file."""
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: {c[1] for c in conn.execute(f'PRAGMA table_info("{n}")')} for n in names}


def user_rows(db: Path, email: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT role FROM users WHERE email = ?", (email,)))


def login(url: str, email: str, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30
    )


# -- gen-secret -----------------------------------------------------------------------


def test_gen_secret_prints_a_fresh_urlsafe_secret(tmp_path: Path) -> None:
    outputs = []
    for _ in range(2):
        done = maria("gen-secret", env=maria_env(), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    for out in outputs:
        assert out.endswith("\n") and out.count("\n") == 1  # one line, usable in $(...)
        secret = out.strip()
        assert len(secret) >= 48
        assert re.fullmatch(r"[A-Za-z0-9_-]+", secret), secret
    assert outputs[0] != outputs[1]


def test_gen_secret_needs_no_valid_configuration(tmp_path: Path) -> None:
    # The command that fixes a bad production setup must run under that setup.
    done = maria("gen-secret", env=maria_env(MARIA_ENV="production"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.strip()) >= 48


# -- schema ---------------------------------------------------------------------------


def test_schema_prints_the_documents_without_a_database(tmp_path: Path) -> None:
    """What a client's build runs to generate its types: no database, no data directory,
    no secret; even the production setting and an unreachable database change nothing."""
    from maria.app import create_app
    from maria.rooms.asyncapi import document
    from tests.support.app import make_settings

    env = maria_env(
        MARIA_ENV="production",
        MARIA_DATA_DIR=str(tmp_path / "data"),
        MARIA_DATABASE_URL="postgresql://nobody@127.0.0.1:9/nothing",
    )
    openapi = maria("schema", "openapi", env=env, cwd=tmp_path)
    asyncapi = maria("schema", "asyncapi", env=env, cwd=tmp_path)
    for done in (openapi, asyncapi):
        assert done.returncode == 0, done.stderr
    app = create_app(make_settings("sqlite+aiosqlite://", tmp_path / "app"))
    assert json.loads(openapi.stdout) == app.openapi()
    assert json.loads(asyncapi.stdout) == document()
    assert not (tmp_path / "data").exists()
    assert (
        "/api/v1/rooms/{room_id}/ws" in json.loads(asyncapi.stdout)["channels"]["room"]["address"]
    )


def test_schema_names_the_documents_it_knows(tmp_path: Path) -> None:
    done = maria("schema", "graphql", env=maria_env(), cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "openapi" in done.stderr and "asyncapi" in done.stderr


# -- migrate --------------------------------------------------------------------------


def test_migrate_creates_the_tables_in_a_fresh_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "does" / "not" / "exist"
    env = maria_env(MARIA_DATA_DIR=str(data))
    done = maria("migrate", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "head" in done.stdout

    schema = tables(data / "maria.db")
    assert {
        "id",
        "email",
        "password_hash",
        "display_name",
        "avatar_url",
        "role",
        "email_verified",
        "disabled",
        "created_at",
    } <= schema["users"]
    assert {"id", "user_id", "revoked_at", "user_agent", "ip", "created_at"} <= schema["sessions"]
    with sqlite3.connect(data / "maria.db") as conn:
        versions = list(conn.execute("SELECT version_num FROM alembic_version"))
    assert len(versions) == 1 and versions[0][0]

    again = maria("migrate", env=env, cwd=tmp_path)  # idempotent
    assert again.returncode == 0, again.stderr
    assert tables(data / "maria.db") == schema


def test_migrate_uses_dot_var_by_default(tmp_path: Path) -> None:
    done = maria("migrate", env=maria_env(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "users" in tables(tmp_path / "var" / "maria.db")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://postgres:hunter2@127.0.0.1:{port}/maria", "cannot reach the database"),
        ("sqlite:////nonexistent-dir-for-maria/x.db", "no directory /nonexistent-dir-for-maria"),
        ("not a url", "MARIA_DATABASE_URL"),
    ],
)
def test_unreachable_database_is_one_clear_line(tmp_path: Path, url: str, says: str) -> None:
    env = maria_env(MARIA_DATABASE_URL=url.format(port=free_port()))
    for command in (["migrate"], ["serve", "--port", str(free_port())]):
        done = maria(*command, env=env, cwd=tmp_path)
        assert done.returncode != 0
        assert says in done.stderr
        assert "Traceback" not in done.stderr
        assert "hunter2" not in done.stderr  # the password is not echoed


# -- create-admin ---------------------------------------------------------------------


def test_create_admin_makes_an_admin_who_can_log_in(tmp_path: Path) -> None:
    env = maria_env(MARIA_SECRET_KEY=TEST_SECRET, MARIA_DATA_DIR=str(tmp_path / "data"))
    email = "Root@Example.com"
    done = maria(
        "create-admin",
        "--email",
        email,
        "--password-stdin",
        env=env,
        cwd=tmp_path,
        stdin=f"{PASSWORD}\n",
    )
    assert done.returncode == 0, done.stderr
    assert user_rows(tmp_path / "data" / "maria.db", "root@example.com") == [("admin",)]

    with ExitStack() as stack:
        server = started(stack, "admin", env, tmp_path)
        response = login(server.url, "root@example.com")
        assert response.status_code == 200, response.text
        session = response.json()
        assert session["user"]["role"] == "admin"
        assert session["user"]["email"] == "root@example.com"
        claims = jwt.decode(
            session["access_token"],
            TEST_SECRET,
            algorithms=["HS256"],
            audience="kinoway",
            issuer="maria",
        )
        assert claims["role"] == "admin"
        assert login(server.url, "root@example.com", "wrong password").status_code == 401


def test_create_admin_promotes_an_existing_user(tmp_path: Path) -> None:
    env = maria_env(
        MARIA_SECRET_KEY=TEST_SECRET, MARIA_DATA_DIR=str(tmp_path / "data"), **CHEAP_HASHING
    )
    email = "someone@example.com"
    with ExitStack() as stack:
        server = started(stack, "promote", env, tmp_path)
        body = {"email": email, "password": "an old passphrase", "display_name": "S"}
        registered = httpx.post(f"{server.url}/api/v1/auth/register", json=body, timeout=30)
        assert registered.status_code == 201, registered.text
        assert registered.json()["user"]["role"] == "user"

        done = maria(
            "create-admin",
            "--email",
            email,
            "--password-stdin",
            env=env,
            cwd=tmp_path,
            stdin=f"{PASSWORD}\n",
        )
        assert done.returncode == 0, done.stderr
        assert user_rows(tmp_path / "data" / "maria.db", email) == [("admin",)]
        assert login(server.url, email, "an old passphrase").status_code == 401
        response = login(server.url, email)
        assert response.status_code == 200, response.text
        assert response.json()["user"]["role"] == "admin"
        assert response.json()["user"]["id"] == registered.json()["user"]["id"]


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("password", "too common"),
        ("12345678", "too common"),
        ("short", "at least 8"),
        ("", "at least 8"),
        ("x" * 129, "at most 128"),
        ("aaaaaaaaaa", "repeated"),
        ("87654321", "must not be a sequence"),
        ("weak2024!", "your email address"),  # the email's local part
        ("admin1234", "your name"),  # the default display name, Admin
        ("kinoway2024", "service's name"),
    ],
)
def test_create_admin_refuses_a_weak_password(tmp_path: Path, password: str, why: str) -> None:
    env = maria_env(MARIA_DATA_DIR=str(tmp_path / "data"))
    done = maria(
        "create-admin",
        "--email",
        "weak@example.com",
        "--password-stdin",
        env=env,
        cwd=tmp_path,
        stdin=f"{password}\n",
    )
    assert done.returncode != 0
    assert done.stderr.startswith("error: ") and why in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    db = tmp_path / "data" / "maria.db"
    assert not db.exists() or user_rows(db, "weak@example.com") == []


@pytest.mark.parametrize("email", ["not-an-email", "two@@example.com", "a@b", "x" * 330])
def test_create_admin_refuses_what_registration_refuses(tmp_path: Path, email: str) -> None:
    env = maria_env(MARIA_DATA_DIR=str(tmp_path / "data"))
    done = maria(
        "create-admin",
        "--email",
        email,
        "--password-stdin",
        env=env,
        cwd=tmp_path,
        stdin="a fine long passphrase\n",
    )
    assert done.returncode != 0
    assert done.stderr.startswith("error: ") and "email" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "maria.db").exists()


# -- serve: production secrets --------------------------------------------------------


@pytest.mark.parametrize(
    "secret", [None, "0123456789", "é" * 15], ids=["missing", "10-bytes", "30-bytes"]
)
def test_production_refuses_to_start_without_a_strong_secret(
    tmp_path: Path, secret: str | None
) -> None:
    values = {"MARIA_ENV": "production", "MARIA_DATA_DIR": str(tmp_path / "data")}
    if secret is not None:
        values["MARIA_SECRET_KEY"] = secret
    port = free_port()
    done = maria("serve", "--port", str(port), env=maria_env(**values), cwd=tmp_path, timeout=60)
    assert done.returncode != 0
    assert "MARIA_SECRET_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "data" / "secret.key").exists()  # no silent fallback


def test_production_starts_with_a_strong_secret(tmp_path: Path) -> None:
    # 16 two-byte characters: 32 bytes, the minimum, counted in bytes not characters.
    env = maria_env(
        MARIA_ENV="production", MARIA_SECRET_KEY="é" * 16, MARIA_DATA_DIR=str(tmp_path / "data")
    )
    with ExitStack() as stack:
        server = started(stack, "prod", env, tmp_path)
        assert httpx.get(f"{server.url}/healthz").status_code == 200
    assert not (tmp_path / "data" / "secret.key").exists()


# -- serve: no configuration at all ---------------------------------------------------


def test_no_configuration_generates_a_private_secret_and_reuses_it(tmp_path: Path) -> None:
    env = maria_env()  # nothing set: development, ./var, generated secret
    key = tmp_path / "var" / "secret.key"
    with ExitStack() as stack:
        first = started(stack, "first", env, tmp_path)
        assert key.is_file()
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert (tmp_path / "var" / "maria.db").is_file()
        assert "MARIA_SECRET_KEY is not set" in first.log()
        assert str(key) in first.log() or "secret.key" in first.log()
        body = {"email": "first@example.com", "password": PASSWORD, "display_name": "F"}
        response = httpx.post(f"{first.url}/api/v1/auth/register", json=body, timeout=30)
        assert response.status_code == 201, response.text
        session = response.json()
        assert first.stop() is not None
    secret = key.read_bytes()
    assert len(secret.strip()) >= 48
    assert not [p.name for p in key.parent.iterdir() if p.name.startswith(".secret")]

    # The token is signed with the file's bytes, so any JWT library holding them verifies it.
    claims = jwt.decode(
        session["access_token"],
        secret.strip(),
        algorithms=["HS256"],
        audience="kinoway",
        issuer="maria",
    )
    assert claims["sub"] == session["user"]["id"]

    with ExitStack() as stack:
        second = started(stack, "second", env, tmp_path)
        assert key.read_bytes() == secret
        assert "MARIA_SECRET_KEY is not set" not in second.log()
        me = httpx.get(
            f"{second.url}/api/v1/users/me",
            headers={"Authorization": f"Bearer {session['access_token']}"},
        )
        assert me.status_code == 200, me.text
        assert me.json()["email"] == "first@example.com"
        refreshed = httpx.post(
            f"{second.url}/api/v1/auth/refresh",
            json={"refresh_token": session["refresh_token"]},
            timeout=30,
        )
        assert refreshed.status_code == 200, refreshed.text


def test_workers_share_one_generated_secret(tmp_path: Path) -> None:
    env = maria_env(MARIA_DATA_DIR=str(tmp_path / "data"), **CHEAP_HASHING)
    with ExitStack() as stack:
        server = started(stack, "workers", env, tmp_path, "--workers", "2")
        secret = (tmp_path / "data" / "secret.key").read_bytes().strip()
        body = {"email": "w@example.com", "password": PASSWORD, "display_name": "W"}
        response = httpx.post(f"{server.url}/api/v1/auth/register", json=body, timeout=30)
        assert response.status_code == 201, response.text
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        # A new connection each time, so both workers answer some of these.
        for _ in range(30):
            me = httpx.get(f"{server.url}/api/v1/users/me", headers=headers, timeout=10)
            assert me.status_code == 200, me.text
        token = httpx.post(
            f"{server.url}/api/v1/auth/token",
            data={"username": "w@example.com", "password": PASSWORD},
            timeout=30,
        ).json()["access_token"]
        jwt.decode(token, secret, algorithms=["HS256"], audience="kinoway", issuer="maria")


# -- help and make --------------------------------------------------------------------


def test_help_reads_as_plain_text(tmp_path: Path) -> None:
    for args in ((), ("serve",), ("migrate",), ("keys",)):
        done = maria(*args, "--help", env=maria_env(), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        text = done.stdout
        for markup in ("``", "**", ":func:", ":class:", ".. ", "`maria"):
            assert markup not in text, (args, markup, text)
        assert text.startswith("usage: maria")
    top = maria("--help", env=maria_env(), cwd=tmp_path).stdout
    for command in ("serve", "migrate", "create-admin", "keys", "gen-secret"):
        assert re.search(rf"^\s+{command}\b", top, re.M), (command, top)
    serve = maria("serve", "--help", env=maria_env(), cwd=tmp_path).stdout
    for option in ("--host", "--port", "--workers", "--access-log", "--no-migrate"):
        assert re.search(rf"^\s+{option}\b.*\S", serve, re.M), (option, serve)


def test_make_run_takes_host_and_port() -> None:
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        ["make", "-n", "-C", str(root), "run", "HOST=0.0.0.0", "PORT=9123", f"STAMP={__file__}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "maria serve --host 0.0.0.0 --port 9123" in done.stdout
    default = subprocess.run(
        ["make", "-n", "-C", str(root), "run", f"STAMP={__file__}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "maria serve --host 127.0.0.1 --port 8000" in default.stdout
