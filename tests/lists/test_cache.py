"""The page cache (``lists/cache.py``, ``lists/hotpath.py``): reads without the database,
writes seen at once on the writing instance, and on another instance through Redis, the
poll, or the views' expiry; the fast path answers exactly as the declared endpoint.

Two instances here are two apps in one process sharing one database (and one Redis or
none). Waiting for Redis is a bounded wait on an observable state, never a timing claim.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from maria.backends.broker import MemoryBroker
from maria.http.deps import maybe_signed_in, signed_in
from maria.lists import items, store
from maria.lists.cache import CachedPage, ListCache
from maria.lists.store import ListView
from tests.support.api import assert_error, bearer, register
from tests.support.app import (
    app_and_client,
    client_of,
    make_admin,
    make_settings,
    statements,
    transaction,
)
from tests.support.lists import Lists

# -- helpers --------------------------------------------------------------------------


def cache_of(app: Any) -> ListCache:
    cache: ListCache = app.state.services.lists.cache
    return cache


def public_path(owner: Lists, slug: str) -> str:
    return f"/api/v1/users/{owner.user_id}/lists/{slug}/items"


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["movie_id"] for item in response.json()["items"]]


# -- one instance ---------------------------------------------------------------------


async def test_cached_reads_skip_the_database(
    app: Any, client: httpx.AsyncClient, alice: Lists
) -> None:
    await alice.create("Top", is_public=True)
    await alice.add("top", 1, 2, 3)
    database = app.state.services.database
    with statements(database) as first:
        page = await alice.page("top", limit=2)
    assert first, "the first read goes to the database"
    cursor = page.json()["next_cursor"]
    await alice.page("top", limit=2, cursor=cursor)
    client.cookies.clear()
    anonymous = await client.get(public_path(alice, "top"))
    etag = anonymous.headers["etag"]
    with statements(database) as later:
        assert ids(await alice.page("top", limit=2)) == [3, 2]
        assert ids(await alice.page("top", limit=2, cursor=cursor)) == [1]
        again = await alice.page("top", limit=2, headers={"If-None-Match": page.headers["etag"]})
        assert again.status_code == 304 and again.headers["etag"] == page.headers["etag"]
        assert ids(await client.get(public_path(alice, "top"))) == [3, 2, 1]
        unchanged = await client.get(public_path(alice, "top"), headers={"If-None-Match": etag})
        assert unchanged.status_code == 304
        # Own and public reads of one page share the body, not the cache headers.
        own = await alice.page("top")
        assert own.content == anonymous.content and own.headers["etag"] == etag
        assert own.headers["cache-control"] == "private, no-cache"
        assert anonymous.headers["cache-control"] == "no-cache"
    assert later == []


async def test_a_cookie_session_reads_from_the_cache_too(app: Any) -> None:
    async with client_of(app, ("203.0.113.8", 50000)) as browser:
        await register(browser)  # the session is in the cookies; no bearer below
        csrf = {"X-CSRF-Token": browser.cookies["maria_csrf"]}
        path = "/api/v1/users/me/lists/favorites/items"
        assert (await browser.put(f"{path}/7", headers=csrf)).status_code == 201
        assert ids(await browser.get(path)) == [7]
        with statements(app.state.services.database) as seen:
            assert ids(await browser.get(path)) == [7]
        assert seen == []
        assert (await browser.put(f"{path}/8", headers=csrf)).status_code == 201
        assert ids(await browser.get(path)) == [8, 7]
        # By the public path the cookies still make the reader the owner: a private list
        # is readable and a public one is not for shared caches.
        me = (await browser.get("/api/v1/users/me")).json()["id"]
        public = f"/api/v1/users/{me}/lists/favorites/items"
        for _ in range(2):  # uncached, then cached
            response = await browser.get(public)
            assert ids(response) == [8, 7]
            assert response.headers["cache-control"] == "private, no-cache"
        patched = await browser.patch(
            "/api/v1/users/me/lists/favorites", json={"is_public": True}, headers=csrf
        )
        assert patched.status_code == 200
        for _ in range(2):
            response = await browser.get(public)
            assert ids(response) == [8, 7]
            assert response.headers["cache-control"] == "private, no-cache"


async def test_every_write_is_seen_at_once(
    app: Any, client: httpx.AsyncClient, alice: Lists
) -> None:
    """Read (so the page is cached), write, read again: on the same instance the second read
    always sees the write, including changes that don't go through the lists API."""
    await alice.create("Mine", is_public=True)
    await alice.add("mine", 1, 2)
    path = public_path(alice, "mine")

    async def anonymous(target: str = path) -> httpx.Response:
        client.cookies.clear()
        return await client.get(target)

    assert ids(await anonymous()) == [2, 1]
    await alice.add("mine", 3)
    assert ids(await anonymous()) == [3, 2, 1]
    await alice.remove("mine", 1)
    assert ids(await anonymous()) == [3, 2]
    await alice.put("mine", 2, json={"note": "seen twice"})
    assert (await anonymous()).json()["items"][1]["note"] == "seen twice"
    await alice.request("PATCH", "/mine", json={"is_public": False})
    assert_error(await anonymous(), 404, "not_found")
    assert ids(await alice.page("mine")) == [3, 2]
    await alice.request("PATCH", "/mine", json={"is_public": True})
    assert ids(await anonymous()) == [3, 2]
    # A list deleted and made again under the same slug is another list.
    assert (await alice.request("DELETE", "/mine")).status_code == 204
    assert_error(await anonymous(), 404, "not_found")
    await alice.create("Mine", is_public=True)
    assert ids(await anonymous()) == []
    await alice.import_({"favorites": [5, 6]})
    assert ids(await alice.page("favorites")) == [6, 5]
    # Deleting the account removes the lists by cascade, outside the lists code.
    await alice.request("PATCH", "/favorites", json={"is_public": True})
    assert ids(await anonymous(public_path(alice, "favorites"))) == [6, 5]
    admin = await make_admin(app, client)
    gone = await client.delete(f"/api/v1/admin/users/{alice.user_id}", headers=bearer(admin))
    assert gone.status_code == 204
    assert_error(await anonymous(public_path(alice, "favorites")), 404, "not_found")
    assert_error(await anonymous(), 404, "not_found")


