"""Items: idempotent PUT and DELETE, one item, notes, counts, updated_at, bad input."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.api import assert_error
from tests.support.lists import Lists

ITEM_FIELDS = {"movie_id", "added_at", "note"}


async def test_put_is_201_then_200(alice: Lists) -> None:
    first = await alice.put("favorites", 435)
    assert first.status_code == 201
    item = first.json()
    assert set(item) == ITEM_FIELDS and item["movie_id"] == 435 and item["note"] is None
    again = await alice.put("favorites", 435)
    assert again.status_code == 200
    assert again.json() == item  # same added_at: re-adding doesn't move it
    assert (await alice.get("favorites"))["count"] == 1
    assert await alice.walk("favorites") == [435]


async def test_get_one_item(alice: Lists) -> None:
    await alice.put("watch-later", 12, json={"note": "with Ann"})
    response = await alice.request("GET", "/watch-later/items/12")
    assert response.status_code == 200
    assert response.json()["note"] == "with Ann"
    assert_error(await alice.request("GET", "/watch-later/items/13"), 404, "not_found")
    assert_error(await alice.request("GET", "/favorites/items/12"), 404, "not_found")


async def test_delete_is_idempotent(alice: Lists) -> None:
    await alice.add("favorites", 1, 2)
    assert (await alice.remove("favorites", 1)).status_code == 204
    assert (await alice.remove("favorites", 1)).status_code == 204
    assert (await alice.remove("favorites", 999)).status_code == 204
    assert await alice.walk("favorites") == [2]
    assert (await alice.get("favorites"))["count"] == 1
    # Removed and added again: it's new again.
    assert (await alice.put("favorites", 1)).status_code == 201


async def test_notes(alice: Lists) -> None:
    created = await alice.put("favorites", 5, json={"note": "first"})
    assert created.status_code == 201 and created.json()["note"] == "first"
    # No body, an empty body or a body without "note": the note stays.
    assert (await alice.put("favorites", 5)).json()["note"] == "first"
    assert (await alice.put("favorites", 5, json={})).json()["note"] == "first"
    assert (await alice.put("favorites", 5, json=None)).json()["note"] == "first"
    changed = await alice.put("favorites", 5, json={"note": "second"})
    assert changed.status_code == 200 and changed.json()["note"] == "second"
    assert (await alice.request("GET", "/favorites/items/5")).json()["note"] == "second"
    # null and "" clear it.
    assert (await alice.put("favorites", 5, json={"note": None})).json()["note"] is None
    await alice.put("favorites", 5, json={"note": "again"})
    assert (await alice.put("favorites", 5, json={"note": ""})).json()["note"] is None
    # Unicode and newlines are fine, up to 500 characters.
    note = "Ночью, с попкорном 🍿\n" + "я" * 479
    assert len(note) == 500
    assert (await alice.put("favorites", 6, json={"note": note})).json()["note"] == note


async def test_note_limits(alice: Lists) -> None:
    response = await alice.put("favorites", 5, json={"note": "x" * 501})
    assert_error(response, 422, "validation_error")
    response = await alice.put("favorites", 5, json={"note": "x" * 2_000_000})
    assert_error(response, 413, "payload_too_large")
    for body in ({"note": 5}, {"note": ["x"]}, {"note": "a\x00b"}, {"nope": 1}, [1], "note"):
        assert_error(await alice.put("favorites", 5, json=body), 422, "validation_error")
    response = await alice.put(
        "favorites",
        5,
        content=b'{"note": "\\udfff"}',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 422, "validation_error")
    assert_error(
        await alice.put(
            "favorites", 5, content=b"{not json", headers={"Content-Type": "application/json"}
        ),
        422,
        "validation_error",
    )
    assert (await alice.get("favorites"))["count"] == 0


@pytest.mark.parametrize(
    "movie_id", ["0", "-5", "1e30", "abc", "2147483648", "99999999999999999999999", "1.5", "%00"]
)
async def test_bad_movie_ids(alice: Lists, movie_id: str) -> None:
    for method in ("PUT", "GET", "DELETE"):
        response = await alice.request(method, f"/favorites/items/{movie_id}")
        assert_error(response, 422, "validation_error")


async def test_largest_movie_id(alice: Lists) -> None:
    assert (await alice.put("favorites", 2**31 - 1)).status_code == 201
    assert await alice.walk("favorites") == [2**31 - 1]


async def test_updated_at_follows_every_change(alice: Lists) -> None:
    stamps = [(await alice.get("favorites"))["updated_at"]]

    async def changed() -> None:
        stamps.append((await alice.get("favorites"))["updated_at"])
        assert stamps[-1] > stamps[-2]

    async def unchanged() -> None:
        assert (await alice.get("favorites"))["updated_at"] == stamps[-1]

    await alice.put("favorites", 1)
    await changed()
    await alice.put("favorites", 1)  # already there
    await unchanged()
    await alice.put("favorites", 1, json={"note": "n"})
    await changed()
    await alice.put("favorites", 1, json={"note": "n"})  # same note
    await unchanged()
    await alice.remove("favorites", 1)
    await changed()
    await alice.remove("favorites", 1)  # already gone
    await unchanged()
    await alice.request("PATCH", "/favorites", json={"is_public": True})
    await changed()
    await alice.import_({"favorites": [1, 2]})
    await changed()
    await alice.import_({"favorites": [1, 2]})  # nothing new
    await unchanged()


async def test_item_limit(alice: Lists) -> None:
    full = list(range(1, 10_001))
    response = await alice.import_({"watch-later": full})
    assert response.json() == {"added": 10_000, "existing": 0, "skipped": 0}
    assert (await alice.get("watch-later"))["count"] == 10_000
    assert_error(await alice.put("watch-later", 10_001), 409, "conflict")
    # Already there is still fine (idempotent), and removing one makes room.
    assert (await alice.put("watch-later", 10_000)).status_code == 200
    assert (await alice.remove("watch-later", 1)).status_code == 204
    assert (await alice.put("watch-later", 10_001)).status_code == 201
    assert_error(await alice.put("watch-later", 10_002), 409, "conflict")
    assert (await alice.get("watch-later"))["count"] == 10_000


async def test_twenty_concurrent_puts_of_one_movie(alice: Lists) -> None:
    """Exactly one 201, nineteen 200s, one row (SQLite and Postgres alike)."""
    responses = await asyncio.gather(*(alice.put("favorites", 777) for _ in range(20)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 19 + [201], [r.text for r in responses if r.status_code >= 300]
    assert len({r.json()["added_at"] for r in responses}) == 1
    assert (await alice.get("favorites"))["count"] == 1
    assert await alice.walk("favorites") == [777]


async def test_concurrent_puts_and_deletes_keep_count_exact(alice: Lists) -> None:
    await alice.add("favorites", *range(1, 11))
    calls: list[Any] = []
    for movie_id in range(1, 21):
        calls.append(alice.put("favorites", movie_id))
        calls.append(alice.remove("favorites", movie_id + 100))
    for movie_id in range(1, 6):
        calls.append(alice.remove("favorites", movie_id))
    responses = await asyncio.gather(*calls)
    assert all(r.status_code < 300 for r in responses)
    present = await alice.walk("favorites")
    assert (await alice.get("favorites"))["count"] == len(present)
    assert len(present) == len(set(present))
