"""Fixtures of the room tests: ``maria serve`` processes with short room timings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.support.rooms import Api, server_env
from tests.support.servers import Server, started
from tests.support.services import fresh_postgres


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One ``maria serve`` (no Redis) per test module and database."""
    tmp = tmp_path_factory.mktemp(f"rooms-{request.param}")
    with ExitStack() as stack:
        extra = {}
        if request.param == "postgres":
            extra["MARIA_DATABASE_URL"] = stack.enter_context(fresh_postgres())
        yield started(stack, f"rooms-{request.param}", server_env(tmp / "data", **extra), tmp)


@pytest.fixture
async def api(server: Server) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield Api(client)
