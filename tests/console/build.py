"""The console's build (``console/build.mjs``) run by the tests: Node and npm are part of
this project's machines; without them the check skips with the reason (fails under
``MARIA_TEST_REQUIRE_SERVICES=1``). Packages come from the committed lock files."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.services import REQUIRE_SERVICES

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "console"
CLIENT = ROOT / "clients" / "typescript"


def need_node() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        reason = "node and npm are not on PATH: the console's bundle is built with esbuild"
        if REQUIRE_SERVICES:
            pytest.fail(f"MARIA_TEST_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)


def _npm(args: list[str], cwd: Path) -> None:
    done = subprocess.run(
        ["npm", *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"npm {' '.join(args)} in {cwd}:\n{done.stdout}\n{done.stderr}"


def installed() -> None:
    """``npm ci`` in the client and the console when their packages are missing (a lock
    file keeps parallel runs from racing)."""
    with (CONSOLE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for folder, probe in ((CLIENT, "openapi-fetch"), (CONSOLE, "esbuild")):
            if not (folder / "node_modules" / probe / "package.json").exists():
                _npm(["ci", "--no-audit", "--no-fund", "--loglevel=error"], folder)


def build(out: Path) -> None:
    """``node build.mjs OUT``: builds the client, type-checks and bundles the console."""
    need_node()
    installed()
    with (CONSOLE / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the client's dist/ is rebuilt in place
        done = subprocess.run(
            ["node", "build.mjs", str(out)],
            cwd=CONSOLE,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    assert done.returncode == 0, f"the console's build failed:\n{done.stdout}\n{done.stderr}"
