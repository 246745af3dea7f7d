"""Fixtures of the room tests: ``maria serve`` processes with short room timings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.rooms.live import Api, fresh_postgres
from tests.test_multiprocess import CHEAP_HASHING, Server, maria_env, started

# Short room timings, so that the tests wait seconds, not minutes.
ROOM_TIMINGS = {
    "MARIA_ROOM_HOST_GRACE": "1",
    "MARIA_ROOM_RECONNECT_GRACE": "1.5",
    "MARIA_ROOM_AUTH_TIMEOUT": "1",
    "MARIA_ROOM_CHAT_LIMIT": "20",
    "MARIA_ROOM_CHAT_WINDOW": "2",
    "MARIA_CORS_ORIGINS": "http://kinoway.test",
}


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return maria_env(
        MARIA_SECRET_KEY=TEST_SECRET,
        MARIA_DATA_DIR=str(data_dir),
        **CHEAP_HASHING,
        **ROOM_TIMINGS,
        **extra,
    )


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
