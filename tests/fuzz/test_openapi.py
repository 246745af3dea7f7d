"""schemathesis against ``maria serve``: every operation of ``/openapi.json``, signed in.

For every generated request, valid or not: never a 500; the answer is one the schema
documents (status code, headers, content type, body); what the schema allows is accepted
and what it forbids is refused, so the schema states every rule the server enforces;
methods a path lacks get 405 with an ``Allow`` header naming all those it has. The
stateful phase follows the links schemathesis finds (a list created, then read, changed,
deleted). Settings are in ``schemathesis.toml`` (a fixed seed and example count, so CI runs
the same cases each time); ``hooks.py`` signs in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.account import Account
from tests.support.servers import Server

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def fuzz(
    server: Server, account: Account, auth: str, *args: str, protect: tuple[Account, ...] = ()
) -> None:
    env = {
        **os.environ,
        "FUZZ_BASE_URL": server.url,
        "FUZZ_EMAIL": account.email,
        "FUZZ_PASSWORD": account.password,
        "FUZZ_AUTH": auth,
        "FUZZ_PROTECTED": ",".join(a.user_id() for a in (account, *protect)),
    }
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "--no-color",
        "run",
        f"{server.url}/openapi.json",
        *args,
    ]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    print(done.stdout[-3000:])
    if done.returncode != 0:
        pytest.fail(f"schemathesis exited {done.returncode}:\n{done.stdout}\n{done.stderr}")


def test_every_operation_with_a_bearer_token(fuzz_server: Server, account: Account) -> None:
    """All phases, stateful included; as a user, the admin operations answer 403."""
    fuzz(fuzz_server, account, "bearer")


def test_the_admin_operations_as_an_admin(
    fuzz_server: Server, admin: Account, account: Account
) -> None:
    """Without the stateful phase: its scenarios cost a minute here for seven operations,
    and its links could hand it the test's own accounts to demote or delete."""
    fuzz(
        fuzz_server,
        admin,
        "bearer",
        "--include-path-regex",
        "^/api/v1/admin/",
        "--phases",
        "examples,coverage,fuzzing",
        protect=(account,),
    )


def test_every_operation_with_the_session_cookies(fuzz_server: Server, account: Account) -> None:
    """A browser's credentials: the access cookie, and the CSRF header on unsafe methods."""
    fuzz(
        fuzz_server,
        account,
        "cookie",
        "--max-examples",
        "10",
        "--phases",
        "examples,coverage,fuzzing",
    )
