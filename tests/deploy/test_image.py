"""The image's command works on a read-only root filesystem, with only its volumes writable,
as ``docker run --read-only`` (or Kubernetes' readOnlyRootFilesystem) runs it.

No container engine here: the process runs in a mount namespace of its own (``unshare``)
where ``/`` is remounted read-only and ``/tmp`` is a writable mount (the data folder is in
it), so everything else of this machine (the virtualenv, the source) is read-only. The
environment is the Dockerfile's. It runs as root (the interpreter here lives under /root,
which the image's user could not read; read-only mounts bind root too); the image's user is
checked in ``test_manifests.py``.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.api import PASSWORD, TEST_SECRET, bearer
from tests.support.deploy import dockerfile_stages, exec_form
from tests.support.rooms import Peer
from tests.support.servers import MARIA, Server, free_port, maria_env
from tests.support.services import REQUIRE_SERVICES

# Inside the namespace: private mounts, /tmp a writable mount of its own (the test's data
# folder, the image's /var/lib/maria, lives there too), then / read-only.
CONFINE = """\
set -e
mount --make-rprivate /
mount --bind /tmp /tmp
mount -o remount,bind,ro /
exec "$@"
"""


def can_confine() -> str | None:
    """Why a read-only mount namespace cannot be made here, or None."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    # The root itself: a checkout under /tmp (a CI clone may be one) stays writable inside.
    # Where the root is writable after all, the probe file is removed again.
    touch = "touch /.read-only-probe && rm /.read-only-probe"
    probe = subprocess.run(
        ["unshare", "--mount", "sh", "-c", CONFINE, "sh", "sh", "-c", touch],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if "Read-only file system" not in probe.stderr:
        return f"no read-only mount namespace here: {probe.stderr.strip() or 'writable'}"
    return None


@pytest.fixture
def image_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    reason = can_confine()
    if reason is not None:
        if REQUIRE_SERVICES:
            pytest.fail(f"MARIA_TEST_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    env = dockerfile_stages()[-1].env()
    env.pop("PATH")
    data = tmp_path / "data"
    data.mkdir()
    env.update(
        MARIA_DATA_DIR=str(data),  # the image's /var/lib/maria volume (under /tmp here)
        MARIA_SECRET_KEY=TEST_SECRET,  # production needs one
        MARIA_ARGON2_MEMORY_KIB="1024",
        MARIA_ARGON2_TIME_COST="1",
    )
    yield maria_env(**env)


def image_command() -> list[str]:
    command = exec_form(dockerfile_stages()[-1].last("CMD") or "")
    assert command[:2] == ["maria", "serve"]
    return command


@pytest.mark.parametrize("workers", [1, 2])
def test_the_image_command_serves_on_a_read_only_root(
    image_env: dict[str, str], tmp_path: Path, workers: int
) -> None:
    extra = ("--workers", str(workers)) if workers > 1 else ()
    with ExitStack() as stack:
        server = ConfinedServer("read-only", image_env, tmp_path, extra)
        stack.callback(server.stop)
        server.start()
        asyncio.run(use_everything(server.url))
        log = server.log()
    assert "Read-only file system" not in log and "Traceback" not in log, log
    written = {p.name for p in (tmp_path / "data").iterdir()}
    assert {"maria.db", "outbox"} <= written  # what it wrote went to its volume


class ConfinedServer(Server):
    """The image's CMD (host and port made loopback ones) inside ``CONFINE``."""

    def spawn(self) -> None:
        self.port = free_port()
        command = image_command()
        argv = [str(MARIA), *command[1:2], "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                ["unshare", "--mount", "sh", "-c", CONFINE, "sh", *argv, *self.args],
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


async def use_everything(base: str) -> None:
    """Sign-up (a mail file), sign-in, a room with chat, metrics: all that writes."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        email = "ro@example.com"
        reg = await client.post(
            "/api/v1/auth/register",
            json={"email": email, "password": PASSWORD, "display_name": "Ro"},
        )
        assert reg.status_code == 201, reg.text
        login = await client.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD})
        session = login.json()
        room = await client.post("/api/v1/rooms", json={"movie_id": 1}, headers=bearer(session))
        peer = await Peer.open(base, room.json()["id"], session["access_token"])
        await peer.send({"type": "chat", "text": "read-only"})
        await peer.expect("chat")
        await peer.close()
        assert (await client.get("/metrics")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200
