"""Pages: cursor walks under concurrent change, order, limits, cursor errors, ETag/304."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from maria.lists.models import ListItem
from tests.support.api import assert_error
from tests.support.app import transaction
from tests.support.lists import Lists


def _keys(items: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(item["added_at"], item["movie_id"]) for item in items]


async def test_order_limit_and_cursor(alice: Lists) -> None:
    await alice.add("favorites", 10, 20, 30, 40, 50)
    assert await alice.walk("favorites") == [50, 40, 30, 20, 10]
    assert await alice.walk("favorites", order="oldest") == [10, 20, 30, 40, 50]
    assert await alice.walk("favorites", limit=2) == [50, 40, 30, 20, 10]
    assert await alice.walk("favorites", limit=1, order="oldest") == [10, 20, 30, 40, 50]
    page = (await alice.page("favorites", limit=5)).json()
    assert len(page["items"]) == 5 and page["next_cursor"] is None
    page = (await alice.page("favorites", limit=3)).json()
    assert [i["movie_id"] for i in page["items"]] == [50, 40, 30]
    # The cursor remembers the order, so the next page may leave `order` out.
    first = (await alice.page("favorites", limit=2, order="oldest")).json()
    rest = (await alice.page("favorites", cursor=first["next_cursor"])).json()
    assert [i["movie_id"] for i in rest["items"]] == [30, 40, 50]


async def test_default_limit_is_20_and_max_100(alice: Lists) -> None:
    await alice.import_({"favorites": list(range(1, 151))})
    page = (await alice.page("favorites")).json()
    assert len(page["items"]) == 20 and page["items"][0]["movie_id"] == 150
    assert len((await alice.page("favorites", limit=100)).json()["items"]) == 100
    for limit in (0, 101, -1, "x", "1.5", ""):
        assert_error(await alice.page("favorites", limit=limit), 422, "validation_error")


async def test_empty_list_page(alice: Lists) -> None:
    response = await alice.page("watch-later")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


async def _walk_while_changing(alice: Lists, order: str) -> None:
    """250 items, pages of 7, items added and removed between pages. Every item present
    throughout is seen exactly once; nothing is seen twice; keys are strictly ordered."""
    rng = random.Random(f"walk-{order}")
    initial = list(range(1, 251))
    await alice.import_({"favorites": initial})
    assert (await alice.get("favorites"))["count"] == 250
    removed: set[int] = set()
    next_new = 10_000
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 7, "order": order}
        if cursor:
            params["cursor"] = cursor
        response = await alice.page("favorites", **params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        # Between pages: remove the last item seen (the cursor's own), one seen earlier,
        # one not seen yet, and add two new movies.
        candidates = [m for m in initial if m not in removed]
        victims = {body["items"][-1]["movie_id"], rng.choice(candidates), rng.choice(candidates)}
        for victim in victims:
            assert (await alice.remove("favorites", victim)).status_code == 204
        removed |= victims
        for _ in range(2):
            assert (await alice.put("favorites", next_new)).status_code == 201
            next_new += 1
    ids = [item["movie_id"] for item in seen]
    assert len(ids) == len(set(ids)), "an item was repeated"
    throughout = set(initial) - removed
    assert throughout <= set(ids), f"skipped: {sorted(throughout - set(ids))}"
    keys = _keys(seen)
    assert keys == sorted(keys, reverse=order == "newest")
    assert len(set(keys)) == len(keys)


async def test_walk_newest_first_while_changing(alice: Lists) -> None:
    await _walk_while_changing(alice, "newest")


async def test_walk_oldest_first_while_changing(alice: Lists) -> None:
    await _walk_while_changing(alice, "oldest")


async def test_ties_on_added_at_are_broken_by_movie_id(app: Any, alice: Lists) -> None:
    """Items sharing a timestamp still page without loss: the key includes movie_id."""
    await alice.import_({"favorites": list(range(1, 31))})
    moment = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    async with transaction(app) as db:
        await db.execute(update(ListItem).values(added_at=moment))
    assert await alice.walk("favorites", limit=7) == list(range(30, 0, -1))
    assert await alice.walk("favorites", limit=4, order="oldest") == list(range(1, 31))


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        "",
        "AAAA",
        base64.urlsafe_b64encode(b"1.n.abc.5.0000000000000000").decode(),
        base64.urlsafe_b64encode(b"1.x.1.5.0000000000000000").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "Ω" * 10,
        "x" * 201,
    ],
)
async def test_garbled_cursor_is_422(alice: Lists, cursor: str) -> None:
    await alice.add("favorites", 1, 2, 3)
    assert_error(await alice.page("favorites", cursor=cursor), 422, "validation_error")


async def test_cursor_bound_to_list_and_order(alice: Lists, bob: Lists) -> None:
    await alice.add("favorites", 1, 2, 3)
    await alice.add("watch-later", 1, 2, 3)
    await bob.add("favorites", 1, 2, 3)
    cursor = (await alice.page("favorites", limit=1)).json()["next_cursor"]
    assert cursor
    # Tampering with any part of it is caught (a flipped character in the payload).
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    for position in range(len(raw)):
        forged = bytearray(raw)
        forged[position] = ord("9") if raw[position] != ord("9") else ord("8")
        text = base64.urlsafe_b64encode(bytes(forged)).decode().rstrip("=")
        response = await alice.page("favorites", cursor=text)
        assert response.status_code in (200, 422), response.text
    assert_error(await alice.page("watch-later", cursor=cursor), 422, "validation_error")
    assert_error(await bob.page("favorites", cursor=cursor), 422, "validation_error")
    response = await alice.page("favorites", cursor=cursor, order="oldest")
    assert_error(response, 422, "validation_error")
    assert (await alice.page("favorites", cursor=cursor, order="newest")).status_code == 200
    # The cursor's item being removed doesn't invalidate it.
    await alice.remove("favorites", 3)
    page = (await alice.page("favorites", cursor=cursor)).json()
    assert [i["movie_id"] for i in page["items"]] == [2, 1]


async def test_bad_order(alice: Lists) -> None:
    for order in ("NEWEST", "random", ""):
        assert_error(await alice.page("favorites", order=order), 422, "validation_error")


async def test_etag_and_304(alice: Lists) -> None:
    await alice.add("favorites", 1, 2)
    first = await alice.page("favorites")
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert "no-cache" in first.headers["cache-control"]

    async def status(tag: str, **params: Any) -> int:
        response = await alice.page("favorites", headers={"If-None-Match": tag}, **params)
        if response.status_code == 304:
            assert response.content == b"" and response.headers["etag"] == etag
        return response.status_code

    assert await status(etag) == 304
    assert await status(f"W/{etag}") == 304
    assert await status(f'"other", {etag}') == 304
    assert await status("*") == 304
    assert await status('"other"') == 200
    # The query is part of the tag: another limit or order is another page.
    assert await status(etag, limit=1) == 200
    assert await status(etag, order="oldest") == 200
    # No-op writes keep it; real changes end it.
    await alice.put("favorites", 1)
    await alice.remove("favorites", 99)
    assert await status(etag) == 304
    for change in (
        alice.put("favorites", 3),
        alice.remove("favorites", 3),
        alice.put("favorites", 1, json={"note": "n"}),
        alice.request("PATCH", "/favorites", json={"is_public": True}),
        alice.import_({"favorites": [42]}),
    ):
        await change
        assert await status(etag) == 200
        etag = (await alice.page("favorites")).headers["etag"]
        assert await status(etag) == 304
    # Another list's page never matches.
    other = (await alice.page("watch-later")).headers["etag"]
    assert other != etag


async def test_cursor_pages_have_their_own_etag(alice: Lists) -> None:
    await alice.add("favorites", 1, 2, 3)
    first = await alice.page("favorites", limit=2)
    cursor = first.json()["next_cursor"]
    second = await alice.page("favorites", limit=2, cursor=cursor)
    assert second.headers["etag"] != first.headers["etag"]
    again = await alice.page(
        "favorites", limit=2, cursor=cursor, headers={"If-None-Match": second.headers["etag"]}
    )
    assert again.status_code == 304
