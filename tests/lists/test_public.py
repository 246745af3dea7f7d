"""Public lists: readable without auth; private ones are 404 to everyone but the owner."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import assert_error, bearer
from tests.support.lists import Lists


def public_path(owner: Lists, slug: str) -> str:
    return f"/api/v1/users/{owner.user_id}/lists/{slug}/items"


async def test_public_list_readable_without_auth(
    client: httpx.AsyncClient, alice: Lists, bob: Lists
) -> None:
    await alice.create("Top films", is_public=True)
    await alice.add("top-films", 1, 2, 3)
    path = public_path(alice, "top-films")
    client.cookies.clear()
    response = await client.get(path)
    assert response.status_code == 200
    assert [i["movie_id"] for i in response.json()["items"]] == [3, 2, 1]
    # Paging and ETags as for one's own lists.
    page = (await client.get(path, params={"limit": 2})).json()
    rest = (await client.get(path, params={"cursor": page["next_cursor"]})).json()
    assert [i["movie_id"] for i in rest["items"]] == [1]
    etag = response.headers["etag"]
    assert (await client.get(path, headers={"If-None-Match": etag})).status_code == 304
    # Signed-in strangers read it too.
    response = await client.get(path, headers=bob.headers)
    assert response.status_code == 200 and len(response.json()["items"]) == 3


async def test_private_list_is_404_to_strangers(
    client: httpx.AsyncClient, alice: Lists, bob: Lists
) -> None:
    await alice.create("Diary")
    await alice.add("diary", 1)
    path = public_path(alice, "diary")
    assert_error(await client.get(path, headers=bob.headers), 404, "not_found")
    client.cookies.clear()
    private = await client.get(path)
    assert_error(private, 404, "not_found")
    # Exactly the answer for a list that doesn't exist: nothing is revealed.
    missing = await client.get(public_path(alice, "no-such-list"))
    assert private.json()["error"]["message"] == missing.json()["error"]["message"]
    # The owner can read it by this path too.
    response = await client.get(path, headers=alice.headers)
    assert response.status_code == 200 and response.headers["cache-control"].startswith("private")


async def test_publishing_and_unpublishing(client: httpx.AsyncClient, alice: Lists) -> None:
    await alice.add("favorites", 9)
    path = public_path(alice, "favorites")
    client.cookies.clear()
    assert_error(await client.get(path), 404, "not_found")
    await alice.request("PATCH", "/favorites", json={"is_public": True})
    assert (await client.get(path)).status_code == 200
    await alice.request("PATCH", "/favorites", json={"is_public": False})
    assert_error(await client.get(path), 404, "not_found")


@pytest.mark.parametrize("user_id", ["nobody", "x" * 100, "%00", "me2", "a b"])
async def test_unknown_owner_is_404(client: httpx.AsyncClient, user_id: str) -> None:
    response = await client.get(f"/api/v1/users/{user_id}/lists/favorites/items")
    assert_error(response, 404, "not_found")


async def test_bad_token_on_public_list_is_401(client: httpx.AsyncClient, alice: Lists) -> None:
    """The TokenGate refuses a bad bearer token under /api/v1/ before routing."""
    await alice.request("PATCH", "/favorites", json={"is_public": True})
    client.cookies.clear()
    response = await client.get(
        public_path(alice, "favorites"), headers={"Authorization": "Bearer not-a-token"}
    )
    assert_error(response, 401, "invalid_token")


async def test_public_read_with_bad_query(client: httpx.AsyncClient, alice: Lists) -> None:
    await alice.request("PATCH", "/favorites", json={"is_public": True})
    path = public_path(alice, "favorites")
    client.cookies.clear()
    for params in ({"limit": 0}, {"cursor": "zzz"}, {"order": "up"}):
        assert_error(await client.get(path, params=params), 422, "validation_error")


async def test_cookie_session_can_write_with_csrf(client: httpx.AsyncClient) -> None:
    """Browsers use the session cookies; unsafe methods then need the CSRF header."""
    from tests.support.api import register

    session = await register(client)
    assert bearer(session)  # cookies were set by register; don't send the bearer
    path = "/api/v1/users/me/lists/favorites/items/5"
    assert_error(await client.put(path), 403, "csrf_failed")
    csrf = client.cookies.get("maria_csrf")
    assert csrf
    response = await client.put(path, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201
    page = await client.get("/api/v1/users/me/lists/favorites/items")
    assert [i["movie_id"] for i in page.json()["items"]] == [5]
