from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import PASSWORD, assert_error, bearer, register
from tests.support.app import make_admin


async def test_non_admin_gets_403(client: httpx.AsyncClient) -> None:
    user = await register(client)
    for method, path in (
        ("GET", "/api/v1/admin/users"),
        ("GET", f"/api/v1/admin/users/{user['user']['id']}"),
        ("PATCH", f"/api/v1/admin/users/{user['user']['id']}"),
        ("DELETE", f"/api/v1/admin/users/{user['user']['id']}"),
    ):
        response = await client.request(method, path, json={}, headers=bearer(user))
        assert_error(response, 403, "forbidden")
    client.cookies.clear()  # registering set session cookies; go without any credentials
    assert_error(await client.get("/api/v1/admin/users"), 401, "not_authenticated")


async def test_disable_revokes_sessions_at_once(app: Any, client: httpx.AsyncClient) -> None:
    admin = await make_admin(app, client)
    victim = await register(client)
    victim_id = victim["user"]["id"]
    assert (await client.get("/api/v1/users/me", headers=bearer(victim))).status_code == 200

    response = await client.patch(
        f"/api/v1/admin/users/{victim_id}", json={"disabled": True}, headers=bearer(admin)
    )
    assert response.status_code == 200
    assert response.json()["disabled"] is True
    assert_error(await client.get("/api/v1/users/me", headers=bearer(victim)), 401, "invalid_token")
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]}
    )
    assert_error(refresh, 401, "invalid_token")
    login = await client.post(
        "/api/v1/auth/login", json={"email": victim["user"]["email"], "password": PASSWORD}
    )
    assert_error(login, 403, "forbidden")

    await client.patch(
        f"/api/v1/admin/users/{victim_id}", json={"disabled": False}, headers=bearer(admin)
    )
    login = await client.post(
        "/api/v1/auth/login", json={"email": victim["user"]["email"], "password": PASSWORD}
    )
    assert login.status_code == 200


async def test_role_change_ends_old_tokens(app: Any, client: httpx.AsyncClient) -> None:
    admin = await make_admin(app, client)
    other = await make_admin(app, client)
    response = await client.patch(
        f"/api/v1/admin/users/{other['user']['id']}", json={"role": "user"}, headers=bearer(admin)
    )
    assert response.json()["role"] == "user"
    # The demoted admin's token carried role=admin: it must not keep working.
    assert_error(
        await client.get("/api/v1/admin/users", headers=bearer(other)), 401, "invalid_token"
    )


async def test_list_search_and_paginate(app: Any, client: httpx.AsyncClient) -> None:
    admin = await make_admin(app, client)
    for i in range(5):
        await register(client, email=f"pager{i}@example.com", display_name=f"Pager {i}")
    await register(client, email="100%_odd@example.com", display_name="Odd")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"query": "pager", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (
            await client.get("/api/v1/admin/users", params=params, headers=bearer(admin))
        ).json()
        seen += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"pager{i}@example.com" for i in range(5)]
    # LIKE wildcards in the query are literal characters.
    odd = await client.get("/api/v1/admin/users", params={"query": "%_"}, headers=bearer(admin))
    assert [u["email"] for u in odd.json()["items"]] == ["100%_odd@example.com"]


async def test_delete_user(app: Any, client: httpx.AsyncClient) -> None:
    admin = await make_admin(app, client)
    victim = await register(client)
    path = f"/api/v1/admin/users/{victim['user']['id']}"
    assert (await client.delete(path, headers=bearer(admin))).status_code == 204
    assert_error(await client.get(path, headers=bearer(admin)), 404, "not_found")
    assert_error(await client.get("/api/v1/users/me", headers=bearer(victim)), 401, "invalid_token")
    assert_error(await client.delete(path, headers=bearer(admin)), 404, "not_found")


async def test_admin_bad_input(app: Any, client: httpx.AsyncClient) -> None:
    admin = await make_admin(app, client)
    user = await register(client)
    path = f"/api/v1/admin/users/{user['user']['id']}"
    for body in ({"role": "root"}, {"disabled": "maybe"}, {"email": "x@y.z"}, [1]):
        assert_error(
            await client.patch(path, json=body, headers=bearer(admin)), 422, "validation_error"
        )
    for params in (
        {"limit": 0},
        {"limit": 101},
        {"limit": "x"},
        {"cursor": "%%%"},
        {"cursor": "bm9wZQ"},
    ):
        response = await client.get("/api/v1/admin/users", params=params, headers=bearer(admin))
        assert_error(response, 422, "validation_error")
    assert_error(
        await client.get("/api/v1/admin/users/" + "x" * 65, headers=bearer(admin)),
        422,
        "validation_error",
    )
    assert_error(
        await client.get("/api/v1/admin/users/nope", headers=bearer(admin)), 404, "not_found"
    )
