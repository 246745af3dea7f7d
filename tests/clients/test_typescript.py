"""The TypeScript client (``clients/typescript``, npm package ``@kinoway/maria``), built and
tested the one way there is: ``npm ci`` from the committed lock file (when ``node_modules``
is missing or older than the lock), ``npm run build`` (tsc, strict), then the package's
Node test runner (``scripts/test.mjs``), whose tests start real ``maria serve`` processes of
this checkout. ``make test`` (and so ``.ci/run``) runs it like every other test.

The Node tests run twice: on SQLite, and on a fresh Postgres database with Redis when
``MARIA_TEST_POSTGRES_URL``/``MARIA_TEST_REDIS_URL`` are set. Without ``node``/``npm`` on
PATH everything here skips with the reason (fails under ``MARIA_TEST_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import difflib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.services import (
    POSTGRES_URL,
    REDIS_URL,
    REQUIRE_SERVICES,
    fresh_postgres,
    need_service,
)

PACKAGE = Path(__file__).resolve().parents[2] / "clients" / "typescript"
GENERATED = PACKAGE / "src" / "generated"
STAMP = PACKAGE / "node_modules" / ".maria-lock-sha256"


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        reason = "node and npm are not on PATH: the TypeScript client is built and tested with them"
        if REQUIRE_SERVICES:
            pytest.fail(f"MARIA_TEST_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return node, npm


def _run(args: list[str], what: str, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    done = subprocess.run(
        args, cwd=PACKAGE, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    output = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, f"{what} failed (exit {done.returncode}):\n{output[-20_000:]}"
    return output


def _install(npm: str) -> None:
    """``npm ci`` when node_modules is missing or was installed from another lock file (a
    file lock keeps parallel runs from installing at once)."""
    lock_hash = hashlib.sha256((PACKAGE / "package-lock.json").read_bytes()).hexdigest()
    with (PACKAGE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if STAMP.exists() and STAMP.read_text() == lock_hash:
            return
        _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci", timeout=300)
        STAMP.write_text(lock_hash)


@pytest.fixture(scope="module")
def built() -> str:
    """The installed and compiled package; the path of ``node``."""
    node, npm = _tools()
    _install(npm)
    _run([npm, "run", "build"], "npm run build (tsc)")
    return node


@pytest.mark.parametrize("name", ["openapi.ts", "frames.ts"])
def test_generated_types_are_what_the_server_documents_generate(
    built: str, tmp_path: Path, name: str
) -> None:
    """The drift check: this checkout's ``maria schema openapi`` (through openapi-typescript)
    and ``maria schema asyncapi`` (its frame schemas, through json-schema-to-typescript) must
    give the committed src/generated files, byte for byte."""
    maria = str(Path(sys.executable).with_name("maria"))
    env = {**os.environ, "MARIA_COMMAND": maria}
    _run([built, "scripts/generate.mjs", "--out-dir", str(tmp_path)], "generating", env=env)
    committed, generated = (GENERATED / name).read_text(), (tmp_path / name).read_text()
    if committed != generated:
        diff = difflib.unified_diff(
            committed.splitlines(), generated.splitlines(), "committed", "generated", lineterm=""
        )
        excerpt = "\n".join(list(diff)[:80])
        pytest.fail(
            f"clients/typescript/src/generated/{name} differs from what the server's documents "
            f"generate; run `npm run generate` in clients/typescript and commit it:\n{excerpt}"
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgres+redis"])
def test_node_tests_against_live_maria(built: str, backend: str) -> None:
    """``scripts/test.mjs``: every ``build/test/*.test.js`` with ``node --test``, each file
    starting its own ``maria serve`` (see test/support/server.ts)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARIA_")}
    env["MARIA_SERVER"] = str(Path(sys.executable).with_name("maria"))
    with ExitStack() as stack:
        if backend == "postgres+redis":
            need_service("MARIA_TEST_POSTGRES_URL", POSTGRES_URL)
            env["MARIA_CLIENT_TEST_REDIS_URL"] = need_service("MARIA_TEST_REDIS_URL", REDIS_URL)
            database = stack.enter_context(fresh_postgres("maria_ts_client"))
            env["MARIA_CLIENT_TEST_DATABASE_URL"] = database
        output = _run([built, "scripts/test.mjs"], f"the Node tests ({backend})", env=env)
    totals = ("# tests ", "# pass ", "# fail ", "# duration_ms ")
    summary = [line for line in output.splitlines() if line.startswith(totals)]
    print("\n".join(summary))
    assert "# fail 0" in summary and any(
        line.startswith("# pass ") and line != "# pass 0" for line in summary
    ), output[-5_000:]
