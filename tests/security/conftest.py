"""Real ``maria serve`` processes for the attack suite, one per signing algorithm (SQLite,
short room timings), started once for the whole security suite."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import PASSWORD
from tests.support.rooms import server_env
from tests.support.servers import Server, started

ALGS = ("HS256", "EdDSA", "ES256")


@dataclass
class Target:
    """A server, the algorithm it signs with, and where its data lives."""

    alg: str
    server: Server
    data_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def register(self, name: str = "Tester") -> dict[str, Any]:
        import secrets

        body = {
            "email": f"user-{secrets.token_hex(4)}@example.com",
            "password": PASSWORD,
            "display_name": name,
        }
        response = httpx.post(f"{self.url}/api/v1/auth/register", json=body, timeout=30)
        assert response.status_code == 201, response.text
        session: dict[str, Any] = response.json()
        return session

    def logout(self, session: dict[str, Any]) -> None:
        token = session["access_token"]
        response = httpx.post(
            f"{self.url}/api/v1/auth/logout",
            json={"scope": "local"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert response.status_code == 204, response.text

    def jwks(self) -> dict[str, Any]:
        response = httpx.get(f"{self.url}/.well-known/jwks.json", timeout=30)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


@pytest.fixture(scope="session")
def targets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Target]]:
    tmp = tmp_path_factory.mktemp("security")
    with ExitStack() as stack:
        found: dict[str, Target] = {}
        for alg in ALGS:
            data = tmp / alg / "data"
            env = server_env(data, MARIA_JWT_ALG=alg)
            found[alg] = Target(alg, started(stack, f"security-{alg}", env, tmp), data)
        yield found


@pytest.fixture(params=ALGS)
def target(request: pytest.FixtureRequest, targets: dict[str, Target]) -> Target:
    return targets[request.param]
