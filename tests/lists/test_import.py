"""POST /import: merge without duplicates, order kept, skip non-ids, all or nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.api import assert_error
from tests.support.lists import Lists


async def _items(lists: Lists, slug: str) -> list[dict[str, Any]]:
    response = await lists.page(slug, limit=100, order="oldest")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_import_into_empty_lists_keeps_array_order(alice: Lists) -> None:
    response = await alice.import_({"favorites": [30, 10, 20], "watch-later": [5, 6]})
    assert response.status_code == 200
    assert response.json() == {"added": 5, "existing": 0, "skipped": 0}
    # First element oldest: oldest-first reads the array back as sent, newest-first reversed.
    assert await alice.walk("favorites", order="oldest") == [30, 10, 20]
    assert await alice.walk("favorites") == [20, 10, 30]
    assert await alice.walk("watch-later", order="oldest") == [5, 6]
    stamps = [item["added_at"] for item in await _items(alice, "favorites")]
    assert stamps == sorted(stamps) and len(set(stamps)) == 3
    lists = {x["slug"]: x["count"] for x in await alice.all()}
    assert lists == {"favorites": 3, "watch-later": 2}


async def test_import_merges_after_existing_items(alice: Lists) -> None:
    await alice.put("favorites", 1, json={"note": "keep me"})
    await alice.add("favorites", 2)
    before = {i["movie_id"]: i for i in await _items(alice, "favorites")}
    response = await alice.import_({"favorites": [3, 2, 4, 1, 3, 5]})
    assert response.json() == {"added": 3, "existing": 3, "skipped": 0}
    items = await _items(alice, "favorites")
    assert [i["movie_id"] for i in items] == [1, 2, 3, 4, 5]
    # Items already there keep their place, timestamp and note.
    assert items[0] == before[1] and items[1] == before[2]
    assert (await alice.get("favorites"))["count"] == 5
    # Importing the same arrays again adds nothing.
    again = await alice.import_({"favorites": [3, 2, 4, 1, 3, 5]})
    assert again.json() == {"added": 0, "existing": 6, "skipped": 0}
    # And single adds afterwards are newer than the imported ones.
    await alice.add("favorites", 6)
    assert (await alice.walk("favorites"))[0] == 6


async def test_import_skips_what_is_not_a_movie_id(alice: Lists) -> None:
    junk: list[Any] = [
        "12",
        "abc",
        1.5,
        2.0,
        1e30,
        0,
        -5,
        True,
        False,
        None,
        2**31,
        2**70,
        [1],
        {"id": 1},
        "",
    ]
    response = await alice.import_({"favorites": [7, *junk, 8], "watch-later": [None, 9]})
    assert response.status_code == 200
    assert response.json() == {"added": 3, "existing": 0, "skipped": len(junk) + 1}
    assert await alice.walk("favorites", order="oldest") == [7, 8]
    assert await alice.walk("watch-later") == [9]
    assert (await alice.import_({"favorites": [2**31 - 1]})).json()["added"] == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"favorites": []},
        {"watch-later": [1]},
        {"favorites": None, "watch-later": None},
    ],
)
async def test_import_either_array_may_be_missing(alice: Lists, body: dict[str, Any]) -> None:
    response = await alice.import_(body)
    assert response.status_code == 200
    assert response.json()["skipped"] == 0


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"favorites": 5},
        {"favorites": "1,2"},
        {"favorites": {"a": 1}},
        {"watch_later": [1]},
        {"favorites": [1], "other": [2]},
        {"my-list": [1]},
        "favorites",
        None,
    ],
)
async def test_import_bad_shape_is_422(alice: Lists, body: Any) -> None:
    assert_error(await alice.import_(body), 422, "validation_error")
    assert [x["count"] for x in await alice.all()] == [0, 0]


async def test_import_size_limit(alice: Lists) -> None:
    # 10,000 ids in all is the most one call may carry; the invalid ones count too.
    response = await alice.import_(
        {"favorites": list(range(1, 5001)), "watch-later": list(range(1, 5000)) + ["x"]}
    )
    assert response.json() == {"added": 9999, "existing": 0, "skipped": 1}
    response = await alice.import_({"favorites": [1] * 5001, "watch-later": [2] * 5000})
    assert_error(response, 413, "payload_too_large")


async def test_failed_import_imports_nothing(alice: Lists) -> None:
    """watch-later is full: the import fails there, after favorites was already merged in
    the same transaction, and favorites is left as it was."""
    assert (await alice.import_({"watch-later": list(range(1, 10_001))})).status_code == 200
    await alice.add("favorites", 500)
    favorites_before = await alice.get("favorites")
    response = await alice.import_({"favorites": [1, 2, 3], "watch-later": [10_001]})
    assert_error(response, 409, "conflict")
    assert await alice.walk("favorites") == [500]
    assert await alice.get("favorites") == favorites_before
    assert (await alice.get("watch-later"))["count"] == 10_000
    # Ids already in the full list are not a problem.
    response = await alice.import_({"favorites": [1, 2, 3], "watch-later": [5, 6]})
    assert response.json() == {"added": 3, "existing": 2, "skipped": 0}


async def test_import_order_is_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    description = spec["paths"]["/api/v1/users/me/lists/import"]["post"]["description"]
    assert "first element oldest" in description
