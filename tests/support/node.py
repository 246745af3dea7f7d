"""Another service in another language: a Node.js script that verifies Maria's tokens with
the npm package ``jose``, holding only the JWK Set's URL (``tests/security/node``).

Node is part of the machines this project runs on; without it the tests that need it skip
with the reason (fail under ``MARIA_TEST_REQUIRE_SERVICES=1``). The package is installed
with ``npm ci`` from the committed lock file the first time it is missing.
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

NODE_DIR = Path(__file__).resolve().parent.parent / "security" / "node"


def _node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are not on PATH: this test verifies tokens with Node's jose"
        if REQUIRE_SERVICES:
            pytest.fail(f"MARIA_TEST_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return node


def _installed() -> None:
    """``npm ci`` once (a lock file keeps parallel test runs from racing)."""
    with (NODE_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (NODE_DIR / "node_modules" / "jose" / "package.json").exists():
            return
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_DIR,
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
