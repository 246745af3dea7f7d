"""Other tools in another language, as Node.js scripts: one verifies Maria's tokens with the
npm package ``jose``, holding only the JWK Set's URL (``tests/security/node``); one checks
the AsyncAPI document with AsyncAPI's own parser (``tests/rooms/asyncapi``).

Node is part of the machines this project runs on; without it the tests that need it skip
with the reason (fail under ``MARIA_TEST_REQUIRE_SERVICES=1``). Each script's packages are
installed with ``npm ci`` from its committed lock file the first time they are missing.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.services import REQUIRE_SERVICES

TESTS = Path(__file__).resolve().parent.parent
NODE_DIR = TESTS / "security" / "node"
ASYNCAPI_DIR = TESTS / "rooms" / "asyncapi"


def _node(what: str = "verifies tokens with Node's jose") -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = f"node and npm are not on PATH: this test {what}"
        if REQUIRE_SERVICES:
            pytest.fail(f"MARIA_TEST_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return node


def _installed(directory: Path = NODE_DIR, package: str = "jose") -> None:
    """``npm ci`` once (a lock file keeps parallel test runs from racing)."""
    with (directory / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (directory / "node_modules" / package / "package.json").exists():
            return
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"


def jose_verify(
    jwks_url: str, alg: str, tokens: list[str], *, issuer: str = "maria", audience: str = "kinoway"
) -> list[dict[str, Any]]:
    """One verdict per token: ``{"ok": True, "kid", "sub"}`` or ``{"ok": False, "code"}``."""
    node = _node()
    _installed()
    done = subprocess.run(
        [node, "verify.mjs", jwks_url, issuer, audience, alg, *tokens],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"node failed:\n{done.stdout}\n{done.stderr}"
    verdicts = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert len(verdicts) == len(tokens), done.stdout
    return verdicts


def asyncapi_findings(document: bytes) -> list[dict[str, Any]]:
    """What ``@asyncapi/parser`` finds in ``document``: ``{severity, code, message, path}``
    each, severity 0 for errors."""
    node = _node("checks the AsyncAPI document with AsyncAPI's own parser")
    _installed(ASYNCAPI_DIR, "@asyncapi/parser")
    done = subprocess.run(
        [node, "validate.mjs"],
        cwd=ASYNCAPI_DIR,
        input=document,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, f"node failed:\n{done.stdout!r}\n{done.stderr!r}"
    return [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]