QUERIES = [
    # (odd spelling, canonical spelling): same answer
    ("limit=020", "limit=20"),
    ("limit=%32", "limit=2"),
    ("order=newest&order=oldest", "order=oldest"),
    ("limit=2&utm=x", "limit=2"),
    ("LIMIT=2", ""),
    ("limit=2&", "limit=2"),
    ("order=oldest&limit=2", "limit=2&order=oldest"),
]


@pytest.mark.parametrize(("odd", "canonical"), QUERIES)
async def test_odd_query_spellings_answer_as_declared(
    alice: Lists, odd: str, canonical: str
) -> None:
    await alice.add("favorites", 1, 2, 3)
    path = "/api/v1/users/me/lists/favorites/items"
    expected = await alice.client.get(f"{path}?{canonical}", headers=alice.headers)
    assert expected.status_code == 200
    for _ in range(2):  # uncached, then cached
        response = await alice.client.get(f"{path}?{odd}", headers=alice.headers)
        assert response.status_code == 200, response.text
        assert response.content == expected.content
        assert response.headers["etag"] == expected.headers["etag"]


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=1000", "limit=", "limit=-1", "order=NEWEST", "cursor="],
)
async def test_bad_queries_stay_422_when_the_page_is_cached(alice: Lists, query: str) -> None:
    await alice.add("favorites", 1)
    path = "/api/v1/users/me/lists/favorites/items"
    assert ids(await alice.client.get(path, headers=alice.headers)) == [1]
    response = await alice.client.get(f"{path}?{query}", headers=alice.headers)
    assert_error(response, 422, "validation_error")


