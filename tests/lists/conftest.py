"""Fixtures of the movie-list tests: signed-in users with short calls to the lists API."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import register
from tests.support.lists import Lists


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Lists:
    return Lists(client, await register(client))


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> Lists:
    return Lists(client, await register(client))
