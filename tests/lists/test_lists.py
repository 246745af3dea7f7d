"""Lists themselves: built-ins, creation and slugs, rename, publish, delete, limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from maria.admin_setup import create_admin
from maria.config import Settings
from maria.lists.models import ListItem, MovieList
from tests.support.api import assert_error
from tests.support.app import reading
from tests.support.lists import BASE, Lists

LIST_FIELDS = {"slug", "title", "is_public", "builtin", "count", "created_at", "updated_at"}


async def test_builtins_exist_from_registration(alice: Lists) -> None:
    lists = await alice.all()
    assert [(x["slug"], x["builtin"], x["count"], x["is_public"]) for x in lists] == [
        ("favorites", True, 0, False),
        ("watch-later", True, 0, False),
    ]
    assert set(lists[0]) == LIST_FIELDS
    # Usable at once: no lazy creation step.
    assert (await alice.put("watch-later", 301)).status_code == 201


async def test_builtins_for_bootstrapped_admin(app: Any, settings: Settings) -> None:
    """``maria create-admin`` goes through the same ``create_user``: built-ins included."""
    message = await create_admin(settings, "root@example.com", "Root", "a long admin password")
    user_id = message.rsplit(" ", 1)[1]
    async with reading(app) as db:
        slugs = (
            await db.execute(select(MovieList.slug).where(MovieList.user_id == user_id))
        ).scalars()
        assert sorted(slugs) == ["favorites", "watch-later"]


async def test_lists_need_auth(client: httpx.AsyncClient, alice: Lists) -> None:
    client.cookies.clear()
    for method, path in (
        ("GET", ""),
        ("POST", ""),
        ("POST", "/import"),
        ("GET", "/favorites/items"),
        ("PUT", "/favorites/items/1"),
        ("DELETE", "/favorites/items/1"),
    ):
        assert_error(await client.request(method, BASE + path, json={}), 401, "not_authenticated")


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Best of 2024", "best-of-2024"),
        ("  Sci-Fi / Fantasy!!  ", "sci-fi-fantasy"),
        ("Мои любимые фильмы", "мои-любимые-фильмы"),
        ("Ça va, Émile?", "ça-va-émile"),
        ("日本の映画", "日本の映画"),
        ("ﬁlms Ⅻ", "films-xii"),  # NFKC: ligature and Roman numeral unfolded
        ("🎬🍿", "list"),
        ("snake_case_title", "snake-case-title"),
        ("import", "import-2"),
        ("Favorites", "favorites-2"),
        ("Watch Later", "watch-later-2"),
    ],
)
async def test_slug_from_title(alice: Lists, title: str, slug: str) -> None:
    created = await alice.create(title)
    assert created["slug"] == slug
    assert created["title"] == title.strip()
    assert (await alice.get(slug))["title"] == title.strip()


async def test_create_list_shape_and_defaults(alice: Lists) -> None:
    created = await alice.create("Noir", is_public=True)
    assert set(created) == LIST_FIELDS
    assert created["is_public"] is True and created["builtin"] is False
    assert created["count"] == 0 and created["created_at"] == created["updated_at"]
    assert (await alice.create("Drama"))["is_public"] is False
    assert [x["slug"] for x in await alice.all()] == ["favorites", "watch-later", "noir", "drama"]
    # The trailing-slash spelling of the collection works too, without a redirect.
    response = await alice.client.get(BASE + "/", headers=alice.headers)
    assert response.status_code == 200 and len(response.json()) == 4


async def test_same_title_gets_numbered_slugs(alice: Lists, bob: Lists) -> None:
    assert [(await alice.create("Horror"))["slug"] for _ in range(3)] == [
        "horror",
        "horror-2",
        "horror-3",
    ]
    # Unique per user, not globally.
    assert (await bob.create("Horror"))["slug"] == "horror"
    # A freed slug can be taken again; the others keep theirs.
    assert (await alice.request("DELETE", "/horror-2")).status_code == 204
    assert (await alice.create("HORROR"))["slug"] == "horror-2"


async def test_rename_keeps_slug_and_changes_updated_at(alice: Lists) -> None:
    created = await alice.create("Comedy")
    response = await alice.request("PATCH", "/comedy", json={"title": "Comedies of the 90s"})
    assert response.status_code == 200
    renamed = response.json()
    assert renamed["slug"] == "comedy" and renamed["title"] == "Comedies of the 90s"
    assert renamed["updated_at"] > created["updated_at"]
    # The new title's slug is free for another list.
    assert (await alice.create("Comedy"))["slug"] == "comedy-2"
    published = (await alice.request("PATCH", "/comedy", json={"is_public": True})).json()
    assert published["is_public"] is True and published["updated_at"] > renamed["updated_at"]
    # A PATCH that changes nothing leaves updated_at alone.
    same = (await alice.request("PATCH", "/comedy", json={"is_public": True})).json()
    assert same == published


async def test_builtins_can_be_published_but_not_renamed_or_deleted(alice: Lists) -> None:
    for slug in ("favorites", "watch-later"):
        response = await alice.request("PATCH", f"/{slug}", json={"title": "Mine"})
        assert_error(response, 409, "conflict")
        assert_error(await alice.request("DELETE", f"/{slug}"), 409, "conflict")
        response = await alice.request("PATCH", f"/{slug}", json={"is_public": True})
        assert response.status_code == 200 and response.json()["is_public"] is True
    # Sending the current title back (a client PATCHing the whole object) is not a rename.
    response = await alice.request("PATCH", "/favorites", json={"title": "Favorites"})
    assert response.status_code == 200


async def test_delete_list_and_its_items(app: Any, alice: Lists) -> None:
    await alice.create("Temp")
    await alice.add("temp", 1, 2, 3)
    assert (await alice.request("DELETE", "/temp")).status_code == 204
    assert_error(await alice.request("GET", "/temp"), 404, "not_found")
    assert_error(await alice.page("temp"), 404, "not_found")
    assert_error(await alice.request("DELETE", "/temp"), 404, "not_found")
    async with reading(app) as db:
        rows = await db.execute(select(func.count()).select_from(MovieList))
        assert rows.scalar_one() == 2  # only the built-ins remain
        items = await db.execute(select(func.count()).select_from(ListItem))
        assert items.scalar_one() == 0


async def test_own_list_limit(alice: Lists) -> None:
    for i in range(100):
        await alice.create(f"List {i}")
    assert_error(await alice.request("POST", "", json={"title": "One more"}), 409, "conflict")
    # Built-ins don't count against the limit, and a deletion frees a place.
    assert len(await alice.all()) == 102
    assert (await alice.request("DELETE", "/list-0")).status_code == 204
    await alice.create("One more")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 101},
        {"title": None},
        {"title": 42},
        {"title": ["a"]},
        {"title": "a\x00b"},
        {"title": "tab\there"},
        {"title": "ok", "is_public": "yes"},
        {"title": "ok", "is_public": 1},
        {"title": "ok", "slug": "chosen"},
        ["title"],
    ],
)
async def test_create_list_bad_input(alice: Lists, body: Any) -> None:
    assert_error(await alice.request("POST", "", json=body), 422, "validation_error")


async def test_title_limits(alice: Lists) -> None:
    assert (await alice.create("x" * 100))["title"] == "x" * 100
    assert (await alice.create("y"))["title"] == "y"
    response = await alice.request("PATCH", "/y", json={"title": "z" * 101})
    assert_error(response, 422, "validation_error")
    assert_error(await alice.request("PATCH", "/y", json={"title": ""}), 422, "validation_error")


async def test_lone_surrogate_title_is_refused(alice: Lists) -> None:
    """``json.loads`` accepts an unpaired surrogate; Postgres could not store it."""
    response = await alice.request(
        "POST",
        "",
        content=b'{"title": "bad \\ud800"}',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 422, "validation_error")


@pytest.mark.parametrize(
    "slug", ["nope", "import", "a%00b", "%ED%A0%80", "x" * 300, "-x", "UPPER", "a--b"]
)
async def test_unknown_slugs_are_404(alice: Lists, slug: str) -> None:
    for method, path, body in (
        ("GET", f"/{slug}", None),
        ("PATCH", f"/{slug}", {"is_public": True}),
        ("DELETE", f"/{slug}", None),
        ("GET", f"/{slug}/items", None),
        ("PUT", f"/{slug}/items/1", None),
        ("DELETE", f"/{slug}/items/1", None),
        ("GET", f"/{slug}/items/1", None),
    ):
        response = await alice.request(method, path, json=body)
        if slug == "import" and path == "/import":  # the import's path: only POST is there
            assert_error(response, 405, "method_not_allowed")
            assert response.headers["allow"] == "POST"
            continue
        assert_error(response, 404, "not_found")


async def test_other_users_lists_are_invisible(alice: Lists, bob: Lists) -> None:
    await bob.create("Secret", is_public=True)
    await bob.add("secret", 7)
    assert_error(await alice.request("GET", "/secret"), 404, "not_found")
    assert_error(await alice.page("secret"), 404, "not_found")
    assert_error(await alice.put("secret", 8), 404, "not_found")
    assert_error(await alice.request("DELETE", "/secret"), 404, "not_found")
    # Alice's own favorites are hers: Bob's items don't show.
    await bob.add("favorites", 9)
    assert await alice.walk("favorites") == []
    assert await bob.walk("secret") == [7]
