from __future__ import annotations

from typing import Any

import httpx
import pytest

from maria.http.deps import signed_in
from tests.support.api import assert_error, bearer, register


async def test_me_returns_the_signed_in_user(client: httpx.AsyncClient) -> None:
    session = await register(client, email="Mixed.Case@Example.com", display_name="Ann")
    response = await client.get("/api/v1/users/me", headers=bearer(session))
    assert response.status_code == 200
    me = response.json()
    assert me == session["user"]
    assert me["email"] == "mixed.case@example.com"
    assert set(me) == {
        "id",
        "email",
        "display_name",
        "avatar_url",
        "role",
        "email_verified",
        "created_at",
    }


async def test_patch_me_changes_display_name_and_is_seen_at_once(client: httpx.AsyncClient) -> None:
    session = await register(client)
    await client.get("/api/v1/users/me", headers=bearer(session))  # warm the cache
    response = await client.patch(
        "/api/v1/users/me", json={"display_name": "  Neo  "}, headers=bearer(session)
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Neo"
    assert (await client.get("/api/v1/users/me", headers=bearer(session))).json()[
        "display_name"
    ] == "Neo"


async def test_patch_me_bad_input(client: httpx.AsyncClient) -> None:
    session = await register(client)
    for body in (
        {"display_name": ""},
        {"display_name": "x" * 101},
        {"display_name": 5},
        {"role": "admin"},
        [1],
    ):
        assert_error(
            await client.patch("/api/v1/users/me", json=body, headers=bearer(session)),
            422,
            "validation_error",
        )
    me = (await client.get("/api/v1/users/me", headers=bearer(session))).json()
    assert me["display_name"] == "Tester" and me["role"] == "user"


async def test_me_without_token_is_401(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/users/me"), 401, "not_authenticated")


async def test_me_answers_alike_from_the_cache_and_the_declared_way(
    client: httpx.AsyncClient,
) -> None:
    """The first read fills the instance's user cache (declared endpoint); later reads with
    a bearer token take ``MeRoute``'s shortcut: same status, headers and body."""
    session = await register(client, display_name="Cache")
    first = await client.get("/api/v1/users/me", headers=bearer(session))
    second = await client.get("/api/v1/users/me", headers=bearer(session))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["content-type"] == second.headers["content-type"] == "application/json"
    assert first.headers["content-length"] == second.headers["content-length"]
    forged = session["access_token"][:-2] + ("A" if session["access_token"][-2] != "A" else "B")
    assert_error(
        await client.get("/api/v1/users/me", headers=bearer({"access_token": forged})),
        401,
        "invalid_token",
    )


async def test_cached_me_answers_without_resolving_dependencies(
    app: Any, client: httpx.AsyncClient
) -> None:
    """Once this instance holds the user, ``GET /me`` is answered by the route's shortcut:
    the declared dependencies are not even resolved (here they would fail)."""
    session = await register(client, display_name="Fast")
    declared = await client.get("/api/v1/users/me", headers=bearer(session))  # fills the cache
    assert declared.status_code == 200

    async def unreachable() -> None:
        raise AssertionError("the declared dependencies were resolved")

    app.dependency_overrides[signed_in] = unreachable
    try:
        for _ in range(3):
            response = await client.get("/api/v1/users/me", headers=bearer(session))
            assert response.status_code == 200
            assert response.content == declared.content
        client.cookies.clear()
        # Anything the shortcut does not answer goes the declared way (which now fails).
        with pytest.raises(AssertionError, match="declared dependencies"):
            await client.get("/api/v1/users/me")
    finally:
        app.dependency_overrides.clear()