async def test_cached_privacy_and_cursor_checks(
    app: Any, client: httpx.AsyncClient, alice: Lists, bob: Lists
) -> None:
    await alice.create("Diary")
    await alice.add("diary", 1, 2, 3)
    first = (await alice.page("diary", limit=1)).json()
    await alice.page("diary", limit=1, cursor=first["next_cursor"])
    path = public_path(alice, "diary")
    # The owner reads it by the public path: the same page as a stranger would ask for.
    assert ids(await client.get(path, headers=alice.headers)) == [3, 2, 1]
    assert ids(await client.get(f"{path}?limit=1", headers=alice.headers)) == [3]
    with statements(app.state.services.database) as seen:
        for query in ("", "?limit=1", f"?limit=1&cursor={first['next_cursor']}", "?limit=7"):
            as_bob = await client.get(path + query, headers=bob.headers)
            assert_error(as_bob, 404, "not_found")
            client.cookies.clear()
            assert_error(await client.get(path + query), 404, "not_found")
    assert seen == []  # the row is cached: refusing needs no database
    # Alice's cursor on Bob's list, and on another of her own lists.
    assert_error(await bob.page("favorites", cursor=first["next_cursor"]), 422, "validation_error")
    response = await alice.page("watch-later", cursor=first["next_cursor"])
    assert_error(response, 422, "validation_error")


# -- two instances ----------------------------------------------------------------------


def instance(**config: Any) -> AbstractAsyncContextManager[tuple[Any, httpx.AsyncClient]]:
    return app_and_client(make_settings(**config))


