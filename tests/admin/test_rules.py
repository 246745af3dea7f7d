"""What admins may do beyond the basics: never lose the last admin, manage a user's
sessions, read the audit log; and what a disable does to public lists."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import httpx
import pytest

from tests.support.api import ME, PASSWORD, TEST_SECRET, assert_error, bearer, register
from tests.support.app import make_admin
from tests.support.tokens import forge

ADMIN = "/api/v1/admin"


async def demote(client: httpx.AsyncClient, user_id: str, by: dict[str, Any]) -> httpx.Response:
    return await client.patch(f"{ADMIN}/users/{user_id}", json={"role": "user"}, headers=bearer(by))


async def test_the_last_admin_stays(app: Any, client: httpx.AsyncClient) -> None:
    only = await make_admin(app, client)
    me = only["user"]["id"]
    for body in ({"role": "user"}, {"disabled": True}):
        response = await client.patch(f"{ADMIN}/users/{me}", json=body, headers=bearer(only))
        assert_error(response, 409, "conflict")
    assert_error(await client.delete(f"{ADMIN}/users/{me}", headers=bearer(only)), 409, "conflict")
    # With a second admin, the first may step down.
    second = await make_admin(app, client)
    response = await client.patch(
        f"{ADMIN}/users/{me}", json={"role": "user"}, headers=bearer(second)
    )
    assert response.status_code == 200 and response.json()["role"] == "user"
    response = await client.patch(
        f"{ADMIN}/users/{second['user']['id']}", json={"role": "user"}, headers=bearer(second)
    )
    assert_error(response, 409, "conflict")


async def test_two_admins_demoting_each_other_at_once_keep_one(
    app: Any, client: httpx.AsyncClient
) -> None:
    one, two = await make_admin(app, client), await make_admin(app, client)
    results = await asyncio.gather(
        client.patch(
            f"{ADMIN}/users/{two['user']['id']}", json={"role": "user"}, headers=bearer(one)
        ),
        client.patch(
            f"{ADMIN}/users/{one['user']['id']}", json={"role": "user"}, headers=bearer(two)
        ),
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses in ([200, 409], [200, 401]), [r.text for r in results]
    admins = 0  # the one left may be either
    for session in (one, two):
        me = await client.post(
            "/api/v1/auth/login", json={"email": session["user"]["email"], "password": PASSWORD}
        )
        admins += me.json()["user"]["role"] == "admin"
    assert admins == 1


async def test_admins_see_and_end_a_users_sessions(app: Any, client: httpx.AsyncClient) -> None:
    admin = await make_admin(app, client)
    user = await register(client, email="sessions@example.com")
    second = (
        await client.post(
            "/api/v1/auth/login", json={"email": "sessions@example.com", "password": PASSWORD}
        )
    ).json()
    path = f"{ADMIN}/users/{user['user']['id']}/sessions"
    listed = (await client.get(path, headers=bearer(admin))).json()
    assert len(listed) == 2 and {"id", "created_at", "last_used_at", "ip"} <= set(listed[0])
    sid = json.loads(base64.urlsafe_b64decode(second["access_token"].split(".")[1] + "=="))["sid"]
    assert (await client.delete(f"{path}/{sid}", headers=bearer(admin))).status_code == 204
    assert_error(await client.get(ME, headers=bearer(second)), 401, "invalid_token")
    assert (await client.get(ME, headers=bearer(user))).status_code == 200
    assert_error(await client.delete(f"{path}/{sid}", headers=bearer(admin)), 404, "not_found")
    # Another user's session id under this user: not found.
    other = await register(client)
    other_path = f"{ADMIN}/users/{other['user']['id']}/sessions"
    assert_error(
        await client.delete(f"{other_path}/{sid}", headers=bearer(admin)), 404, "not_found"
    )
    assert_error(
        await client.get(f"{ADMIN}/users/nobody/sessions", headers=bearer(admin)), 404, "not_found"
    )
    assert_error(await client.get(path, headers=bearer(user)), 403, "forbidden")


async def test_a_disabled_users_public_lists_are_not_served(
    app: Any, client: httpx.AsyncClient
) -> None:
    admin = await make_admin(app, client)
    owner = await register(client)
    await client.post(
        f"{ME}/lists", json={"title": "Shared", "is_public": True}, headers=bearer(owner)
    )
    path = f"/api/v1/users/{owner['user']['id']}/lists/shared/items"
    client.cookies.clear()
    assert (await client.get(path)).status_code == 200
    assert (await client.get(path)).status_code == 200  # cached now
    await client.patch(
        f"{ADMIN}/users/{owner['user']['id']}", json={"disabled": True}, headers=bearer(admin)
    )
    assert_error(await client.get(path), 404, "not_found")
    await client.patch(
        f"{ADMIN}/users/{owner['user']['id']}", json={"disabled": False}, headers=bearer(admin)
    )
    assert (await client.get(path)).status_code == 200


async def test_a_forged_admin_token_is_refused(client: httpx.AsyncClient) -> None:
    user = await register(client)
    payload = json.loads(base64.urlsafe_b64decode(user["access_token"].split(".")[1] + "=="))
    escalated = {**payload, "role": "admin"}
    wrong_key = forge(escalated, secret=b"not the server's secret " + b"x" * 20)
    response = await client.get(f"{ADMIN}/users", headers={"Authorization": f"Bearer {wrong_key}"})
    assert_error(response, 401, "invalid_token")
    assert TEST_SECRET  # the right key would sign it: only the server holds it


async def test_the_audit_log_records_who_did_what(app: Any, client: httpx.AsyncClient) -> None:
    admin = await make_admin(app, client)
    user = await register(client, email="audited@example.com")
    await client.post(
        "/api/v1/auth/login",
        json={"email": "audited@example.com", "password": "wrong one!"},
        headers={"User-Agent": "probe/1"},
    )
    await client.post("/api/v1/auth/logout", headers=bearer(user))
    await client.patch(
        f"{ADMIN}/users/{user['user']['id']}", json={"disabled": True}, headers=bearer(admin)
    )
    page = (
        await client.get(
            f"{ADMIN}/audit", params={"user_id": user["user"]["id"]}, headers=bearer(admin)
        )
    ).json()
    events = [e["event"] for e in page["items"]]
    assert events == ["disabled", "signed_out", "sign_in_failed", "registered"]  # newest first
    disabled, _, failed, registered = page["items"]
    assert disabled["actor_id"] == admin["user"]["id"]
    assert failed["user_agent"] == "probe/1" and failed["detail"] == {"reason": "wrong_password"}
    assert registered["ip"] == "203.0.113.7"
    assert "audited@example.com" not in json.dumps(page)
    # Paging and filters.
    first = (
        await client.get(
            f"{ADMIN}/audit",
            params={"user_id": user["user"]["id"], "limit": 2},
            headers=bearer(admin),
        )
    ).json()
    rest = (
        await client.get(
            f"{ADMIN}/audit",
            params={"user_id": user["user"]["id"], "cursor": first["next_cursor"]},
            headers=bearer(admin),
        )
    ).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in page["items"]]
    only = (
        await client.get(f"{ADMIN}/audit", params={"event": "disabled"}, headers=bearer(admin))
    ).json()
    assert [e["event"] for e in only["items"]] == ["disabled"]


async def test_users_read_their_own_audit_log(client: httpx.AsyncClient) -> None:
    user = await register(client)
    other = await register(client)
    mine = (await client.get(f"{ME}/audit", headers=bearer(user))).json()
    assert [e["event"] for e in mine["items"]] == ["registered"]
    assert all(e["user_id"] == user["user"]["id"] for e in mine["items"])
    assert other["user"]["id"] not in json.dumps(mine)


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "garbage"},
        {"cursor": "x" * 300},
        {"limit": 0},
        {"limit": 101},
        {"event": "no_such_event"},
        {"user_id": "bad id!"},
    ],
)
async def test_audit_bad_input(app: Any, client: httpx.AsyncClient, params: dict[str, Any]) -> None:
    admin = await make_admin(app, client)
    response = await client.get(f"{ADMIN}/audit", params=params, headers=bearer(admin))
    assert_error(response, 422, "validation_error")
    if "event" not in params and "user_id" not in params:
        mine = await client.get(f"{ME}/audit", params=params, headers=bearer(admin))
        assert_error(mine, 422, "validation_error")


async def test_old_audit_events_are_pruned(app: Any, client: httpx.AsyncClient) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from maria.audit.models import AuditEvent
    from maria.db import utcnow
    from tests.support.app import transaction

    user = await register(client)
    async with transaction(app) as db:
        await db.execute(update(AuditEvent).values(at=utcnow() - timedelta(days=91)))
    await client.post("/api/v1/auth/logout", headers=bearer(user))
    assert await app.state.services.audit.prune() >= 1
    again = await register(client)
    events = (await client.get(f"{ME}/audit", headers=bearer(again))).json()["items"]
    assert [e["event"] for e in events] == ["registered"]
    assert time.time()
