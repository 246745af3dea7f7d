"""Playback changes that keep losing the race: ``conflict`` (contention), not ``forbidden``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from maria.db import Database
from maria.errors import Conflict
from maria.rooms import store
from tests.support.api import bearer, register


@contextmanager
def rival(database: Database, room_id: str) -> Iterator[list[int]]:
    """Another member's change lands between every read and write of ours: just before
    each compare-and-set ``UPDATE`` of the room, its ``playback_seq`` moves on."""
    bumps: list[int] = []
    bump = f"UPDATE rooms SET playback_seq = playback_seq + 1 WHERE id = '{room_id}'"

    def before(_conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        if sql.lstrip().upper().startswith("UPDATE ROOMS SET PLAYBACK_STATE"):
            cursor.execute(bump)
            bumps.append(1)

    from sqlalchemy import event

    for engine in database.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield bumps
    finally:
        for engine in database.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", before)


async def test_a_change_that_always_loses_the_race_is_a_conflict(
    app: Any, client: httpx.AsyncClient
) -> None:
    ann = await register(client)
    response = await client.post("/api/v1/rooms", json={"movie_id": 5}, headers=bearer(ann))
    room = response.json()
    database = app.state.services.database
    with rival(database, room["id"]) as bumps, pytest.raises(Conflict) as refused:
        await store.change_playback(
            database, room["id"], user_id=ann["user"]["id"], action="seek", position=10.0
        )
    assert refused.value.code == "conflict" and refused.value.status == 409
    assert "too fast" in refused.value.message
    assert len(bumps) == 10  # every try lost
    # Without the rival, the same change goes through.
    state = await store.change_playback(
        database, room["id"], user_id=ann["user"]["id"], action="seek", position=10.0
    )
    assert state.position == 10.0