async def wait_for(what: str, condition: Callable[[], bool], within: float = 10.0) -> None:
    """A bounded wait for an observable state (not a claim about how long it takes)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within}s")
        await asyncio.sleep(0.005)


@dataclass
class Pair:
    """Alice writing on instance A, and reading on instance B, signed in and anonymous."""

    app_a: Any
    client_a: httpx.AsyncClient
    app_b: Any
    client_b: httpx.AsyncClient
    on_a: Lists
    on_b: Lists

    @property
    def cache_b(self) -> ListCache:
        return cache_of(self.app_b)

    async def read_b(self, slug: str, public: bool = False) -> tuple[int, list[int], str]:
        """Status, movie ids and ETag of a page read on B."""
        if public:
            response = await self.client_b.get(public_path(self.on_a, slug))
        else:
            response = await self.on_b.page(slug)
        if response.status_code != 200:
            return response.status_code, [], ""
        return 200, ids(response), response.headers["etag"]


Learn = Callable[[Pair, str, Callable[[], Awaitable[Any]]], Awaitable[None]]


async def learn_from_redis(pair: Pair, slug: str, read: Callable[[], Awaitable[Any]]) -> None:
    """B has no poll and never expires views: only the broker message can drop them."""
    await wait_for(
        "B dropped the list on A's message",
        lambda: not pair.cache_b.holds(pair.on_a.user_id, slug),
    )


async def learn_from_polling(pair: Pair, slug: str, read: Callable[[], Awaitable[Any]]) -> None:
    """No broker between A and B: B's next poll round (run here) checks the views read
    since the previous one."""
    await read()  # may still answer from the old view; it marks the view as in use
    await pair.cache_b.sync()


async def learn_from_expiry(pair: Pair, slug: str, read: Callable[[], Awaitable[Any]]) -> None:
    """No broker, no poll: a view older than ``ttl`` is read again."""
    await asyncio.sleep(pair.cache_b.ttl * 2)


async def run_scenario(pair: Pair, learn: Learn) -> None:
    """Each change on A: B holds the old state, A writes, B learns, B answers the new one."""
    a = pair.on_a
    await a.create("Shared", is_public=True)
    await a.add("shared", 1, 2)
    await a.request("PATCH", "/favorites", json={"is_public": True})
    await a.add("favorites", 9)
    admin = await make_admin(pair.app_a, pair.client_a)

    async def delete_account() -> None:
        response = await pair.client_a.delete(
            f"/api/v1/admin/users/{a.user_id}", headers=bearer(admin)
        )
        assert response.status_code == 204

    steps: list[tuple[str, Callable[[], Awaitable[Any]], str, bool, int, list[int]]] = [
        ("add", lambda: a.add("shared", 3), "shared", False, 200, [3, 2, 1]),
        ("remove", lambda: a.remove("shared", 1), "shared", True, 200, [3, 2]),
        ("note", lambda: a.put("shared", 3, json={"note": "x"}), "shared", False, 200, [3, 2]),
        ("import", lambda: a.import_({"favorites": [10, 11]}), "favorites", True, 200, [11, 10, 9]),
        (
            "unpublish",
            lambda: a.request("PATCH", "/shared", json={"is_public": False}),
            "shared",
            True,
            404,
            [],
        ),
        ("delete list", lambda: a.request("DELETE", "/shared"), "shared", False, 404, []),
        ("delete account", delete_account, "favorites", True, 404, []),
    ]
    for name, write, slug, public, status, expected in steps:

        async def read(slug: str = slug, public: bool = public) -> tuple[int, list[int], str]:
            return await pair.read_b(slug, public)

        before = await read()
        assert before[0] == 200, (name, before)
        assert pair.cache_b.holds(a.user_id, slug), name
        await write()
        await learn(pair, slug, read)
        after = await read()
        assert after[:2] == (status, expected), (name, after)
        if status == 200:
            # B's ETag is A's: one version, one tag, on every instance.
            on_a = await a.page(slug)
            assert after[2] == on_a.headers["etag"], name


@asynccontextmanager
async def pair_of_instances(
    database_url: str, tmp_path: Path, redis_url: str | None
) -> AsyncIterator[Pair]:
    config = {"database_url": database_url, "data_dir": tmp_path, "redis_url": redis_url}
    async with AsyncExitStack() as stack:
        app_a, client_a = await stack.enter_async_context(instance(**config))
        app_b, client_b = await stack.enter_async_context(instance(**config))
        assert cache_of(app_a) is not cache_of(app_b)
        session = await register(client_a)
        yield Pair(
            app_a, client_a, app_b, client_b, Lists(client_a, session), Lists(client_b, session)
        )


async def test_two_instances_through_redis(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    async with pair_of_instances(database_url, tmp_path, redis_url) as pair:
        await pair.cache_b.close()  # no poll on B, and no expiry: the broker alone
        pair.cache_b.ttl = 3600.0
        await run_scenario(pair, learn_from_redis)


async def test_two_instances_without_redis_by_polling(database_url: str, tmp_path: Path) -> None:
    async with pair_of_instances(database_url, tmp_path, None) as pair:
        await pair.cache_b.close()  # polls run by the test, and no expiry
        pair.cache_b.ttl = 3600.0
        # Without a broker between them B does answer from its old view until it polls:
        # the cache is really in the way, which is what makes this test mean something.
        await pair.on_a.add("watch-later", 1)
        assert (await pair.read_b("watch-later"))[1] == [1]
        await pair.on_a.add("watch-later", 2)
        assert (await pair.read_b("watch-later"))[1] == [1]
        await pair.cache_b.sync()
        assert (await pair.read_b("watch-later"))[1] == [2, 1]
        await run_scenario(pair, learn_from_polling)


async def test_two_instances_without_redis_by_expiry(database_url: str, tmp_path: Path) -> None:
    async with pair_of_instances(database_url, tmp_path, None) as pair:
        await pair.cache_b.close()
        pair.cache_b.ttl = 0.05
        await run_scenario(pair, learn_from_expiry)


async def test_the_poll_runs_on_its_own(database_url: str, tmp_path: Path) -> None:
    async with pair_of_instances(database_url, tmp_path, None) as pair:
        pair.cache_b.ttl = 3600.0  # only the running poll can bring B up to date
        await pair.on_a.add("favorites", 1)
        assert (await pair.read_b("favorites"))[1] == [1]
        await pair.on_a.add("favorites", 2)
        seen: list[int] = []

        async def read() -> None:
            seen[:] = (await pair.read_b("favorites"))[1]

        deadline = time.monotonic() + 10
        await read()
        while seen != [2, 1]:
            assert time.monotonic() < deadline, "B never polled"
            await asyncio.sleep(0.05)
            await read()


# -- the cache itself -----------------------------------------------------------------


def _view(owner_id: str, version: int, slug: str = "favorites") -> ListView:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return ListView(
        id=f"list-of-{owner_id}",
        user_id=owner_id,
        slug=slug,
        title="Favorites",
        is_public=False,
        builtin=True,
        count=0,
        version=version,
        created_at=now,
        updated_at=now,
    )


async def test_a_read_under_way_during_a_change_stores_nothing(app: Any) -> None:
    cache = ListCache(app.state.services.database, MemoryBroker())
    load = cache.begin_load("u1", "favorites")
    await cache.changed("u1")  # committed meanwhile: what the load read may predate it
    cache.end_load(load, _view("u1", 1))
    assert not cache.holds("u1", "favorites")
    load = cache.begin_load("u1", "favorites")
    cache.end_load(load, _view("u1", 2))
    assert cache.view("u1", "favorites") == _view("u1", 2)
    # A slower read that saw an older version does not replace a newer one.
    slow = cache.begin_load("u1", "favorites")
    cache.end_load(cache.begin_load("u1", "favorites"), _view("u1", 3))
    cache.end_load(slow, _view("u1", 2))
    found = cache.view("u1", "favorites")
    assert found is not None and found.version == 3
    # Changes of other owners leave this one alone.
    await cache.changed("u2")
    assert cache.holds("u1", "favorites")


async def test_the_page_map_is_bounded_by_bytes(app: Any) -> None:
    cache = ListCache(app.state.services.database, MemoryBroker(), max_page_bytes=1000)
    for version in range(10):
        cache.keep_page(("l", version, "newest", 20, None), CachedPage('"e"', b"x" * 300))
    kept = [v for v in range(10) if cache.page(("l", v, "newest", 20, None)) is not None]
    assert kept == [7, 8, 9]


async def test_a_reconnected_broker_drops_every_view(app: Any) -> None:
    broker = MemoryBroker()
    cache = ListCache(app.state.services.database, broker)
    cache.end_load(cache.begin_load("u1", "favorites"), _view("u1", 1))
    under_way = cache.begin_load("u2", "favorites")
    for hook in broker.on_reconnect:  # what RedisBroker runs after a reconnect
        hook()
    cache.end_load(under_way, _view("u2", 1))
    assert not cache.holds("u1", "favorites") and not cache.holds("u2", "favorites")


async def test_an_expired_view_is_checked_with_one_light_read(app: Any, alice: Lists) -> None:
    cache = cache_of(app)
    cache.ttl = 0.05
    await alice.add("favorites", 1, 2)
    first = await alice.page("favorites")
    await asyncio.sleep(cache.ttl * 2)
    with statements(app.state.services.database) as seen:
        again = await alice.page("favorites")
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert len(seen) == 1 and "list_items" not in seen[0], seen
    await asyncio.sleep(cache.ttl * 2)
    # Changed in the database behind the cache's back (as by another instance without a
    # broker): the check sees the new version and the page is read again.
    async with transaction(app) as db:
        await items.put_item(db, alice.user_id, "favorites", 3)
    assert ids(await alice.page("favorites")) == [3, 2, 1]
    await alice.create("Temp")
    await alice.page("temp")
    await asyncio.sleep(cache.ttl * 2)
    async with transaction(app) as db:
        await store.delete_list(db, alice.user_id, "temp")
    assert_error(await alice.page("temp"), 404, "not_found")
    assert not cache.holds(alice.user_id, "temp")


async def test_the_views_are_bounded_by_owner_least_recently_read_first(app: Any) -> None:
    cache = ListCache(app.state.services.database, MemoryBroker(), max_owners=2)
    for owner in ("u1", "u2"):
        cache.end_load(cache.begin_load(owner, "favorites"), _view(owner, 1))
    assert cache.view("u1", "favorites") is not None  # u1 read: u2 is now the oldest
    cache.end_load(cache.begin_load("u3", "favorites"), _view("u3", 1))
    assert [cache.holds(o, "favorites") for o in ("u1", "u2", "u3")] == [True, False, True]


async def test_cached_pages_answer_without_resolving_dependencies(
    app: Any, client: httpx.AsyncClient, alice: Lists
) -> None:
    """A cached page, own or public, is answered by the page routes' shortcut: the declared
    parameters and dependencies are not even resolved (here they would fail)."""
    await alice.create("Top", is_public=True)
    await alice.add("top", 1, 2)
    own = await alice.page("top")
    client.cookies.clear()
    public = await client.get(public_path(alice, "top"))

    async def unreachable() -> None:
        raise AssertionError("the declared dependencies were resolved")

    app.dependency_overrides[signed_in] = unreachable
    app.dependency_overrides[maybe_signed_in] = unreachable
    try:
        assert ids(await alice.page("top")) == [2, 1]
        again = await alice.page("top", headers={"If-None-Match": own.headers["etag"]})
        assert again.status_code == 304
        assert (await client.get(public_path(alice, "top"))).content == public.content
        with pytest.raises(AssertionError, match="declared dependencies"):
            await alice.page("top", limit="x")  # not plain: the declared way decides
    finally:
        app.dependency_overrides.clear()
