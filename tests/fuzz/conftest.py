"""The fuzz tests' server: one ``maria serve`` on Postgres and Redis, with an account."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from tests.fuzz.account import Account
from tests.support.api import PASSWORD, TEST_SECRET
from tests.support.servers import CHEAP_HASHING, MARIA, Server, maria_env, started
from tests.support.services import flushed_redis, fresh_postgres


@pytest.fixture(scope="package")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    redis_url = flushed_redis()
    tmp = tmp_path_factory.mktemp("fuzz")
    with ExitStack() as stack:
        env = maria_env(
            MARIA_SECRET_KEY=TEST_SECRET,
            MARIA_DATA_DIR=str(tmp / "data"),
            MARIA_DATABASE_URL=stack.enter_context(fresh_postgres("maria_fuzz")),
            MARIA_REDIS_URL=redis_url,
            MARIA_ROOM_CHAT_LIMIT="1000000",  # test_frames: every valid chat line is answered
            **CHEAP_HASHING,
        )
        yield started(stack, "fuzz", env, tmp)


@pytest.fixture(scope="package")
def account(fuzz_server: Server) -> Account:
    account = Account(fuzz_server.url, f"fuzz-{secrets.token_hex(4)}@example.com", PASSWORD)
    account.register()
    return account


@pytest.fixture(scope="package")
def admin(fuzz_server: Server) -> Account:
    """The server's only admin (so the fuzzer can neither demote, disable nor delete it)."""
    admin = Account(fuzz_server.url, f"admin-{secrets.token_hex(4)}@example.com", PASSWORD)
    done = subprocess.run(
        [str(MARIA), "create-admin", "--email", admin.email, "--password-stdin"],
        env=fuzz_server.env,
        cwd=fuzz_server.cwd,
        input=f"{admin.password}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return admin
